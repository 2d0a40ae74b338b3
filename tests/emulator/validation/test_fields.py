"""How bad fields are reported (emulator/validation.py): one 422 entry per bad field, null as
"not given", read-only fields ignored, and 400 for bodies that are not JSON or have wrongly
typed fields."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    assert_bad_body,
    create_app,
    create_endpoint,
    publish,
)
from tests.emulator.validation.common import (
    NOT_JSON,
    app_errors,
    endpoint_errors,
    event_errors,
)


# --------------------------------------------------------------------------- one entry per field
def test_each_bad_field_is_one_entry_in_order(api: httpx.Client) -> None:
    errors = endpoint_errors(
        api,
        {
            "uid": "bad uid",
            "url": "ftp://x",
            "version": "v 1",
            "filter_types": ["a", "a"],
            "topics": ["1", "2", "3", "4", "5", "6"],
            "rate_limit": 0,
            "secret": "nope",
            "headers": {"headers": {"Bad Name": "v"}, "sensitive": {"X-A": "a\nb"}},
        },
    )
    assert sorted(errors) == sorted(
        [
            "uid",
            "url",
            "version",
            "filter_types",
            "topics",
            "rate_limit",
            "secret",
            "headers.headers",
            "headers.sensitive",
        ]
    )
    assert len(errors) == len(set(errors))


def test_application_reports_every_bad_field(api: httpx.Client) -> None:
    errors = app_errors(
        api,
        {
            "uid": "a b",
            "name": "",
            "rate_limit": -1,
            "retry_strategy": {"type": "x", "deadline": -1},
        },
    )
    assert errors == ["uid", "name", "rate_limit", "type", "deadline"]


def test_event_reports_every_bad_field(api: httpx.Client) -> None:
    errors = event_errors(api, {"uid": "a b", "version": "", "retention_period": 2})
    assert sorted(errors) == ["event_type", "payload", "retention_period", "uid", "version"]


# --------------------------------------------------------------------------- null and read-only
def test_null_means_not_given_on_create(api: httpx.Client) -> None:
    app = create_app(api, "app-1", rate_limit=None, retry_strategy=None)
    assert app["rate_limit"] == 0
    assert app["retry_strategy"]["type"] == "base_exponential_backoff_with_deadline"
    response = api.post("/v1/application", json={"uid": None, "name": "Generated"})
    assert response.status_code == 201
    assert response.json()["uid"].startswith("app_")
    endpoint = create_endpoint(
        api,
        uid="ep-1",
        version=None,
        description=None,
        filter_types=None,
        topics=None,
        active=None,
        rate_limit=None,
        headers=None,
        secret=None,
    )
    assert endpoint["version"] == "latest"
    assert endpoint["filter_types"] == [] and endpoint["topics"] == []
    assert endpoint["active"] is True and endpoint["rate_limit"] is None
    assert endpoint["headers"] == {"headers": {}, "sensitive": False}
    event = publish(api, uid=None, version=None, topics=None, retention_period=None)
    assert event["uid"].startswith("evte_")
    assert (event["version"], event["topics"], event["retention_period"]) == ("latest", [], 0)


def test_null_inside_retry_strategy_and_headers_is_not_given(api: httpx.Client) -> None:
    app = create_app(api, retry_strategy={"type": None, "max_retries": None})
    assert app["retry_strategy"]["type"] == "base_exponential_backoff_with_deadline"
    endpoint = create_endpoint(api, headers={"headers": None, "sensitive": None})
    assert endpoint["headers"] == {"headers": {}, "sensitive": False}


def test_read_only_fields_echoed_back_are_ignored(api: httpx.Client) -> None:
    old = "2001-02-03T04:05:06+00:00"
    app = create_app(api, created_at=old, updated_at=old)
    assert app["created_at"] != old and app["updated_at"] != old
    endpoint = create_endpoint(
        api, created_at=old, updated_at=old, headers={"headers": {"X-A": "1"}, "sensitive": True}
    )
    assert endpoint["created_at"] != old
    assert endpoint["headers"] == {"headers": {"X-A": "1"}, "sensitive": False}
    event = publish(api, created_at=old)
    assert event["created_at"] != old
    # Echoing a whole response back as the body of a PUT changes nothing.
    for path, current in (
        ("/v1/application/app-1", app),
        ("/v1/application/app-1/endpoint/ep-1", endpoint),
    ):
        response = api.put(path, json=current)
        assert response.status_code == 200, response.text
        assert {**response.json(), "updated_at": None} == {**current, "updated_at": None}
        assert response.json()["created_at"] == current["created_at"]


# --------------------------------------------------------------------------- 400: JSON types
APP_TYPE_ERRORS = [
    ({"name": 5}, "name"),
    ({"name": ["A"]}, "name"),
    ({"name": "A", "uid": 7}, "uid"),
    ({"name": "A", "rate_limit": "5"}, "rate_limit"),
    ({"name": "A", "rate_limit": 1.5}, "rate_limit"),
    ({"name": "A", "rate_limit": True}, "rate_limit"),
    ({"name": "A", "retry_strategy": "fixed_wait"}, "retry_strategy"),
    ({"name": "A", "retry_strategy": {"type": 1}}, "retry_strategy.type"),
    ({"name": "A", "retry_strategy": {"max_retries": "3"}}, "retry_strategy.max_retries"),
    ({"name": "A", "retry_strategy": {"retry_delay": False}}, "retry_strategy.retry_delay"),
    ({"name": "A", "retry_strategy": {"deadline": [1]}}, "retry_strategy.deadline"),
]


@pytest.mark.parametrize(("body", "field"), APP_TYPE_ERRORS)
def test_wrong_json_type_in_application_is_400(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert_bad_body(api.post("/v1/application", json=body), field)
    create_app(api)
    assert_bad_body(api.put("/v1/application/app-1", json=body), field)


ENDPOINT_TYPE_ERRORS = [
    ({"url": 5}, "url"),
    ({"url": "https://x.io", "uid": 1}, "uid"),
    ({"url": "https://x.io", "version": 2}, "version"),
    ({"url": "https://x.io", "description": {"a": 1}}, "description"),
    ({"url": "https://x.io", "filter_types": "a"}, "filter_types"),
    ({"url": "https://x.io", "filter_types": [1]}, "filter_types"),
    ({"url": "https://x.io", "topics": "a,b"}, "topics"),
    ({"url": "https://x.io", "topics": [None]}, "topics"),
    ({"url": "https://x.io", "active": "true"}, "active"),
    ({"url": "https://x.io", "active": 1}, "active"),
    ({"url": "https://x.io", "rate_limit": "2"}, "rate_limit"),
    ({"url": "https://x.io", "secret": 5}, "secret"),
    ({"url": "https://x.io", "headers": ["X-A"]}, "headers"),
    ({"url": "https://x.io", "headers": {"headers": ["X-A"]}}, "headers.headers"),
    ({"url": "https://x.io", "headers": {"headers": {"X-A": 1}}}, "headers.headers"),
    ({"url": "https://x.io", "headers": {"sensitive": "yes"}}, "headers.sensitive"),
    ({"url": "https://x.io", "headers": {"sensitive": {"X-A": None}}}, "headers.sensitive"),
]


@pytest.mark.parametrize(("body", "field"), ENDPOINT_TYPE_ERRORS)
def test_wrong_json_type_in_endpoint_is_400(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    create_app(api)
    assert_bad_body(api.post("/v1/application/app-1/endpoint", json=body), field)
    create_endpoint(api)
    assert_bad_body(api.put("/v1/application/app-1/endpoint/ep-1", json=body), field)


EVENT_TYPE_ERRORS = [
    ({"event_type": 1, "payload": {}}, "event_type"),
    ({"event_type": "a", "payload": {}, "uid": 1}, "uid"),
    ({"event_type": "a", "payload": {}, "version": 1}, "version"),
    ({"event_type": "a", "payload": {}, "topics": "a"}, "topics"),
    ({"event_type": "a", "payload": {}, "topics": [1]}, "topics"),
    ({"event_type": "a", "payload": {}, "retention_period": "30"}, "retention_period"),
    ({"event_type": "a", "payload": {}, "retention_period": 30.5}, "retention_period"),
]


@pytest.mark.parametrize(("body", "field"), EVENT_TYPE_ERRORS)
def test_wrong_json_type_in_event_is_400(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    create_app(api)
    assert_bad_body(api.post("/v1/application/app-1/event", json=body), field)


@pytest.mark.parametrize("raw", NOT_JSON)
def test_body_that_is_not_a_json_object_is_400(api: httpx.Client, raw: bytes) -> None:
    create_app(api)
    create_endpoint(api)
    for method, path in (
        ("POST", "/v1/application"),
        ("PUT", "/v1/application/app-1"),
        ("POST", "/v1/application/app-1/endpoint"),
        ("PUT", "/v1/application/app-1/endpoint/ep-1"),
        ("POST", "/v1/application/app-1/event"),
        ("POST", "/v1/application/app-1/endpoint/ep-1/recover"),
    ):
        response = api.request(method, path, content=raw)
        assert_bad_body(response)
        assert "field" not in response.json()


@pytest.mark.parametrize("raw", [b"{", b"[]", b"not json", b'"key"'])
def test_rotation_body_that_is_not_a_json_object_is_400(api: httpx.Client, raw: bytes) -> None:
    create_app(api)
    create_endpoint(api)
    assert_bad_body(api.post("/v1/application/app-1/endpoint/ep-1/secret", content=raw))


@pytest.mark.parametrize("key", ["has space", "dot.not.allowed", "x" * 256, 12, ["a"], ""])
def test_bad_rotation_key_is_400_as_recorded(api: httpx.Client, key: Any) -> None:
    create_app(api)
    create_endpoint(api)
    response = api.post("/v1/application/app-1/endpoint/ep-1/secret", json={"key": key})
    assert_bad_body(response, "key")


@pytest.mark.parametrize("since", [None, "", "yesterday", "2022-13-01T00:00:00Z", 1667000000])
def test_bad_recover_since_is_400(api: httpx.Client, since: Any) -> None:
    create_app(api)
    create_endpoint(api)
    body = {} if since is None else {"since": since}
    response = api.post("/v1/application/app-1/endpoint/ep-1/recover", json=body)
    assert_bad_body(response, "since")
