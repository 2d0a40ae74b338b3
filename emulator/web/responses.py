"""Answers: JSON with production's content type, and the one place an error becomes a response
(production's status and body, the error's hint in a header and on the console)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator.errors import EmulatorError

JSON_TYPE = "application/json; charset=utf-8"
HINT_HEADER = "X-Emulator-Hint"
MAX_HINT_LENGTH = 512
MAX_LOGGED_PATH = 200

# One WARNING line per error answer, for the console of `serve` (its default level shows it).
hint_log = logging.getLogger("emulator.hints")


class JSONResponse(Response):
    """orjson-encoded JSON with production's content type."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def one_line(text: str, limit: int = MAX_HINT_LENGTH) -> str:
    """``text`` as one line of printable ASCII, at most ``limit`` characters: anything else is
    escaped as Python writes it (``\\n``, ``\\xe9``), so a header or log line can carry it."""
    escaped = "".join(
        char if " " <= char <= "~" else char.encode("unicode_escape").decode("ascii")
        for char in text
    ).strip()
    if len(escaped) > limit:
        escaped = escaped[: limit - 3].rstrip() + "..."
    return escaped


def error_response(
    error: EmulatorError, request: Request, headers: dict[str, str] | None = None
) -> Response:
    """Production's status and body for ``error``; its hint in the ``X-Emulator-Hint`` header
    and, unless the app's log level hides it, one console line."""
    hint = one_line(error.hint)
    headers = dict(headers or {})
    if hint:
        headers[HINT_HEADER] = hint
        if getattr(request.app.state, "log_hints", True):
            path = one_line(request.url.path, MAX_LOGGED_PATH)
            hint_log.warning("%d %s %s: %s", error.status_code, request.method, path, hint)
    body = error.http_body()
    if body is None:
        return Response(status_code=error.status_code, headers=headers)
    return JSONResponse(body, status_code=error.status_code, headers=headers)
