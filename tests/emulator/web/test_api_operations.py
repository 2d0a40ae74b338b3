"""The SimplyQ API over real HTTP (emulator/web/api.py): one test per operation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    NOT_FOUND,
    TIMESTAMP,
    assert_api_headers,
    create_app,
    create_endpoint,
    event_attempts,
    hook,
    publish,
    settle,
)

GENERATED = {
    "app": re.compile(r"^app_[0-9A-Za-z]{27}$"),
    "ep": re.compile(r"^ep_[0-9A-Za-z]{27}$"),
    "evte": re.compile(r"^evte_[0-9A-Za-z]{27}$"),
    "eda": re.compile(r"^eda_[0-9A-Za-z]{27}$"),
}
DEFAULT_STRATEGY = {
    "type": "base_exponential_backoff_with_deadline",
    "max_retries": 0,
    "retry_delay": 0,
    "deadline": 0,
}


def fixture_endpoint() -> dict[str, Any]:
    """The endpoint of the recordings (PostEndpoint.201.http) as a request body, pointed at the
    session's receiver."""
    return {
        "uid": "fixture-edp-1",
        "url": hook("fixture-edp-1"),
        "version": "latest",
        "description": "This endpoints was created as part of developing client fixtures",
        "filter_types": ["fixture.created", "fixture.updated"],
        "topics": ["ruby-client"],
        "rate_limit": 2,
        "headers": {"headers": {"X-CUSTOM": "test"}, "sensitive": {"X-SECRET": "hidden"}},
    }


def endpoint_wire(body: dict[str, Any], created: dict[str, Any]) -> dict[str, Any]:
    """What an endpoint created from ``body`` must look like on the wire."""
    return {
        "uid": body["uid"],
        "url": body["url"],
        "version": body["version"],
        "description": body["description"],
        "filter_types": body["filter_types"],
        "topics": body["topics"],
        "active": True,
        "rate_limit": body["rate_limit"],
        "headers": {"headers": body["headers"]["headers"], "sensitive": True},
        "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }


def assert_empty(response: httpx.Response, status: int) -> None:
    """An answer with no body at all (204, 202): no JSON content type either."""
    assert response.status_code == status, response.text
    assert response.content == b""
    assert "content-type" not in response.headers
    assert_api_headers(response, json_body=False)


@pytest.fixture
def fixture_app(api: httpx.Client) -> dict[str, Any]:
    """An application with one endpoint (FIXTURE_ENDPOINT) and one event routed to it."""
    create_app(api, "fixture-1")
    create_endpoint(api, "fixture-1", **fixture_endpoint())
    event = publish(api, "fixture-1", "fixture-event-1", "fixture.created", topics=["ruby-client"])
    settle(api)
    return {"app": "fixture-1", "endpoint": "fixture-edp-1", "event": event["uid"]}


# --------------------------------------------------------------------------- applications
def test_post_application_returns_201_with_defaults(api: httpx.Client) -> None:
    response = api.post("/v1/application", json={"uid": "fixture-1", "name": "Fixture app"})
    assert response.status_code == 201
    assert_api_headers(response)
    body = response.json()
    assert body == {
        "uid": "fixture-1",
        "name": "Fixture app",
        "rate_limit": 0,
        "retry_strategy": DEFAULT_STRATEGY,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert TIMESTAMP.fullmatch(body["created_at"])


def test_post_application_generates_a_uid(api: httpx.Client) -> None:
    response = api.post("/v1/application", json={"name": "No uid"})
    assert response.status_code == 201
    assert GENERATED["app"].fullmatch(response.json()["uid"])


def test_post_application_keeps_given_settings(api: httpx.Client) -> None:
    strategy = {"type": "fixed_wait", "max_retries": 10, "retry_delay": 5, "deadline": 60}
    body = create_app(api, "tuned", rate_limit=7, retry_strategy=strategy)
    assert body["rate_limit"] == 7
    assert body["retry_strategy"] == strategy


def test_get_applications_lists_oldest_first_with_done(api: httpx.Client) -> None:
    first = create_app(api, "test-app-11")
    second = create_app(api, "fixture-1")
    response = api.get("/v1/application")
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == {"data": [first, second], "has_more": False, "done": True}


def test_get_applications_of_a_new_key_is_empty(api: httpx.Client) -> None:
    response = api.get("/v1/application")
    assert response.status_code == 200
    assert response.json() == {"data": [], "has_more": False, "done": True}


def test_get_application(api: httpx.Client) -> None:
    created = create_app(api, "test-app-11")
    response = api.get("/v1/application/test-app-11")
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == created


def test_put_application(api: httpx.Client) -> None:
    created = create_app(api, "fixture-1")
    response = api.put(
        "/v1/application/fixture-1",
        json={
            "name": "Fixture app (Updated)",
            "retry_strategy": {"type": "fixed_wait", "max_retries": 10},
        },
    )
    assert response.status_code == 200
    assert_api_headers(response)
    body = response.json()
    assert body == {
        **created,
        "name": "Fixture app (Updated)",
        "retry_strategy": {**DEFAULT_STRATEGY, "type": "fixed_wait", "max_retries": 10},
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"] >= created["updated_at"]
    assert api.get("/v1/application/fixture-1").json() == body


def test_delete_application(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    assert_empty(api.delete("/v1/application/fixture-1"), 204)
    assert api.get("/v1/application/fixture-1").status_code == 404
    assert api.get("/v1/application").json()["data"] == []


# --------------------------------------------------------------------------- endpoints
def test_post_endpoint(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    request = fixture_endpoint()
    response = api.post("/v1/application/fixture-1/endpoint", json=request)
    assert response.status_code == 201
    assert_api_headers(response)
    body = response.json()
    assert body == endpoint_wire(request, body)
    assert body["created_at"] == body["updated_at"]
    assert TIMESTAMP.fullmatch(body["created_at"])
    assert "X-SECRET" not in response.text and "hidden" not in response.text


def test_post_endpoint_defaults(api: httpx.Client) -> None:
    create_app(api)
    response = api.post("/v1/application/app-1/endpoint", json={"url": "https://example.com/x"})
    assert response.status_code == 201
    body = response.json()
    assert GENERATED["ep"].fullmatch(body["uid"])
    assert body == {
        "uid": body["uid"],
        "url": "https://example.com/x",
        "version": "latest",
        "description": None,
        "filter_types": [],
        "topics": [],
        "active": True,
        "rate_limit": None,
        "headers": {"headers": {}, "sensitive": False},
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert "secret" not in body


def test_get_endpoints(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    first = create_endpoint(api, "fixture-1", **fixture_endpoint())
    second = create_endpoint(api, "fixture-1", "edp-2")
    response = api.get("/v1/application/fixture-1/endpoint")
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == {"data": [first, second], "has_more": False}


def test_get_endpoint(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    created = create_endpoint(api, "fixture-1", **fixture_endpoint())
    response = api.get("/v1/application/fixture-1/endpoint/fixture-edp-1")
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == created


def test_put_endpoint(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    created = create_endpoint(api, "fixture-1", **fixture_endpoint())
    response = api.put("/v1/application/fixture-1/endpoint/fixture-edp-1", json={"rate_limit": 101})
    assert response.status_code == 200
    assert_api_headers(response)
    body = response.json()
    assert body == {**created, "rate_limit": 101, "updated_at": body["updated_at"]}
    assert api.get("/v1/application/fixture-1/endpoint/fixture-edp-1").json() == body


def test_delete_endpoint(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    create_endpoint(api, "fixture-1", **fixture_endpoint())
    assert_empty(api.delete("/v1/application/fixture-1/endpoint/fixture-edp-1"), 204)
    assert api.get("/v1/application/fixture-1/endpoint/fixture-edp-1").status_code == 404
    assert api.get("/v1/application/fixture-1/endpoint").json()["data"] == []


def test_post_endpoint_recover(api: httpx.Client, fixture_app: dict[str, Any]) -> None:
    response = api.post(
        "/v1/application/fixture-1/endpoint/fixture-edp-1/recover",
        json={"since": "2022-10-30T07:00:00+00:00"},
    )
    assert_empty(response, 202)


def test_get_endpoint_secret(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    create_endpoint(api, "fixture-1", **fixture_endpoint())
    response = api.get("/v1/application/fixture-1/endpoint/fixture-edp-1/secret")
    assert response.status_code == 200
    assert_api_headers(response)
    body = response.json()
    assert set(body) == {"key"}
    assert re.fullmatch(r"enps_[0-9A-Za-z]{32}", body["key"])


def test_post_endpoint_secret_rotate(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    create_endpoint(api, "fixture-1", **fixture_endpoint())
    path = "/v1/application/fixture-1/endpoint/fixture-edp-1/secret"
    old = api.get(path).json()["key"]
    assert_empty(api.post(path), 204)
    new = api.get(path).json()["key"]
    assert new != old
    assert re.fullmatch(r"enps_[0-9A-Za-z]{32}", new)


def test_get_attempted_endpoints_lists_events_of_the_endpoint(
    api: httpx.Client, fixture_app: dict[str, Any]
) -> None:
    publish(api, "fixture-1", "not-routed", "other.type", topics=["ruby-client"])
    response = api.get("/v1/application/fixture-1/endpoint/fixture-edp-1/event")
    assert response.status_code == 200
    assert_api_headers(response)
    event = api.get("/v1/application/fixture-1/event/fixture-event-1").json()
    assert response.json() == {"data": [event], "has_more": False}


def test_get_endpoint_delivery_attempts(api: httpx.Client, fixture_app: dict[str, Any]) -> None:
    response = api.get("/v1/application/fixture-1/endpoint/fixture-edp-1/delivery_attempt")
    assert response.status_code == 200
    assert_api_headers(response)
    body = response.json()
    assert body["has_more"] is False
    [attempt] = body["data"]
    assert GENERATED["eda"].fullmatch(attempt["id"])
    # Delivered to the receiver (200, empty body), as in GetEndpointDeliveryAttempts.200.http.
    assert attempt == {
        "id": attempt["id"],
        "event_id": "fixture-event-1",
        "endpoint_id": "fixture-edp-1",
        "response": "",
        "response_status_code": 200,
        "status": "0",
        "trigger_type": "0",
        "retry_count": 0,
        "attempted_at": attempt["attempted_at"],
    }
    assert TIMESTAMP.fullmatch(attempt["attempted_at"])


# --------------------------------------------------------------------------- events
def test_post_event(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    body = {
        "uid": "fixture-event-2",
        "event_type": "fixture.created",
        "topics": ["a"],
        "payload": {"type": "sample.event", "data": {"shard": 2, "client": "ruby"}},
    }
    response = api.post("/v1/application/fixture-1/event", json=body)
    assert response.status_code == 201
    assert_api_headers(response)
    created = response.json()
    assert created == {
        **body,
        "version": "latest",
        "retention_period": 0,
        "created_at": created["created_at"],
    }
    assert TIMESTAMP.fullmatch(created["created_at"])


def test_post_event_generates_a_uid(api: httpx.Client) -> None:
    create_app(api)
    created = publish(api, version="v2", retention_period=30)
    assert GENERATED["evte"].fullmatch(created["uid"])
    assert created["version"] == "v2"
    assert created["retention_period"] == 30
    assert created["topics"] == []


def test_get_events(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    first = publish(api, "fixture-1", "fixture-event-1")
    second = publish(api, "fixture-1", "fixture-event-2")
    response = api.get("/v1/application/fixture-1/event")
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == {"data": [first, second], "has_more": False}


def test_get_event(api: httpx.Client) -> None:
    create_app(api, "fixture-1")
    created = publish(api, "fixture-1", "fixture-event-1", payload={"deep": {"list": [1, None]}})
    response = api.get("/v1/application/fixture-1/event/fixture-event-1")
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == created
    assert response.json()["payload"] == {"deep": {"list": [1, None]}}


def test_get_event_delivery_attempts(api: httpx.Client, fixture_app: dict[str, Any]) -> None:
    response = api.get("/v1/application/fixture-1/event/fixture-event-1/delivery_attempt")
    assert response.status_code == 200
    assert_api_headers(response)
    body = response.json()
    assert body["has_more"] is False
    assert [(a["event_id"], a["endpoint_id"]) for a in body["data"]] == [
        ("fixture-event-1", "fixture-edp-1")
    ]


@pytest.mark.parametrize("slash", ["/", ""], ids=["with-slash", "without-slash"])
def test_get_delivery_attempt(api: httpx.Client, fixture_app: dict[str, Any], slash: str) -> None:
    [attempt] = event_attempts(api, "fixture-1", "fixture-event-1")
    response = api.get(
        f"/v1/application/fixture-1/event/fixture-event-1/delivery_attempt/{attempt['id']}{slash}"
    )
    assert response.status_code == 200
    assert_api_headers(response)
    assert response.json() == attempt


def test_get_delivery_attempt_of_another_event_is_404(
    api: httpx.Client, fixture_app: dict[str, Any]
) -> None:
    [attempt] = event_attempts(api, "fixture-1", "fixture-event-1")
    publish(api, "fixture-1", "fixture-event-2")
    for slash in ("", "/"):
        response = api.get(
            f"/v1/application/fixture-1/event/fixture-event-2/delivery_attempt/{attempt['id']}"
            + slash
        )
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_get_event_endpoints(api: httpx.Client, fixture_app: dict[str, Any]) -> None:
    create_endpoint(api, "fixture-1", "filtered-out", filter_types=["other.type"])
    response = api.get("/v1/application/fixture-1/event/fixture-event-1/endpoint")
    assert response.status_code == 200
    assert_api_headers(response)
    endpoint = api.get("/v1/application/fixture-1/endpoint/fixture-edp-1").json()
    assert response.json() == {"data": [endpoint], "has_more": False}


def test_post_event_retry(api: httpx.Client, fixture_app: dict[str, Any]) -> None:
    response = api.post("/v1/application/fixture-1/endpoint/fixture-edp-1/event/fixture-event-1")
    assert_empty(response, 202)
    settle(api)
    attempts = event_attempts(api, "fixture-1", "fixture-event-1")
    assert [(a["trigger_type"], a["status"], a["retry_count"]) for a in attempts] == [
        ("0", "0", 0),
        ("1", "0", 0),
    ]
