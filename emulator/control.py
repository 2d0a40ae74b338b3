"""The emulator's own API under ``/_emulator/``: health, reset, clock, and change stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from emulator import __version__
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.delivery import DeliveryEngine
from emulator.errors import BadBody, Invalid, NotFound, Unauthorized
from emulator.http import JSONResponse, bearer_key, error_response, read_body
from emulator.repository import Repository, environment_key
from emulator.timestamps import format_optional, format_timestamp
from emulator.validation import opt_str, parse_json_object

Handler = Callable[[Request], Awaitable[Response]]
SETTLE_TIMEOUT = 10.0
HEARTBEAT_SECONDS = 15.0
MAX_IDLE_STEPS = 10_000
# Timestamps are formatted with ``datetime`` (years up to 9999) and uids carry the creation
# second in 6 base62 digits (up to December 3769): the clock must stay well below, or every
# answer that shows a time, and every create, fails. Hence a floor on the time scale (at 1e-6, a
# real second is 11.6 emulated days) and a ceiling on where the clock may be moved (a retry is
# due at most 365 days after its failure, so it stays below both too).
MIN_TIME_SCALE = 1e-6
MAX_TIME_SCALE = 1000
MAX_CLOCK = 54_593_568_000.0  # 3700-01-01T00:00:00Z


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``2h``, ``1d`` or ``1h30m``; ValueError otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    if not value:
        raise ValueError("empty duration")
    try:
        return float(value)
    except ValueError:
        pass
    total, number = 0.0, ""
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise ValueError(f"not a duration: {text!r}")
    if number:
        raise ValueError(f"not a duration: {text!r}")
    return total


class Control:
    """Builds the ``/_emulator/`` routes."""

    def __init__(
        self,
        repository: Repository,
        clock: Clock,
        config: EmulatorConfig,
        delivery: DeliveryEngine,
    ) -> None:
        self.repo = repository
        self.clock = clock
        self.config = config
        self.delivery = delivery

    def clock_body(self) -> dict[str, Any]:
        now = self.clock.now()
        due = self.delivery.next_due()
        return {
            "now": format_timestamp(now),
            "unix": now,
            "time_scale": self.clock.time_scale,
            "next_due": format_optional(due),
            "next_due_unix": due,
        }

    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await read_body(request, self.config.max_body_bytes)
        return parse_json_object(raw, allow_empty=True)

    def routes(self) -> list[Route]:
        async def health(request: Request) -> Response:
            return JSONResponse(
                {
                    "status": "ok",
                    "version": __version__,
                    "in_memory": self.config.in_memory,
                    "data_dir": None if self.config.data_dir is None else str(self.config.data_dir),
                    "clock": self.clock_body(),
                    "counts": {
                        "environments": len(self.repo.environments.by_key),
                        "applications": len(self.repo.applications.by_key),
                        "endpoints": len(self.repo.endpoints.by_key),
                        "events": len(self.repo.events.by_key),
                        "attempts": len(self.repo.attempts.by_key),
                    },
                    "deliveries": self.delivery.delivered,
                }
            )

        async def reset(request: Request) -> Response:
            body = await self._body(request)
            api_key = opt_str(body, "api_key")
            if api_key is not None:
                env = self.repo.find_environment(api_key)
                if env is not None:
                    self.repo.reset(env)
            else:
                self.repo.reset()
            await self.repo.commit()
            return Response(status_code=204)

        async def get_clock(request: Request) -> Response:
            return JSONResponse(self.clock_body())

        async def set_clock(request: Request) -> Response:
            body = await self._body(request)
            settled = await self._apply_clock(body)
            return JSONResponse({**self.clock_body(), "settled": settled})

        async def environments(request: Request) -> Response:
            data = [
                {
                    "id": env.key,
                    "api_key": env.api_key,
                    "created_at": format_timestamp(env.created_at),
                    "applications": [a.uid for a in self.repo.apps_of_env.get(env.key, ())],
                }
                for env in sorted(self.repo.environments.by_key.values(), key=lambda e: e.seq)
            ]
            return JSONResponse({"data": data})

        async def attempt_detail(request: Request) -> Response:
            attempt_id = request.path_params["attempt_id"]
            attempt = self.repo.attempts.by_key.get(attempt_id)
            if attempt is None:
                raise NotFound(hint=f"no delivery attempt `{attempt_id}`")
            event = self.repo.events.by_key.get(attempt.event)
            app = self.repo.applications.by_key.get(attempt.app)
            return JSONResponse(
                {
                    **attempt.to_detail(),
                    "app_id": app.uid if app else None,
                    "payload": event.payload if event else None,
                }
            )

        async def stream(request: Request) -> Response:
            api_key = request.query_params.get("api_key")
            env_filter = None
            if api_key:
                env = self.repo.find_environment(api_key)
                env_filter = env.key if env else environment_key(api_key)
            subscription = self.repo.bus.subscribe()

            async def events() -> AsyncIterator[bytes]:
                try:
                    yield b"retry: 1000\n: connected\n\n"
                    quiet = 0.0
                    # Checks every second whether the server is stopping, so an open stream
                    # (a dashboard) never holds up a shutdown.
                    while not self.repo.bus.closed:
                        try:
                            change = await asyncio.wait_for(subscription.queue.get(), 1.0)
                        except asyncio.TimeoutError:
                            quiet += 1.0
                            if quiet >= HEARTBEAT_SECONDS:
                                quiet = 0.0
                                yield b": ping\n\n"
                            continue
                        quiet = 0.0
                        if env_filter is not None and change.env != env_filter:
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
                finally:
                    self.repo.bus.unsubscribe(subscription)

            return StreamingResponse(
                events(),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )

        guard = self._guard
        return [
            Route("/_emulator/health", health, methods=["GET"]),
            Route("/_emulator/reset", guard(reset), methods=["POST"]),
            Route("/_emulator/clock", guard(get_clock), methods=["GET"]),
            Route("/_emulator/clock", guard(set_clock), methods=["POST"]),
            Route("/_emulator/environments", guard(environments), methods=["GET"]),
            Route("/_emulator/attempts/{attempt_id}", guard(attempt_detail), methods=["GET"]),
            Route("/_emulator/stream", guard(stream), methods=["GET"]),
        ]

    def _guard(self, handler: Handler) -> Handler:
        """With configured API keys, control routes need one of them too (health stays open)."""
        if not self.config.api_keys:
            return handler

        async def guarded(request: Request) -> Response:
            try:
                bearer_key(request, self.config.api_keys)
            except Unauthorized as error:
                return error_response(error, request)
            return await handler(request)

        return guarded

    async def _apply_clock(self, body: dict[str, Any]) -> bool:
        """Apply a clock request; returns whether everything due was tried in time."""
        seconds = self._parse_advance(body.get("advance"))
        if seconds and self.clock.now() + seconds > MAX_CLOCK:
            raise Invalid.one("advance", "advance would move the clock past the year 3700")
        scale = body.get("time_scale")
        if scale is not None:
            if isinstance(scale, bool) or not isinstance(scale, (int, float)):
                raise BadBody.wrong_type("time_scale", "a number", scale)
            if not MIN_TIME_SCALE <= scale <= MAX_TIME_SCALE:
                raise Invalid.one(
                    "time_scale",
                    f"time_scale must be from {MIN_TIME_SCALE:g} to {MAX_TIME_SCALE:g}",
                )
        flags = {name: body.get(name) for name in ("to_next_due", "run_until_idle", "settle")}
        for name, value in flags.items():
            if value is not None and not isinstance(value, bool):
                raise BadBody.wrong_type(name, "true or false", value)
        wait = opt_number(body, "timeout") or SETTLE_TIMEOUT
        if scale is not None:
            self.clock.set_time_scale(float(scale))
        if seconds:
            self.clock.advance(seconds)
        if flags["to_next_due"]:
            await self.delivery.settle(wait)
            due = self.delivery.next_due()
            if due is not None and self.clock.now() < due <= MAX_CLOCK:
                self.clock.advance(due - self.clock.now())
        if flags["run_until_idle"]:
            return await self._run_until_idle(wait)
        if flags["settle"] is False:
            return not self.delivery.busy()
        return await self.delivery.settle(wait)

    async def _run_until_idle(self, timeout: float) -> bool:
        """Advance to each next due try and let it run, until nothing is scheduled."""
        deadline = time.monotonic() + timeout
        for _ in range(MAX_IDLE_STEPS):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.delivery.settle(remaining):
                return False
            due = self.delivery.next_due()
            if due is None:
                return True
            if due > MAX_CLOCK:
                return False  # the clock stops short of dates it could not show
            now = self.clock.now()
            if due > now:
                self.clock.advance(due - now)
        return False

    @staticmethod
    def _parse_advance(advance: object) -> float:
        if advance is None:
            return 0.0
        if isinstance(advance, bool) or not isinstance(advance, (int, float, str)):
            raise BadBody.wrong_type("advance", "seconds or a duration string", advance)
        if isinstance(advance, str):
            try:
                seconds = parse_duration(advance)
            except ValueError:
                raise Invalid.one(
                    "advance", "advance must be seconds or a duration like 1h30m"
                ) from None
        else:
            seconds = float(advance)
        if seconds < 0 or seconds != seconds or seconds > 100 * 365 * 86400:
            raise Invalid.one("advance", "advance must be between 0 and 100 years")
        return seconds


def opt_number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 600:
        raise Invalid.one(name, f"{name} must be a number of seconds, more than 0 and at most 600")
    return float(value)
