"""``create_app(config)``: the one place that wires the layers together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.control import Control
from emulator.delivery import ClientFactory, DeliveryEngine
from emulator.errors import EmulatorError, NotFound
from emulator.http import JSONResponse, error_response
from emulator.repository import Repository, StorageFailed
from emulator.routes import Api
from emulator.service import Service
from emulator.ui import ui_routes


@dataclass
class Emulator:
    """The parts of one running emulator, reachable from ``app.state.emulator``."""

    config: EmulatorConfig
    clock: Clock
    repository: Repository
    service: Service
    delivery: DeliveryEngine


def build(
    config: EmulatorConfig, clock: Clock | None = None, client_factory: ClientFactory | None = None
) -> Emulator:
    """Create (and load) the parts without starting anything."""
    clock = clock or Clock(config.time_scale)
    repository = Repository(config.data_dir, durable=config.durable)
    service = Service(repository, clock, config.rotation_grace_seconds)
    delivery = DeliveryEngine(repository, service, clock, config, client_factory)
    return Emulator(config, clock, repository, service, delivery)


def create_app(
    config: EmulatorConfig, clock: Clock | None = None, client_factory: ClientFactory | None = None
) -> Starlette:
    """The ASGI app of an emulator: SimplyQ API, control API, storage and delivery engine,
    the last two started and stopped by the lifespan."""
    emulator = build(config, clock, client_factory)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        emulator.repository.start()
        await emulator.delivery.start()
        try:
            yield
        finally:
            await emulator.delivery.stop()
            await emulator.repository.close()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(NotFound())
        return JSONResponse({"error": exc.detail, "code": exc.status_code}, exc.status_code)

    async def storage_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"storage failed: {exc}", "code": 503}, 503)

    async def emulator_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EmulatorError)
        return error_response(exc)

    api = Api(emulator.service, config)
    control = Control(emulator.repository, emulator.clock, config, emulator.delivery)
    app = Starlette(
        routes=[*api.routes(), *control.routes(), *ui_routes()],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            StorageFailed: storage_error,
            EmulatorError: emulator_error,
        },
    )
    app.state.emulator = emulator
    return app
