"""The emulator's own API under ``/_emulator/``: health, reset, clock, environments, attempt
details and the change stream; ``ROUTES`` is its route table."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from emulator.admin import parse_clock_change
from emulator.bodies import opt_str
from emulator.errors import Invalid, Unauthorized
from emulator.seed import SeedError, apply_seed, parse_seed
from emulator.web.requests import bearer_key, emulator_of, json_body
from emulator.web.responses import JSONResponse, error_response

Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(handler: Endpoint) -> Endpoint:
    """With configured API keys, control routes need one of them too (health stays open)."""

    async def endpoint(request: Request) -> Response:
        keys = emulator_of(request).config.api_keys
        if keys:
            try:
                bearer_key(request, keys)
            except Unauthorized as error:
                return error_response(error, request)
        return await handler(request)

    return endpoint


async def health(request: Request) -> Response:
    return JSONResponse(emulator_of(request).admin.health())


async def reset(request: Request) -> Response:
    api_key = opt_str(await json_body(request, allow_empty=True), "api_key")
    await emulator_of(request).admin.reset(api_key)
    return Response(status_code=204)


async def get_clock(request: Request) -> Response:
    return JSONResponse(emulator_of(request).admin.clock_state())


async def set_clock(request: Request) -> Response:
    change = parse_clock_change(await json_body(request, allow_empty=True))
    admin = emulator_of(request).admin
    settled = await admin.change_clock(change)
    return JSONResponse({**admin.clock_state(), "settled": settled})


async def environments(request: Request) -> Response:
    return JSONResponse({"data": emulator_of(request).admin.environments()})


async def seed(request: Request) -> Response:
    """Apply a seed document (``emulator.seed``); ``?api_key=`` puts its applications into that
    one environment instead of the ones it names."""
    try:
        parsed = parse_seed(await json_body(request))
    except SeedError as error:
        raise Invalid.one(error.path or "body", error.problem) from None
    api_key = request.query_params.get("api_key") or None
    report = await apply_seed(emulator_of(request).service, parsed, api_key)
    counts = {action: report.count(action) for action in ("created", "updated", "unchanged")}
    changes = [{"action": action, "what": what} for action, what in report.changes]
    return JSONResponse({**counts, "changes": changes})


async def get_chaos(request: Request) -> Response:
    return JSONResponse(emulator_of(request).admin.chaos_state())


async def set_chaos(request: Request) -> Response:
    return JSONResponse(emulator_of(request).admin.set_chaos(await json_body(request)))


async def attempt_detail(request: Request) -> Response:
    admin = emulator_of(request).admin
    return JSONResponse(admin.attempt_detail(request.path_params["attempt_id"]))


async def stream(request: Request) -> Response:
    """Server-sent events: one per stored change (of one API key's environment if given)."""
    changes = emulator_of(request).admin.changes(request.query_params.get("api_key"))

    async def events() -> AsyncIterator[bytes]:
        async with contextlib.aclosing(changes):
            yield b"retry: 1000\n: connected\n\n"
            async for change in changes:
                if change is None:
                    yield b": ping\n\n"
                    continue
                data = orjson.dumps(
                    {
                        "kind": change.kind,
                        "action": change.action,
                        "env": change.env,
                        "data": change.data,
                    }
                )
                yield (
                    f"id: {change.id}\nevent: {change.kind}.{change.action}\n".encode()
                    + b"data: "
                    + data
                    + b"\n\n"
                )

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


ROUTES = [
    Route("/_emulator/health", health, methods=["GET"]),
    Route("/_emulator/reset", guarded(reset), methods=["POST"]),
    Route("/_emulator/clock", guarded(get_clock), methods=["GET"]),
    Route("/_emulator/clock", guarded(set_clock), methods=["POST"]),
    Route("/_emulator/environments", guarded(environments), methods=["GET"]),
    Route("/_emulator/seed", guarded(seed), methods=["POST"]),
    Route("/_emulator/chaos", guarded(get_chaos), methods=["GET"]),
    Route("/_emulator/chaos", guarded(set_chaos), methods=["POST"]),
    Route("/_emulator/attempts/{attempt_id}", guarded(attempt_detail), methods=["GET"]),
    Route("/_emulator/stream", guarded(stream), methods=["GET"]),
]
