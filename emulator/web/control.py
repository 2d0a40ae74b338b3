"""The emulator's own API under ``/_emulator/``: health, reset, clock, environments, attempt
details and the change stream; ``ROUTES`` is its route table. Each handler asks
``emulator.access.decide`` what its caller may reach before doing anything."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from emulator.access import Action, Caller, admit, decide, identify
from emulator.admin import parse_clock_change
from emulator.bodies import opt_str
from emulator.errors import Invalid
from emulator.seed import SeedError, apply_seed, parse_seed
from emulator.web.requests import bearer_key, emulator_of, header, json_body
from emulator.web.responses import JSONResponse

Endpoint = Callable[[Request], Awaitable[Response]]


def caller_of(request: Request) -> Caller:
    """Who sent a control request (a 401 for a malformed header or an unknown key)."""
    config = emulator_of(request).config
    token = None
    if config.api_keys and header(request, b"authorization") is not None:
        admin = frozenset({config.admin_key} if config.admin_key else ())
        token = bearer_key(request, config.api_keys | admin)
    return identify(token, config.api_keys, config.admin_key)


async def health(request: Request) -> Response:
    scope = decide(Action.HEALTH, caller_of(request))
    admin = emulator_of(request).admin
    return JSONResponse(admin.status() if scope.minimal else admin.health(scope.api_key))


async def reset(request: Request) -> Response:
    caller = caller_of(request)
    admit(Action.RESET, caller)
    target = opt_str(await json_body(request, allow_empty=True), "api_key")
    scope = decide(Action.RESET, caller, target)
    await emulator_of(request).admin.reset(scope.api_key)
    return Response(status_code=204)


async def get_clock(request: Request) -> Response:
    scope = decide(Action.CLOCK_READ, caller_of(request))
    return JSONResponse(emulator_of(request).admin.clock_state(scope.api_key))


async def set_clock(request: Request) -> Response:
    caller = caller_of(request)
    admit(Action.CLOCK_SETTLE, caller)
    change = parse_clock_change(await json_body(request, allow_empty=True))
    scope = decide(Action.CLOCK_CHANGE if change.moves_clock else Action.CLOCK_SETTLE, caller)
    admin = emulator_of(request).admin
    settled = await admin.change_clock(change)
    return JSONResponse({**admin.clock_state(scope.api_key), "settled": settled})


async def environments(request: Request) -> Response:
    scope = decide(Action.ENVIRONMENTS, caller_of(request))
    return JSONResponse({"data": emulator_of(request).admin.environments(scope.api_key)})


async def seed(request: Request) -> Response:
    """Apply a seed document (``emulator.seed``); ``?api_key=`` puts its applications into that
    one environment instead of the ones it names."""
    caller = caller_of(request)
    admit(Action.SEED, caller)
    target = request.query_params.get("api_key") or None
    scope = decide(Action.SEED, caller, target)
    try:
        parsed = parse_seed(await json_body(request))
    except SeedError as error:
        raise Invalid.one(error.path or "body", error.problem) from None
    report = await apply_seed(emulator_of(request).service, parsed, scope.api_key)
    counts = {action: report.count(action) for action in ("created", "updated", "unchanged")}
    changes = [{"action": action, "what": what} for action, what in report.changes]
    return JSONResponse({**counts, "changes": changes})


async def get_chaos(request: Request) -> Response:
    caller = caller_of(request)
    scope = decide(Action.CHAOS, caller, caller.api_key)
    return JSONResponse(emulator_of(request).admin.chaos_state(scope.api_key))


async def set_chaos(request: Request) -> Response:
    caller = caller_of(request)
    admit(Action.CHAOS, caller)
    body = await json_body(request)
    target = body.get("api_key")
    decide(Action.CHAOS, caller, target if isinstance(target, str) else None)
    return JSONResponse(emulator_of(request).admin.set_chaos(body))


async def attempt_detail(request: Request) -> Response:
    scope = decide(Action.ATTEMPT, caller_of(request))
    admin = emulator_of(request).admin
    return JSONResponse(admin.attempt_detail(request.path_params["attempt_id"], scope.api_key))


async def stream(request: Request) -> Response:
    """Server-sent events: one per stored change (of one API key's environment if given)."""
    target = request.query_params.get("api_key") or None
    scope = decide(Action.STREAM, caller_of(request), target)
    changes = emulator_of(request).admin.changes(scope.api_key)

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
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/clock", get_clock, methods=["GET"]),
    Route("/_emulator/clock", set_clock, methods=["POST"]),
    Route("/_emulator/environments", environments, methods=["GET"]),
    Route("/_emulator/seed", seed, methods=["POST"]),
    Route("/_emulator/chaos", get_chaos, methods=["GET"]),
    Route("/_emulator/chaos", set_chaos, methods=["POST"]),
    Route("/_emulator/attempts/{attempt_id}", attempt_detail, methods=["GET"]),
    Route("/_emulator/stream", stream, methods=["GET"]),
]
