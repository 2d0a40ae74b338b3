"""The value rules of each body (emulator/validation.py): uids, applications, endpoints and
events; a bad value is a 422 naming its field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    assert_bad_body,
    create_app,
    create_endpoint,
    field_errors,
    hook,
    publish,
)
from tests.emulator.validation.common import (
    SECRET,
    app_errors,
    endpoint_errors,
    event_errors,
)

# --------------------------------------------------------------------------- uid
BAD_UIDS = ["bad uid", "a/b", "caf\u00e9", "x" * 256, "", "a\nb", "semi;colon", "q?"]
GOOD_UIDS = ["a", "A-b_c.9", "x" * 255, "app_2GtKBoeEo99TijMnNH8QLPLeWWX", "1.2.3"]


@pytest.mark.parametrize("uid", BAD_UIDS)
def test_bad_uid_is_422_on_uid_for_every_resource(api: httpx.Client, uid: str) -> None:
    assert app_errors(api, {"uid": uid, "name": "A"}) == ["uid"]
    assert endpoint_errors(api, {"uid": uid, "url": hook()}) == ["uid"]
    assert event_errors(api, {"uid": uid, "event_type": "a", "payload": {}}) == ["uid"]


@pytest.mark.parametrize("uid", GOOD_UIDS)
def test_good_uid_is_kept(api: httpx.Client, uid: str) -> None:
    assert create_app(api, uid)["uid"] == uid
    assert create_endpoint(api, uid, uid)["uid"] == uid
    assert publish(api, uid, uid)["uid"] == uid


def test_bad_uid_on_put_is_422(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api)
    assert field_errors(api.put("/v1/application/app-1", json={"uid": "a b", "name": "A"})) == [
        "uid"
    ]
    response = api.put("/v1/application/app-1/endpoint/ep-1", json={"uid": "a b"})
    assert field_errors(response) == ["uid"]


# --------------------------------------------------------------------------- application
@pytest.mark.parametrize(
    "name", [None, "", "   ", "x" * 4097], ids=["null", "empty", "blank", "long"]
)
def test_application_name_is_required(api: httpx.Client, name: str | None) -> None:
    assert app_errors(api, {"uid": "a", "name": name}) == ["name"]
    assert app_errors(api, {"uid": "a"}) == ["name"]


def test_application_name_required_on_put_too(api: httpx.Client) -> None:
    create_app(api)
    assert field_errors(api.put("/v1/application/app-1", json={"rate_limit": 3})) == ["name"]


def test_application_rate_limit_must_not_be_negative(api: httpx.Client) -> None:
    assert app_errors(api, {"name": "A", "rate_limit": -1}) == ["rate_limit"]
    assert create_app(api, "zero", rate_limit=0)["rate_limit"] == 0


@pytest.mark.parametrize("kind", ["linear", "", "FIXED_WAIT", "fixed wait"])
def test_unknown_retry_strategy_type_is_type_is_invalid(api: httpx.Client, kind: str) -> None:
    response = api.post(
        "/v1/application", json={"name": "A", "retry_strategy": {"type": kind, "max_retries": 3}}
    )
    assert response.status_code == 422
    assert response.json() == {"errors": [{"field": "type", "error": "Type is invalid"}]}


@pytest.mark.parametrize(
    "kind",
    [
        "base_exponential_backoff_with_deadline",
        "exponential_backoff",
        "exponential_backoff_with_deadline",
        "fixed_wait",
        "fixed_wait_with_deadline",
    ],
)
def test_every_documented_retry_strategy_type_is_accepted(api: httpx.Client, kind: str) -> None:
    assert create_app(api, retry_strategy={"type": kind})["retry_strategy"]["type"] == kind


@pytest.mark.parametrize("field", ["max_retries", "retry_delay", "deadline"])
def test_retry_strategy_numbers_must_not_be_negative(api: httpx.Client, field: str) -> None:
    assert app_errors(api, {"name": "A", "retry_strategy": {field: -1}}) == [field]


# --------------------------------------------------------------------------- endpoint
@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "example.com/hook",
        "http://",
        "https:///path",
        "javascript:alert(1)",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "",
        "https://example.com/" + "a" * 2030,
    ],
)
def test_bad_url_is_422_on_url(api: httpx.Client, url: str) -> None:
    assert endpoint_errors(api, {"url": url}) == ["url"]


def test_url_of_2048_characters_is_accepted(api: httpx.Client) -> None:
    create_app(api)
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    assert len(url) == 2048
    assert create_endpoint(api, url=url)["url"] == url
    assert endpoint_errors(api, {"url": url + "a"}) == ["url"]


def test_url_is_required_on_create_only(api: httpx.Client) -> None:
    assert endpoint_errors(api, {"uid": "ep"}) == ["url"]
    assert endpoint_errors(api, {"uid": "ep", "url": None}) == ["url"]
    create_endpoint(api)
    response = api.put("/v1/application/app-1/endpoint/ep-1", json={"description": "d"})
    assert response.status_code == 200
    assert response.json()["url"] == hook("ep-1")
    response = api.put("/v1/application/app-1/endpoint/ep-1", json={"url": "ftp://x"})
    assert field_errors(response) == ["url"]


def test_http_and_https_urls_are_accepted(api: httpx.Client) -> None:
    create_app(api)
    url = "http://localhost:3000/x?y=1"
    assert create_endpoint(api, uid="a", url=url)["url"] == url
    assert create_endpoint(api, uid="b", url="HTTPS://Example.com")["url"] == "HTTPS://Example.com"


@pytest.mark.parametrize("version", ["v 2", "", "v2/beta", "x" * 256])
def test_bad_version_is_422(api: httpx.Client, version: str) -> None:
    assert endpoint_errors(api, {"url": hook(), "version": version}) == ["version"]
    assert event_errors(api, {"event_type": "a", "payload": {}, "version": version}) == ["version"]


@pytest.mark.parametrize(
    "topics",
    [["a", "b", "c", "d", "e", "f"], ["a", "a"], ["ok", "not ok"], [""]],
    ids=["six", "repeated", "bad-pattern", "empty-item"],
)
def test_bad_endpoint_topics_are_422(api: httpx.Client, topics: list[str]) -> None:
    assert endpoint_errors(api, {"url": hook(), "topics": topics}) == ["topics"]


def test_five_unique_topics_are_accepted(api: httpx.Client) -> None:
    create_app(api)
    topics = ["a", "b", "c", "d", "e"]
    assert create_endpoint(api, topics=topics)["topics"] == topics


@pytest.mark.parametrize(
    "filter_types", [["a", "a"], ["user created"], [""]], ids=["repeated", "pattern", "empty"]
)
def test_bad_filter_types_are_422(api: httpx.Client, filter_types: list[str]) -> None:
    assert endpoint_errors(api, {"url": hook(), "filter_types": filter_types}) == ["filter_types"]


def test_endpoint_rate_limit_is_at_least_1(api: httpx.Client) -> None:
    assert endpoint_errors(api, {"url": hook(), "rate_limit": 0}) == ["rate_limit"]
    assert endpoint_errors(api, {"url": hook(), "rate_limit": -5}) == ["rate_limit"]


@pytest.mark.parametrize("kind", ["headers", "sensitive"])
@pytest.mark.parametrize(
    "headers",
    [
        {f"X-H{i}": "v" for i in range(11)},
        {"Bad Header": "v"},
        {"X-Colon:": "v"},
        {"": "v"},
        {"X-Inject": "a\r\nX-Evil: 1"},
        {"X-Lf": "a\nb"},
        {"X-Nul": "a\x00b"},
        {"Content-Type": "text/plain"},
        {"X-Simplyq-Signature": "forged"},
    ],
    ids=["eleven", "space", "colon", "empty-name", "crlf", "lf", "nul", "reserved", "signature"],
)
def test_bad_headers_are_one_422_entry(
    api: httpx.Client, kind: str, headers: dict[str, str]
) -> None:
    errors = endpoint_errors(api, {"url": hook(), "headers": {kind: headers}})
    assert errors == [f"headers.{kind}"]


def test_many_bad_headers_are_still_one_entry(api: httpx.Client) -> None:
    headers = {f"Bad {i}": "x\r\n" for i in range(12)}
    assert endpoint_errors(api, {"url": hook(), "headers": {"headers": headers}}) == [
        "headers.headers"
    ]


def test_ten_headers_of_each_kind_are_accepted(api: httpx.Client) -> None:
    create_app(api)
    public = {f"X-Public-{i}": f"value {i}\twith tab, \u00fcnicode" for i in range(10)}
    secret = {f"X-Secret-{i}": "s" for i in range(10)}
    body = create_endpoint(api, headers={"headers": public, "sensitive": secret})
    assert body["headers"] == {"headers": public, "sensitive": True}


@pytest.mark.parametrize(
    "secret",
    [
        SECRET[:-1],
        SECRET + "a",
        SECRET[:-1] + "-",
        SECRET + "\n",
        "enps_" + "a" * 32,
        "WHSEC_" + SECRET[6:],
        "whsec" + SECRET[6:],
    ],
    ids=["short", "long", "dash", "newline", "enps", "upper-prefix", "no-underscore"],
)
def test_bad_secret_on_create_is_422(api: httpx.Client, secret: str) -> None:
    assert endpoint_errors(api, {"url": hook(), "secret": secret}) == ["secret"]


def test_whsec_secret_is_accepted(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api, secret=SECRET)
    assert api.get("/v1/application/app-1/endpoint/ep-1/secret").json() == {"key": SECRET}


# --------------------------------------------------------------------------- event
def test_event_type_is_required(api: httpx.Client) -> None:
    assert event_errors(api, {"payload": {}}) == ["event_type"]
    assert event_errors(api, {"event_type": None, "payload": {}}) == ["event_type"]


@pytest.mark.parametrize("event_type", ["user created", "", "a/b", "x" * 256])
def test_event_type_pattern(api: httpx.Client, event_type: str) -> None:
    assert event_errors(api, {"event_type": event_type, "payload": {}}) == ["event_type"]


def test_payload_is_required(api: httpx.Client) -> None:
    assert event_errors(api, {"event_type": "a"}) == ["payload"]
    assert event_errors(api, {"event_type": "a", "payload": None}) == ["payload"]


@pytest.mark.parametrize("payload", [[], [1], "text", 5, True])
def test_payload_must_be_an_object(api: httpx.Client, payload: Any) -> None:
    create_app(api)
    response = api.post("/v1/application/app-1/event", json={"event_type": "a", "payload": payload})
    assert_bad_body(response, "payload")


def test_empty_payload_object_is_accepted(api: httpx.Client) -> None:
    create_app(api)
    assert publish(api, payload={})["payload"] == {}


@pytest.mark.parametrize("days", [-1, 1, 4, 91, 365])
def test_bad_retention_period_is_422(api: httpx.Client, days: int) -> None:
    body = {"event_type": "a", "payload": {}, "retention_period": days}
    assert event_errors(api, body) == ["retention_period"]


@pytest.mark.parametrize("days", [0, 5, 30, 90])
def test_retention_period_0_or_5_to_90_is_accepted(api: httpx.Client, days: int) -> None:
    create_app(api)
    assert publish(api, retention_period=days)["retention_period"] == days


def test_event_topics_must_be_unique_and_well_formed(api: httpx.Client) -> None:
    body = {"event_type": "a", "payload": {}}
    assert event_errors(api, {**body, "topics": ["a", "a"]}) == ["topics"]
    assert event_errors(api, {**body, "topics": ["a b"]}) == ["topics"]
