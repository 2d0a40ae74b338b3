"""What the validation tests share: a valid secret, bodies that are not a JSON object, and the
fields a 422 names for each kind of body."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.helpers import create_app, field_errors

SECRET = "whsec_" + "aB3" * 21 + "x"  # 64 letters and digits after the prefix
assert len(SECRET) == 6 + 64


def app_errors(api: httpx.Client, body: dict[str, Any]) -> list[str]:
    return field_errors(api.post("/v1/application", json=body))


def ensure_app(api: httpx.Client, uid: str = "app-1") -> None:
    if api.get(f"/v1/application/{uid}").status_code == 404:
        create_app(api, uid)


def endpoint_errors(api: httpx.Client, body: dict[str, Any]) -> list[str]:
    ensure_app(api)
    return field_errors(api.post("/v1/application/app-1/endpoint", json=body))


def event_errors(api: httpx.Client, body: dict[str, Any]) -> list[str]:
    ensure_app(api)
    return field_errors(api.post("/v1/application/app-1/event", json=body))


NOT_JSON = [b"", b"   ", b"{", b"not json", b"[]", b'"text"', b"42", b"null", b"\xff\xfe"]
