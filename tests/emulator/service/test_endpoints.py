"""Endpoints through HTTP (emulator/service/endpoints.py): updates, renames and secrets."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    endpoint_attempts,
    event_attempts,
    get_list,
    hook,
    publish,
    settle,
    uids,
)
from tests.emulator.service.common import EP


# --------------------------------------------------------------------------- endpoint PUT
@pytest.fixture
def full_endpoint(api: httpx.Client) -> dict[str, Any]:
    create_app(api)
    return create_endpoint(
        api,
        version="v1",
        description="desc",
        filter_types=["a.created", "a.updated"],
        topics=["t1", "t2"],
        rate_limit=3,
        headers={"headers": {"X-Public": "p"}, "sensitive": {"X-Token": "secret"}},
    )


def test_endpoint_put_with_only_version_like_the_ruby_client(
    api: httpx.Client, full_endpoint: dict[str, Any]
) -> None:
    # client.endpoints.update(app, ep, {version: 'v2'})
    response = api.put(EP, json={"version": "v2"})
    assert response.status_code == 200
    body = response.json()
    assert body == {**full_endpoint, "version": "v2", "updated_at": body["updated_at"]}


def test_endpoint_put_ruby_style_with_every_field_mostly_null(
    api: httpx.Client, full_endpoint: dict[str, Any]
) -> None:
    response = api.put(
        EP,
        json={
            "uid": None,
            "url": None,
            "version": "v2",
            "description": None,
            "filter_types": None,
            "topics": None,
            "active": None,
            "rate_limit": None,
            "headers": None,
            "secret": None,
            "created_at": None,
            "updated_at": None,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body == {**full_endpoint, "version": "v2", "updated_at": body["updated_at"]}
    assert api.get(EP).json() == body


def test_endpoint_put_changes_given_fields(
    api: httpx.Client, full_endpoint: dict[str, Any]
) -> None:
    changes = {
        "url": hook("moved"),
        "description": "new",
        "filter_types": ["b.created"],
        "topics": ["t3"],
        "active": False,
        "rate_limit": 9,
    }
    body = api.put(EP, json=changes).json()
    assert {key: body[key] for key in changes} == changes
    assert body["version"] == "v1"
    assert body["headers"] == {"headers": {"X-Public": "p"}, "sensitive": True}


def test_empty_list_clears_a_list(api: httpx.Client, full_endpoint: dict[str, Any]) -> None:
    body = api.put(EP, json={"filter_types": [], "topics": []}).json()
    assert body["filter_types"] == [] and body["topics"] == []
    body = api.put(EP, json={"headers": {"headers": {}}}).json()
    assert body["headers"] == {"headers": {}, "sensitive": True}
    body = api.put(EP, json={"headers": {"sensitive": {}}}).json()
    assert body["headers"] == {"headers": {}, "sensitive": False}


def test_boolean_sensitive_leaves_sensitive_headers_unchanged(
    api: httpx.Client, full_endpoint: dict[str, Any]
) -> None:
    # A client echoing the response's headers object back, with a new public header.
    body = api.put(EP, json={"headers": {"headers": {"X-Public": "p2"}, "sensitive": True}}).json()
    assert body["headers"] == {"headers": {"X-Public": "p2"}, "sensitive": True}
    body = api.put(EP, json={"headers": {"headers": {"X-Public": "p2"}, "sensitive": False}}).json()
    assert body["headers"]["sensitive"] is True
    # The sensitive header is still sent with deliveries (the control API shows it redacted).
    publish(api, event_type="a.created", topics=["t1"], version="v1")
    settle(api)
    [attempt] = endpoint_attempts(api, "app-1", "ep-1")
    detail = api.get(f"/_emulator/attempts/{attempt['id']}").json()
    assert detail["request_headers"]["X-Token"] == "<redacted>"
    assert detail["request_headers"]["X-Public"] == "p2"


def test_endpoint_uid_rename_and_conflict(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api, uid="ep-1")
    create_endpoint(api, uid="ep-2")
    publish(api, uid="ev-1")
    settle(api)
    response = api.put(EP, json={"uid": "ep-2"})
    assert response.status_code == 409
    assert response.json()["code"] == 409
    response = api.put(EP, json={"uid": "renamed"})
    assert response.status_code == 200 and response.json()["uid"] == "renamed"
    assert api.get(EP).status_code == 404
    # Attempts and the event's endpoints follow the rename.
    attempts = event_attempts(api, "app-1", "ev-1")
    assert sorted(a["endpoint_id"] for a in attempts) == ["ep-2", "renamed"]
    assert len(endpoint_attempts(api, "app-1", "renamed")) == 1
    event_endpoints = get_list(api, "/v1/application/app-1/event/ev-1/endpoint")
    assert uids(event_endpoints) == ["renamed", "ep-2"]


# --------------------------------------------------------------------------- secrets
def test_generated_secret_and_rotation(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api)
    first = api.get(f"{EP}/secret").json()["key"]
    assert re.fullmatch(r"enps_[A-Za-z0-9]{32}", first)
    assert api.get(f"{EP}/secret").json()["key"] == first
    assert api.post(f"{EP}/secret", json={"key": "a" * 32}).status_code == 204
    assert api.get(f"{EP}/secret").json() == {"key": "a" * 32}
    assert api.post(f"{EP}/secret", json={}).status_code == 204
    third = api.get(f"{EP}/secret").json()["key"]
    assert re.fullmatch(r"enps_[A-Za-z0-9]{32}", third) and third != first
    assert api.post(f"{EP}/secret", json={"key": None}).status_code == 204
    assert api.get(f"{EP}/secret").json()["key"] not in (first, third, "a" * 32)
    assert api.post(f"{EP}/secret", json={"key": "whsec_rotated-key_1"}).status_code == 204
    assert api.get(f"{EP}/secret").json() == {"key": "whsec_rotated-key_1"}


def test_given_whsec_secret_is_kept(api: httpx.Client) -> None:
    create_app(api)
    secret = "whsec_" + "Z9" * 32
    create_endpoint(api, secret=secret)
    assert api.get(f"{EP}/secret").json() == {"key": secret}
    assert "secret" not in api.get(EP).json()


def test_each_endpoint_has_its_own_secret(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api, uid="a")
    create_endpoint(api, uid="b")
    a = api.get("/v1/application/app-1/endpoint/a/secret").json()["key"]
    b = api.get("/v1/application/app-1/endpoint/b/secret").json()["key"]
    assert a != b
