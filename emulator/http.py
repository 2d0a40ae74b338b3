"""HTTP plumbing shared by the API and control routes: JSON responses, bodies, errors."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator.errors import EmulatorError, PayloadTooLarge, Unauthorized

JSON_TYPE = "application/json; charset=utf-8"


class JSONResponse(Response):
    """orjson-encoded JSON with production's content type."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(error: EmulatorError, headers: dict[str, str] | None = None) -> Response:
    """The one place an error becomes a response."""
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
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or (allowed and token not in allowed):
        raise Unauthorized()
    return token
