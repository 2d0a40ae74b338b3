"""The seeded environment the hostile requests go to, and what a proper refusal looks like."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.delivery_helpers import Env
from tests.emulator.helpers import HINT_HEADER, JSON_TYPE, NOT_FOUND
from tests.hardening import tally

LIMIT = 1024 * 1024  # config.max_body_bytes: the documented body size limit
MAX_NESTING = 128

APP = "/v1/application/app"
EP = f"{APP}/endpoint/ep"
EVT = f"{APP}/event/evt"


class Seeded(Env):
    """An environment with one of everything, and the hostile requests sent to it."""

    attempt: str
    tried: int = 0

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.tried += 1
        tally.add("hostile inputs tried")
        return self.http.request(method, path, **kwargs)

    def snapshot(self) -> dict[str, Any]:
        """Everything this environment shows, plus the emulator's counts and clock."""
        paths = [
            "/v1/application",
            APP,
            f"{APP}/endpoint",
            EP,
            f"{EP}/secret",
            f"{EP}/event",
            f"{EP}/delivery_attempt",
            f"{APP}/event",
            EVT,
            f"{EVT}/delivery_attempt",
            f"{EVT}/endpoint",
        ]
        state: dict[str, Any] = {}
        for path in paths:
            response = self.http.get(path)
            assert response.status_code == 200, (path, response.text)
            state[path] = response.json()
        state["detail"] = self.http.get(f"/_emulator/attempts/{self.attempt}").json()
        health = self.http.get("/_emulator/health").json()
        state["counts"] = health["counts"]
        state["clock"] = health["clock"]["unix"]
        state["environments"] = self.http.get("/_emulator/environments").json()
        return state


def refused(
    response: httpx.Response, status: int | tuple[int, ...], field: str | None = None
) -> None:
    """A 4xx with a JSON body that names the problem (and the field, when one is at fault)."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == JSON_TYPE, response.headers
    body = response.json()
    assert isinstance(body, dict) and body, body
    if response.status_code == 422:
        fields = [entry["field"] for entry in body["errors"]]
        assert all(entry["error"] for entry in body["errors"])
        if field is not None:
            assert field in fields, (field, body)
    else:
        assert isinstance(body["error"], str) and body["error"], body
        if response.status_code == 400 and field is not None:
            hint = response.headers.get(HINT_HEADER, "")
            assert hint.startswith(f"field `{field}`:"), (field, hint)
    if response.status_code == 413:
        assert str(LIMIT) in body["error"] and body["code"] == 413
    if response.status_code == 404:
        assert body in (NOT_FOUND, {"error": "application not found", "code": 404})
