"""Uids are unique per parent, and API keys are separate worlds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.emulator.helpers import (
    NOT_FOUND,
    create_app,
    create_endpoint,
    event_attempts,
    field_errors,
    hook,
    publish,
    settle,
)
from tests.emulator.service.common import EP


def test_duplicate_uids_on_create_are_422_as_recorded(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api)
    publish(api, uid="ev-1")
    for path, body, message in (
        (
            "/v1/application",
            {"uid": "app-1", "name": "A"},
            "Application UID already exists in your account",
        ),
        (
            "/v1/application/app-1/endpoint",
            {"uid": "ep-1", "url": hook()},
            "Endpoint UID already exists in the application",
        ),
        (
            "/v1/application/app-1/event",
            {"uid": "ev-1", "event_type": "a", "payload": {}},
            "Event UID already exists in the application",
        ),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 422
        assert response.json() == {"errors": [{"field": "uid", "error": message}]}


def test_endpoint_and_event_uids_are_per_application(api: httpx.Client) -> None:
    create_app(api, "a")
    create_app(api, "b")
    create_endpoint(api, "a", "ep")
    create_endpoint(api, "b", "ep")
    publish(api, "a", "ev")
    publish(api, "b", "ev")
    assert api.delete("/v1/application/a/endpoint/ep").status_code == 204
    assert api.get("/v1/application/b/endpoint/ep").status_code == 200


# --------------------------------------------------------------------------- isolation
def test_a_key_never_sees_or_changes_another_keys_data(
    api: httpx.Client, new_client: Callable[[], httpx.Client]
) -> None:
    owner = api
    create_app(owner)
    create_endpoint(owner)
    publish(owner, uid="ev-1")
    settle(owner)
    [attempt] = event_attempts(owner, "app-1", "ev-1")
    secret = owner.get(f"{EP}/secret").json()
    before = {
        path: owner.get(path).json()
        for path in (
            "/v1/application",
            "/v1/application/app-1",
            "/v1/application/app-1/endpoint",
            EP,
            "/v1/application/app-1/event",
            "/v1/application/app-1/event/ev-1/delivery_attempt",
        )
    }

    other = new_client()
    assert other.get("/v1/application").json() == {"data": [], "has_more": False, "done": True}
    requests: list[tuple[str, str, Any]] = [
        ("GET", "/v1/application/app-1", None),
        ("PUT", "/v1/application/app-1", {"name": "hijacked"}),
        ("GET", "/v1/application/app-1/endpoint", None),
        ("POST", "/v1/application/app-1/endpoint", {"url": hook()}),
        ("GET", EP, None),
        ("PUT", EP, {"url": hook("hijacked")}),
        ("GET", f"{EP}/secret", None),
        ("POST", f"{EP}/secret", {"key": "a" * 32}),
        ("POST", f"{EP}/recover", {"since": "2000-01-01T00:00:00Z"}),
        ("GET", f"{EP}/event", None),
        ("GET", f"{EP}/delivery_attempt", None),
        ("GET", "/v1/application/app-1/event", None),
        ("GET", "/v1/application/app-1/event/ev-1", None),
        ("GET", "/v1/application/app-1/event/ev-1/delivery_attempt", None),
        ("GET", f"/v1/application/app-1/event/ev-1/delivery_attempt/{attempt['id']}/", None),
        ("GET", "/v1/application/app-1/event/ev-1/endpoint", None),
        ("POST", "/v1/application/app-1/endpoint/ep-1/event/ev-1", None),
        ("DELETE", EP, None),
        ("DELETE", "/v1/application/app-1", None),
    ]
    for method, path, body in requests:
        response = other.request(method, path, json=body)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), (method, path)
    response = other.post("/v1/application/app-1/event", json={"event_type": "a", "payload": {}})
    assert response.status_code == 404
    # The same uids in the other environment are independent.
    create_app(other)
    create_endpoint(other)
    publish(other, uid="ev-1")
    settle(other)
    theirs = other.get(f"/v1/application/app-1/event/ev-1/delivery_attempt/{attempt['id']}")
    assert theirs.json() == NOT_FOUND
    # Cursors of one environment mean nothing in another.
    response = other.get("/v1/application", params={"starting_after": "app-1"})
    assert response.status_code == 200
    response = other.get(f"{EP}/delivery_attempt", params={"starting_after": attempt["id"]})
    assert field_errors(response) == ["starting_after"]

    assert owner.get(f"{EP}/secret").json() == secret
    for path, body in before.items():
        assert owner.get(path).json() == body, path
