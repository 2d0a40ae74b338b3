"""The parsing functions called directly, and the nesting limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.bodies import parse_json_object
from emulator.errors import BadBody
from emulator.validation import (
    DEFAULT_LIMIT,
    check_url,
    parse_application,
    parse_endpoint,
    parse_event,
    parse_list_query,
    parse_rotation_key,
    parse_since,
    query_list,
)
from tests.emulator.helpers import (
    assert_bad_body,
    create_app,
    hint,
)
from tests.emulator.validation.common import (
    NOT_JSON,
)


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
