"""``create_app(config)``: the ASGI app of an emulator, serving the parts ``emulator.app.build``
wires together: the SimplyQ API, the control API, and storage and delivery started and stopped
by the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from emulator.app import Emulator, build
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.delivery import ClientFactory
from emulator.errors import EmulatorError, NotFound, Unroutable
from emulator.web import api, control
from emulator.web.responses import error_response
from emulator.web.ui import ui_routes

# serve's log levels at which the console shows a line per error answer (emulator.hints).
HINT_LOG_LEVELS = frozenset({"warning", "info", "debug", "trace"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    emulator = app.state.emulator
    assert isinstance(emulator, Emulator)
    emulator.repository.start()
    try:
        await emulator.load_seed()
    except BaseException:
        await emulator.repository.close()
        raise
    await emulator.delivery.start()
    try:
        yield
    finally:
        await emulator.delivery.stop()
        await emulator.repository.close()


async def http_error(request: Request, exc: Exception) -> Response:
    """The router's own refusals (no such route, a method the path does not take)."""
    assert isinstance(exc, HTTPException)
    route = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        return error_response(NotFound(hint=f"no route {route}"), request)
    allowed = (exc.headers or {}).get("Allow")
    hint = f"{route}: {exc.detail}" + (f"; this path takes {allowed}" if allowed else "")
    return error_response(Unroutable(exc.status_code, exc.detail, hint=hint), request)


async def emulator_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return error_response(exc, request)


def create_app(
    config: EmulatorConfig, clock: Clock | None = None, client_factory: ClientFactory | None = None
) -> Starlette:
    """The ASGI app of a new emulator (its parts at ``app.state.emulator``)."""
    app = Starlette(
        routes=[*api.ROUTES, *control.ROUTES, *ui_routes()],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            EmulatorError: emulator_error,
        },
    )
    app.state.emulator = build(config, clock, client_factory)
    app.state.log_hints = config.log_level.lower() in HINT_LOG_LEVELS
    return app
