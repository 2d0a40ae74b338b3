"""The emulator's own API under ``/_emulator/``: health, reset, clock, and change stream."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator import __version__
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.errors import BadBody, EmulatorError, FieldError, Invalid
from emulator.http import JSONResponse, error_response, read_body
from emulator.repository import Repository
from emulator.timestamps import format_timestamp
from emulator.validation import opt_str, parse_json_object


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
        advance_hook: Any = None,
    ) -> None:
        self.repo = repository
        self.clock = clock
        self.config = config
        # Awaited after the clock moves, so the response comes once due work has run.
        self.advance_hook = advance_hook

    def clock_body(self) -> dict[str, Any]:
        now = self.clock.now()
        return {"now": format_timestamp(now), "unix": now, "time_scale": self.clock.time_scale}

    def routes(self) -> list[Route]:
        async def health(request: Request) -> Response:
            return JSONResponse(
                {
                    "status": "ok",
                    "version": __version__,
                    "in_memory": self.config.in_memory,
                    "data_dir": None if self.config.data_dir is None else str(self.config.data_dir),
                    "clock": self.clock_body(),
                }
            )

        async def reset(request: Request) -> Response:
            try:
                body = parse_json_object(
                    await read_body(request, self.config.max_body_bytes), allow_empty=True
                )
                api_key = opt_str(body, "api_key")
            except EmulatorError as error:
                return error_response(error)
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
            try:
                body = parse_json_object(
                    await read_body(request, self.config.max_body_bytes), allow_empty=True
                )
                self._apply_clock(body)
            except EmulatorError as error:
                return error_response(error)
            if self.advance_hook is not None:
                await self.advance_hook()
            return JSONResponse(self.clock_body())

        return [
            Route("/_emulator/health", health, methods=["GET"]),
            Route("/_emulator/reset", reset, methods=["POST"]),
            Route("/_emulator/clock", get_clock, methods=["GET"]),
            Route("/_emulator/clock", set_clock, methods=["POST"]),
        ]

    def _apply_clock(self, body: dict[str, Any]) -> None:
        advance = body.get("advance")
        scale = body.get("time_scale")
        errors: list[FieldError] = []
        seconds = 0.0
        if advance is not None:
            if isinstance(advance, bool):
                raise BadBody(field="advance")
            if isinstance(advance, (int, float)):
                seconds = float(advance)
            elif isinstance(advance, str):
                try:
                    seconds = parse_duration(advance)
                except ValueError:
                    errors.append(FieldError("advance", "advance must be seconds or like 30m"))
            else:
                raise BadBody(field="advance")
            if seconds < 0:
                errors.append(FieldError("advance", "the clock only moves forward"))
        if scale is not None:
            if isinstance(scale, bool) or not isinstance(scale, (int, float)):
                raise BadBody(field="time_scale")
            if not 0 < scale <= 1000:
                errors.append(FieldError("time_scale", "time_scale must be > 0 and <= 1000"))
        if errors:
            raise Invalid(errors)
        if scale is not None:
            self.clock.set_time_scale(float(scale))
        if seconds:
            self.clock.advance(seconds)
