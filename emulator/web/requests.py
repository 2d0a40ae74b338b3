"""Reading a request: the emulator it reached, its API key, its body and its query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import ClientDisconnect, Request

from emulator.app import Emulator
from emulator.bodies import parse_json_object
from emulator.errors import PayloadTooLarge, Unauthorized


def emulator_of(request: Request) -> Emulator:
    """The parts of the emulator serving ``request`` (``app.state.emulator``)."""
    emulator = request.app.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator


def header(request: Request, name: bytes) -> str | None:
    """The first value of header ``name`` (in lower case, as ASGI gives names), or None.

    Straight from the ASGI scope: ``request.headers.get`` (a ``Headers`` mapping, and the
    key encoded on each call) took twice as long, for the two headers every publish reads."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes (413) without reading it all."""
    declared = header(request, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body larger than {limit} bytes")
    # The ASGI messages themselves, not ``request.stream()``: an async generator per request
    # (and its registration with the loop) was a third of reading a publish's body.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def json_body(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object (400 otherwise), within the configured size (413)."""
    raw = await read_body(request, emulator_of(request).config.max_body_bytes)
    return parse_json_object(raw, allow_empty=allow_empty)


def query_params(request: Request) -> dict[str, Sequence[str]]:
    """Every query parameter with all its values, in order."""
    params = request.query_params
    return {key: params.getlist(key) for key in params}


def bearer_key(request: Request, allowed: frozenset[str]) -> str:
    """The request's API key, or Unauthorized saying what is wrong (never echoing a key)."""
    authorization = header(request, b"authorization")
    if authorization is None:
        raise Unauthorized(f"no Authorization header; {_send_key(allowed)}")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise Unauthorized(f"Authorization scheme must be Bearer; {_send_key(allowed)}")
    if not token:
        raise Unauthorized(f"no key after `Bearer`; {_send_key(allowed)}")
    if allowed and token not in allowed:
        raise Unauthorized(
            "key not configured: this emulator accepts only the keys it was started with "
            "(serve --api-key ... or SIMPLYQ_EMULATOR_API_KEYS)"
        )
    return token


def _send_key(allowed: frozenset[str]) -> str:
    return f"send `Authorization: Bearer <{'a configured key' if allowed else 'any key'}>`"
