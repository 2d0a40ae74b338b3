"""Every validation rule: 400 for bodies that are not JSON or have wrongly typed fields, 422 with
one entry per bad field for well-typed bad values. The parsing functions are tested directly
where that is simpler; the HTTP answers through the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.errors import BadBody
from emulator.validation import (
    DEFAULT_LIMIT,
    check_url,
    parse_application,
    parse_endpoint,
    parse_event,
    parse_json_object,
    parse_list_query,
    parse_rotation_key,
    parse_since,
    query_list,
)
from tests.emulator.helpers import (
    assert_bad_body,
    create_app,
    create_endpoint,
    field_errors,
    hint,
    hook,
    publish,
)

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


NOT_JSON = [b"", b"   ", b"{", b"not json", b"[]", b'"text"', b"42", b"null", b"\xff\xfe"]


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


# --------------------------------------------------------------------------- list queries
LIST_PATHS = [
    "/v1/application",
    "/v1/application/app-1/endpoint",
    "/v1/application/app-1/event",
    "/v1/application/app-1/endpoint/ep-1/event",
    "/v1/application/app-1/endpoint/ep-1/delivery_attempt",
    "/v1/application/app-1/event/ev-1/delivery_attempt",
    "/v1/application/app-1/event/ev-1/endpoint",
]


@pytest.fixture
def listable(api: httpx.Client) -> httpx.Client:
    """An environment where every list route exists."""
    create_app(api)
    create_endpoint(api)
    publish(api, uid="ev-1")
    return api


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("limit", ["0", "151", "-1", "abc", "1.5", ""])
def test_limit_outside_1_to_150_is_422(listable: httpx.Client, path: str, limit: str) -> None:
    assert field_errors(listable.get(path, params={"limit": limit})) == ["limit"]


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("limit", ["1", "150"])
def test_limit_bounds_are_accepted(listable: httpx.Client, path: str, limit: str) -> None:
    assert listable.get(path, params={"limit": limit}).status_code == 200


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("name", ["before", "after"])
def test_bad_date_bound_is_422(listable: httpx.Client, path: str, name: str) -> None:
    assert field_errors(listable.get(path, params={name: "yesterday"})) == [name]
    response = listable.get(path, params={name: "2022-10-29T03:20:14+00:00"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("name", ["starting_after", "ending_before", "start_after"])
def test_unknown_cursor_is_422_on_that_field(listable: httpx.Client, path: str, name: str) -> None:
    field = "starting_after" if name == "start_after" else name
    assert field_errors(listable.get(path, params={name: "no-such-item"})) == [field]


@pytest.mark.parametrize(
    "path",
    [p for p in LIST_PATHS if "delivery_attempt" in p or p.endswith("ep-1/event")],
)
@pytest.mark.parametrize("status", ["4", "-1", "x", "01a"])
def test_bad_status_filter_is_422(listable: httpx.Client, path: str, status: str) -> None:
    assert field_errors(listable.get(path, params={"status": status})) == ["status"]


@pytest.mark.parametrize("path", [p for p in LIST_PATHS if "delivery_attempt" in p])
@pytest.mark.parametrize("code", ["201", "404", "1", "x", "600"])
def test_bad_response_status_code_filter_is_422(
    listable: httpx.Client, path: str, code: str
) -> None:
    assert field_errors(listable.get(path, params={"response_status_code": code})) == [
        "response_status_code"
    ]


def test_both_cursors_at_once_is_one_entry_per_field(listable: httpx.Client) -> None:
    response = listable.get(
        "/v1/application/app-1/event", params={"starting_after": "ev-1", "ending_before": "nope"}
    )
    assert field_errors(response) == ["ending_before"]
    response = listable.get(
        "/v1/application/app-1/event", params={"starting_after": "x", "ending_before": "ev-1"}
    )
    assert sorted(field_errors(response)) == ["ending_before", "starting_after"]


def test_several_bad_parameters_are_one_entry_each(listable: httpx.Client) -> None:
    response = listable.get(
        "/v1/application/app-1/event/ev-1/delivery_attempt",
        params={"limit": "0", "before": "x", "status": "9", "starting_after": "nope"},
    )
    assert sorted(field_errors(response)) == ["before", "limit", "starting_after", "status"]


# --------------------------------------------------------------------------- unit: parsing
def test_parse_json_object() -> None:
    assert parse_json_object(b'{"a": 1}') == {"a": 1}
    assert parse_json_object(b"", allow_empty=True) == {}
    for raw in NOT_JSON:
        with pytest.raises(BadBody):
            parse_json_object(raw)


def test_query_list_accepts_three_encodings() -> None:
    assert query_list({"topics": ["a", "b"]}, "topics") == ("a", "b")
    assert query_list({"topics[]": ["a", "b"]}, "topics") == ("a", "b")
    assert query_list({"topics": ["a,b"]}, "topics") == ("a", "b")
    assert query_list({"topics": ["a, b,,a"], "topics[]": ["c"]}, "topics") == ("a", "b", "c")
    assert query_list({}, "topics") == ()


def test_parse_list_query_defaults_and_values() -> None:
    query, errors = parse_list_query({})
    assert (query.limit, errors) == (DEFAULT_LIMIT, [])
    assert DEFAULT_LIMIT == 50
    query, errors = parse_list_query(
        {
            "limit": ["7"],
            "start_after": ["x"],
            "before": ["2022-10-29T03:20:14Z"],
            "after": ["2022-10-29T03:20:14+00:00"],
            "status": ["3"],
            "response_status_code": ["500"],
            "event_types[]": ["a.b"],
        }
    )
    assert query.limit == 7
    assert query.starting_after == "x"
    assert query.before == query.after == 1667013614.0
    assert (query.status, query.response_status_code) == (3, 500)
    assert query.event_types == ("a.b",)
    assert errors == []


def test_cursors_in_both_directions_at_once_are_422() -> None:
    _, errors = parse_list_query({"starting_after": ["a"], "ending_before": ["b"]})
    assert [e.field for e in errors] == ["ending_before"]


def test_check_url_directly() -> None:
    for url, ok in [
        ("https://example.com", True),
        ("http://127.0.0.1:8080/x", True),
        ("http://[::1]:80/", True),
        ("mailto:a@b.c", False),
        ("//example.com", False),
        ("http://a b", False),
        ("http://x\t", False),
    ]:
        errors: list[Any] = []
        check_url(url, errors, required=True)
        assert (errors == []) is ok, url
    errors = []
    check_url(None, errors, required=False)
    assert errors == []
    check_url(None, errors, required=True)
    assert [e.field for e in errors] == ["url"]


def test_parse_since_and_rotation_key_directly() -> None:
    assert parse_since({"since": "2022-10-29T03:20:14+00:00"}) == 1667013614.0
    assert parse_since({"since": "2022-10-29T05:20:14+02:00"}) == 1667013614.0
    with pytest.raises(BadBody):
        parse_since({})
    assert parse_rotation_key({}) is None
    assert parse_rotation_key({"key": "a" * 32}) == "a" * 32
    assert parse_rotation_key({"key": "enps_ABC-def_1"}) == "enps_ABC-def_1"
    with pytest.raises(BadBody):
        parse_rotation_key({"key": "a b"})


def test_parse_functions_return_field_errors_without_raising() -> None:
    # Value errors are returned, not raised, so the service can answer 404 first.
    _, errors = parse_application({"uid": "a b"})
    assert [e.field for e in errors] == ["uid", "name"]
    data, errors = parse_endpoint({"version": "v2"}, creating=False)
    assert errors == [] and data.version == "v2" and data.url is None
    _, errors = parse_endpoint({"version": "v2"}, creating=True)
    assert [e.field for e in errors] == ["url"]
    data, errors = parse_endpoint(
        {"url": "https://x.io", "headers": {"headers": {"A": "1"}, "sensitive": True}},
        creating=True,
    )
    assert errors == [] and data.headers == {"A": "1"} and data.sensitive_headers is None
    _, errors = parse_event({})
    assert [e.field for e in errors] == ["event_type", "payload"]


def test_deeply_nested_payload_is_400_and_nothing_is_stored(api: httpx.Client) -> None:
    app = create_app(api)["uid"]
    payload: dict[str, Any] = {}
    inner = payload
    for _ in range(300):
        inner["a"] = {}
        inner = inner["a"]
    response = api.post(
        f"/v1/application/{app}/event", json={"event_type": "deep", "payload": payload}
    )
    assert_bad_body(response)
    assert "nested deeper than 128 levels" in hint(response)
    listed = api.get(f"/v1/application/{app}/event")
    assert listed.status_code == 200
    assert listed.json()["data"] == []


def test_nesting_within_the_limit_is_accepted(api: httpx.Client) -> None:
    app = create_app(api)["uid"]
    payload: dict[str, Any] = {}
    inner = payload
    for _ in range(100):
        inner["a"] = {}
        inner = inner["a"]
    response = api.post(
        f"/v1/application/{app}/event", json={"event_type": "deep", "payload": payload}
    )
    assert response.status_code == 201
    assert (
        api.get(f"/v1/application/{app}/event/{response.json()['uid']}").json()["payload"]
        == payload
    )
