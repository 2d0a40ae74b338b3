"""HTTP plumbing shared by the API and control routes: JSON responses, bodies, errors."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator.errors import EmulatorError, PayloadTooLarge, Unauthorized

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
    """The one place an error becomes a response: production's status and body, and the
    error's hint in the ``X-Emulator-Hint`` header and the console."""
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


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes (413) without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def bearer_key(request: Request, allowed: frozenset[str]) -> str:
    """The request's API key, or Unauthorized saying what is wrong (never echoing a key)."""
    send = f"send `Authorization: Bearer <{'a configured key' if allowed else 'any key'}>`"
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized(f"no Authorization header; {send}")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise Unauthorized(f"Authorization scheme must be Bearer; {send}")
    if not token:
        raise Unauthorized(f"no key after `Bearer`; {send}")
    if allowed and token not in allowed:
        raise Unauthorized(
            "key not configured: this emulator accepts only the keys it was started with "
            "(serve --api-key ... or SIMPLYQ_EMULATOR_API_KEYS)"
        )
    return token
