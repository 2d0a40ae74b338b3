"""The operations' behaviour, through HTTP: updates, isolation, lists, secrets, retry and
recover, cascading deletes, and routing on publish."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    NOT_FOUND,
    assert_bad_body,
    create_app,
    create_endpoint,
    endpoint_attempts,
    event_attempts,
    failing_hook,
    field_errors,
    get_list,
    hook,
    publish,
    settle,
    uids,
)

# A strategy that never retries, so a failed try stays the latest attempt (status "3").
NO_RETRY = {"type": "fixed_wait_with_deadline", "retry_delay": 60, "deadline": 1}
REMOTE_URL = "https://example.com/hook"  # not loopback: the emulator fails it at once (code 0)


def advance(api: httpx.Client, seconds: float) -> None:
    """Move the emulator's clock forward (the shared server's clock only ever moves forward)."""
    response = api.post("/_emulator/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


# --------------------------------------------------------------------------- application PUT
def test_application_put_changes_only_fields_given(api: httpx.Client) -> None:
    created = create_app(
        api,
        rate_limit=5,
        retry_strategy={"type": "fixed_wait", "max_retries": 4, "retry_delay": 9, "deadline": 2},
    )
    advance(api, 2)
    response = api.put(
        "/v1/application/app-1",
        json={
            "uid": None,
            "name": "Renamed",
            "rate_limit": None,
            "retry_strategy": {"type": None, "max_retries": 7, "retry_delay": None},
            "created_at": "2000-01-01T00:00:00+00:00",
            "updated_at": None,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["rate_limit"] == 5
    assert body["retry_strategy"] == {
        "type": "fixed_wait",
        "max_retries": 7,
        "retry_delay": 9,
        "deadline": 2,
    }
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] > created["updated_at"]


def test_application_put_zero_is_a_value_not_absence(api: httpx.Client) -> None:
    create_app(api, rate_limit=5, retry_strategy={"type": "fixed_wait", "max_retries": 4})
    body = api.put(
        "/v1/application/app-1",
        json={"name": "A", "rate_limit": 0, "retry_strategy": {"max_retries": 0}},
    ).json()
    assert body["rate_limit"] == 0
    assert body["retry_strategy"]["max_retries"] == 0


def test_application_put_still_requires_name(api: httpx.Client) -> None:
    create_app(api)
    assert field_errors(api.put("/v1/application/app-1", json={"name": None})) == ["name"]
    assert api.get("/v1/application/app-1").json()["name"] == "App app-1"


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


EP = "/v1/application/app-1/endpoint/ep-1"


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


def test_application_uid_rename(api: httpx.Client) -> None:
    create_app(api, "old")
    create_endpoint(api, "old", "ep-1")
    publish(api, "old", "ev-1")
    response = api.put("/v1/application/old", json={"uid": "new", "name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["uid"] == "new"
    assert api.get("/v1/application/old").status_code == 404
    assert api.get("/v1/application/new").json()["name"] == "Renamed"
    assert uids(get_list(api, "/v1/application/new/endpoint")) == ["ep-1"]
    assert uids(get_list(api, "/v1/application/new/event")) == ["ev-1"]
    assert uids(get_list(api, "/v1/application")) == ["new"]
    # The old uid is free again.
    create_app(api, "old")


def test_application_rename_to_a_taken_uid_is_409(api: httpx.Client) -> None:
    create_app(api, "one")
    create_app(api, "two")
    response = api.put("/v1/application/one", json={"uid": "two", "name": "X"})
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"error", "code"} and body["code"] == 409 and body["error"]
    assert api.get("/v1/application/one").json()["name"] == "App one"
    # Renaming to its own uid is not a conflict.
    assert api.put("/v1/application/one", json={"uid": "one", "name": "Same"}).status_code == 200


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


# --------------------------------------------------------------------------- pagination
ListMaker = Callable[[httpx.Client, int], tuple[str, list[str], str]]


def make_apps(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    return "/v1/application", [create_app(api, f"a{i}")["uid"] for i in range(count)], "uid"


def make_endpoints(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    create_app(api)
    made = [create_endpoint(api, uid=f"e{i}")["uid"] for i in range(count)]
    return "/v1/application/app-1/endpoint", made, "uid"


def make_events(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    create_app(api)
    return (
        "/v1/application/app-1/event",
        [publish(api, uid=f"v{i}")["uid"] for i in range(count)],
        "uid",
    )


def make_endpoint_events(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    create_app(api)
    create_endpoint(api)
    made = [publish(api, uid=f"v{i}")["uid"] for i in range(count)]
    return f"{EP}/event", made, "uid"


def make_event_endpoints(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    create_app(api)
    made = [create_endpoint(api, uid=f"e{i}")["uid"] for i in range(count)]
    publish(api, uid="ev")
    return "/v1/application/app-1/event/ev/endpoint", made, "uid"


def make_event_attempts(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    create_app(api)
    create_endpoint(api)
    publish(api, uid="ev")
    for _ in range(count - 1):
        assert api.post("/v1/application/app-1/endpoint/ep-1/event/ev").status_code == 202
    settle(api)
    made = [a["id"] for a in event_attempts(api, "app-1", "ev")]
    return "/v1/application/app-1/event/ev/delivery_attempt", made, "id"


def make_endpoint_attempts(api: httpx.Client, count: int) -> tuple[str, list[str], str]:
    create_app(api)
    create_endpoint(api)
    for i in range(count):
        publish(api, uid=f"v{i}")
    settle(api)
    return (
        f"{EP}/delivery_attempt",
        [a["id"] for a in endpoint_attempts(api, "app-1", "ep-1")],
        "id",
    )


LIST_MAKERS = [
    make_apps,
    make_endpoints,
    make_events,
    make_endpoint_events,
    make_event_endpoints,
    make_event_attempts,
    make_endpoint_attempts,
]


@pytest.mark.parametrize("make", LIST_MAKERS)
def test_pagination_in_both_directions(api: httpx.Client, make: ListMaker) -> None:
    path, made, key = make(api, 7)
    assert len(made) == 7

    def page(**params: Any) -> tuple[list[str], bool]:
        body = get_list(api, path, limit=3, **params)
        if path == "/v1/application":
            assert body["done"] is (not body["has_more"])
        return uids(body, key), body["has_more"]

    assert get_list(api, path)["data"] and uids(get_list(api, path), key) == made
    assert page() == (made[0:3], True)
    assert page(starting_after=made[2]) == (made[3:6], True)
    assert page(starting_after=made[5]) == (made[6:7], False)
    assert page(starting_after=made[6]) == ([], False)
    # The Ruby client's name for the forward cursor.
    assert page(start_after=made[2]) == (made[3:6], True)
    # Backwards: the items just before the cursor, oldest first; has_more = earlier ones exist.
    assert page(ending_before=made[6]) == (made[3:6], True)
    assert page(ending_before=made[3]) == (made[0:3], False)
    assert page(ending_before=made[1]) == (made[0:1], False)
    assert page(ending_before=made[0]) == ([], False)
    assert uids(get_list(api, path, limit=150), key) == made


def test_walking_every_page_forward_and_back(api: httpx.Client) -> None:
    path, made, key = make_events(api, 10)
    seen: list[str] = []
    cursor: dict[str, str] = {}
    for _ in range(10):
        body = get_list(api, path, limit=4, **cursor)
        seen += uids(body, key)
        if not body["has_more"]:
            break
        cursor = {"starting_after": seen[-1]}
    assert seen == made
    back: list[str] = []
    cursor = {"ending_before": made[-1]}
    for _ in range(10):
        body = get_list(api, path, limit=4, **cursor)
        back = uids(body, key) + back
        if not body["has_more"]:
            break
        cursor = {"ending_before": back[0]}
    assert back == made[:-1]


def test_lists_are_oldest_first_not_alphabetical(api: httpx.Client) -> None:
    names = ["zeta", "alpha", "Mid", "0first", "beta"]
    for name in names:
        create_app(api, name)
    assert uids(get_list(api, "/v1/application")) == names
    for name in names:
        create_endpoint(api, "zeta", name)
        publish(api, "zeta", name)
    assert uids(get_list(api, "/v1/application/zeta/endpoint")) == names
    assert uids(get_list(api, "/v1/application/zeta/event")) == names


def test_default_limit_is_50(api: httpx.Client) -> None:
    path, made, key = make_apps(api, 52)
    body = get_list(api, path)
    assert uids(body, key) == made[:50]
    assert body["has_more"] is True and body["done"] is False


def test_before_is_inclusive_and_after_exclusive(api: httpx.Client) -> None:
    create_app(api)
    first = publish(api, uid="first")
    advance(api, 5)
    second = publish(api, uid="second")
    t1, t2 = first["created_at"], second["created_at"]
    assert t1 < t2

    def events(**params: str) -> list[str]:
        return uids(get_list(api, "/v1/application/app-1/event", **params))

    assert events(before=t1) == ["first"]
    assert events(after=t1) == ["second"]
    assert events(before=t2) == ["first", "second"]
    assert events(after=t2) == []
    assert events(after=t1, before=t2) == ["second"]
    assert events(before="2000-01-01T00:00:00Z") == []
    # The same bounds in another offset are the same instants.
    assert events(before=t1.replace("+00:00", "Z")) == ["first"]
    apps = uids(get_list(api, "/v1/application", before=t1))
    assert apps == ["app-1"]


def test_time_bounds_on_attempts_use_attempt_time(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api)
    publish(api, uid="ev")
    settle(api)
    advance(api, 5)
    assert api.post(f"{EP}/event/ev").status_code == 202
    settle(api)
    first, second = event_attempts(api, "app-1", "ev")
    path = "/v1/application/app-1/event/ev/delivery_attempt"
    assert uids(get_list(api, path, before=first["attempted_at"]), "id") == [first["id"]]
    assert uids(get_list(api, path, after=first["attempted_at"]), "id") == [second["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"topics": ["a", "b"]},
        {"topics[]": ["a", "b"]},
        {"topics": "a,b"},
    ],
    ids=["repeated", "brackets", "comma"],
)
def test_array_filters_accept_three_encodings(api: httpx.Client, params: dict[str, Any]) -> None:
    create_app(api)
    create_endpoint(api)
    publish(api, uid="only-a", event_type="x.created", topics=["a"])
    publish(api, uid="only-b", event_type="y.created", topics=["b", "z"])
    publish(api, uid="only-c", event_type="x.created", topics=["c"])
    publish(api, uid="none", event_type="y.created")
    assert uids(get_list(api, "/v1/application/app-1/event", **params)) == ["only-a", "only-b"]
    # The same encoding for event_types: both types are asked for, so all four events match.
    names = {"a": "x.created", "b": "y.created"}
    types = {
        key.replace("topics", "event_types"): (
            [names[v] for v in value] if isinstance(value, list) else "x.created,y.created"
        )
        for key, value in params.items()
    }
    assert uids(get_list(api, "/v1/application/app-1/event", **types)) == [
        "only-a",
        "only-b",
        "only-c",
        "none",
    ]
    only_x = get_list(api, "/v1/application/app-1/event", event_types="x.created", **params)
    assert uids(only_x) == ["only-a"]
    # The endpoint's events and attempts filter the same way.
    assert uids(get_list(api, f"{EP}/event", **params)) == ["only-a", "only-b"]
    settle(api)
    attempts = get_list(api, f"{EP}/delivery_attempt", **params)["data"]
    assert [a["event_id"] for a in attempts] == ["only-a", "only-b"]


def test_filters_are_case_sensitive(api: httpx.Client) -> None:
    create_app(api)
    publish(api, uid="lower", event_type="user.created", topics=["eu"])
    assert uids(get_list(api, "/v1/application/app-1/event", event_types="User.Created")) == []
    assert uids(get_list(api, "/v1/application/app-1/event", topics="EU")) == []
    assert uids(get_list(api, "/v1/application/app-1/event", topics="eu")) == ["lower"]


@pytest.fixture
def mixed_attempts(api: httpx.Client) -> dict[str, str]:
    """One event delivered to four endpoints that answer 200, 500, 404 and not at all, under a
    strategy that does not retry; and one to an endpoint that will retry (a pending attempt)."""
    create_app(api, retry_strategy=NO_RETRY)
    create_endpoint(api, uid="ok")
    create_endpoint(api, uid="e500", url=failing_hook(500))
    create_endpoint(api, uid="e404", url=failing_hook(404))
    create_endpoint(api, uid="remote", url=REMOTE_URL)
    publish(api, uid="ev")
    settle(api)
    return {"ok": "0", "e500": "3", "e404": "3", "remote": "3"}


def test_attempts_record_each_outcome(api: httpx.Client, mixed_attempts: dict[str, str]) -> None:
    attempts = {a["endpoint_id"]: a for a in event_attempts(api, "app-1", "ev")}
    assert {k: a["status"] for k, a in attempts.items()} == mixed_attempts
    assert {k: a["response_status_code"] for k, a in attempts.items()} == {
        "ok": 200,
        "e500": 500,
        "e404": 404,
        "remote": 0,
    }
    assert attempts["ok"]["response"] == ""
    assert "loopback" in attempts["remote"]["response"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "0"}, ["ok"]),
        ({"status": "3"}, ["e500", "e404", "remote"]),
        ({"status": "1"}, []),
        ({"status": "2"}, []),
        ({"response_status_code": "200"}, ["ok"]),
        ({"response_status_code": "500"}, ["e500"]),
        ({"response_status_code": "400"}, ["e404"]),
        ({"response_status_code": "300"}, []),
        ({"response_status_code": "0"}, ["remote"]),
        ({"status": "3", "response_status_code": "400"}, ["e404"]),
    ],
)
def test_attempt_filters(
    api: httpx.Client, mixed_attempts: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    body = get_list(api, "/v1/application/app-1/event/ev/delivery_attempt", **params)
    assert [a["endpoint_id"] for a in body["data"]] == expected
    for endpoint in mixed_attempts:
        body = get_list(
            api, f"/v1/application/app-1/endpoint/{endpoint}/delivery_attempt", **params
        )
        assert len(body["data"]) == (1 if endpoint in expected else 0)


def test_pending_retry_and_status_filter_of_endpoint_events(api: httpx.Client) -> None:
    create_app(api)  # the default strategy: the next try in 30 s, pending meanwhile
    create_endpoint(api, uid="down", url=failing_hook(503))
    publish(api, uid="ev")
    settle(api)
    failed, pending = event_attempts(api, "app-1", "ev")
    assert (failed["status"], failed["retry_count"], failed["response_status_code"]) == (
        "3",
        0,
        503,
    )
    assert (pending["status"], pending["retry_count"], pending["attempted_at"]) == ("1", 1, None)
    assert pending["response"] is None and pending["trigger_type"] == "0"
    path = "/v1/application/app-1/endpoint/down/event"
    # The status of an endpoint's event is that of its latest attempt there.
    assert uids(get_list(api, path, status="1")) == ["ev"]
    assert uids(get_list(api, path, status="3")) == []


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


# --------------------------------------------------------------------------- retry and recover
def test_retry_creates_a_manual_delivery(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api)
    publish(api, uid="ev")
    settle(api)
    response = api.post("/v1/application/app-1/endpoint/ep-1/event/ev")
    assert response.status_code == 202 and response.content == b""
    attempts = event_attempts(api, "app-1", "ev")
    assert len(attempts) == 2
    new = attempts[1]
    assert (new["trigger_type"], new["retry_count"], new["endpoint_id"]) == ("1", 0, "ep-1")
    assert new["status"] in ("1", "2", "0")  # pending when created, then sent to the receiver
    settle(api)
    assert event_attempts(api, "app-1", "ev")[1]["status"] == "0"


def test_retry_to_an_endpoint_the_event_was_not_routed_to(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api, uid="picky", filter_types=["other.type"])
    publish(api, uid="ev")
    assert get_list(api, "/v1/application/app-1/event/ev/endpoint")["data"] == []
    assert api.post("/v1/application/app-1/endpoint/picky/event/ev").status_code == 202
    settle(api)
    assert uids(get_list(api, "/v1/application/app-1/event/ev/endpoint")) == ["picky"]
    assert uids(get_list(api, "/v1/application/app-1/endpoint/picky/event")) == ["ev"]
    [attempt] = event_attempts(api, "app-1", "ev")
    assert (attempt["trigger_type"], attempt["status"]) == ("1", "0")


def test_recover_redelivers_failed_events_since(api: httpx.Client) -> None:
    create_app(api, retry_strategy=NO_RETRY)
    create_endpoint(api, url=failing_hook(500))
    create_endpoint(api, uid="fine")
    publish(api, uid="ev-1")
    publish(api, uid="ev-2")
    settle(api)
    assert [a["status"] for a in endpoint_attempts(api, "app-1", "ep-1")] == ["3", "3"]
    failed_at = endpoint_attempts(api, "app-1", "ep-1")[0]["attempted_at"]
    # Nothing failed after a later `since`.
    recover = f"{EP}/recover"
    assert api.post(recover, json={"since": "2999-01-01T00:00:00Z"}).status_code == 202
    settle(api)
    assert len(endpoint_attempts(api, "app-1", "ep-1")) == 2
    # Fix the endpoint, then recover everything that failed since then (inclusive).
    api.put(EP, json={"url": hook("fixed")})
    response = api.post(recover, json={"since": failed_at})
    assert response.status_code == 202 and response.content == b""
    settle(api)
    attempts = endpoint_attempts(api, "app-1", "ep-1")
    assert [(a["event_id"], a["status"], a["trigger_type"]) for a in attempts] == [
        ("ev-1", "3", "0"),
        ("ev-2", "3", "0"),
        ("ev-1", "0", "1"),
        ("ev-2", "0", "1"),
    ]
    # A second recover finds nothing failed any more; the healthy endpoint is untouched.
    assert api.post(recover, json={"since": failed_at}).status_code == 202
    settle(api)
    assert len(endpoint_attempts(api, "app-1", "ep-1")) == 4
    assert len(endpoint_attempts(api, "app-1", "fine")) == 2


@pytest.mark.parametrize("body", [{}, {"since": None}, {"since": "last tuesday"}, {"since": 5}])
def test_recover_needs_a_parseable_since(api: httpx.Client, body: dict[str, Any]) -> None:
    create_app(api)
    create_endpoint(api)
    assert_bad_body(api.post(f"{EP}/recover", json=body), "since")


# --------------------------------------------------------------------------- cascading deletes
def test_deleting_an_endpoint_deletes_its_attempts(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api, uid="ep-1")
    create_endpoint(api, uid="ep-2")
    publish(api, uid="ev")
    settle(api)
    attempts = {a["endpoint_id"]: a["id"] for a in event_attempts(api, "app-1", "ev")}
    assert set(attempts) == {"ep-1", "ep-2"}
    assert api.delete(EP).status_code == 204
    assert [a["endpoint_id"] for a in event_attempts(api, "app-1", "ev")] == ["ep-2"]
    gone = api.get(f"/v1/application/app-1/event/ev/delivery_attempt/{attempts['ep-1']}")
    assert gone.status_code == 404
    assert uids(get_list(api, "/v1/application/app-1/event/ev/endpoint")) == ["ep-2"]
    # The event itself stays, and a new endpoint with the old uid starts clean.
    assert api.get("/v1/application/app-1/event/ev").status_code == 200
    create_endpoint(api, uid="ep-1")
    assert endpoint_attempts(api, "app-1", "ep-1") == []
    assert get_list(api, f"{EP}/event")["data"] == []


def test_deleting_an_application_deletes_everything_under_it(api: httpx.Client) -> None:
    create_app(api)
    create_app(api, "kept")
    create_endpoint(api)
    create_endpoint(api, "kept", "ep-1")
    publish(api, uid="ev")
    publish(api, "kept", "ev")
    settle(api)
    assert api.delete("/v1/application/app-1").status_code == 204
    assert uids(get_list(api, "/v1/application")) == ["kept"]
    create_app(api)
    assert get_list(api, "/v1/application/app-1/endpoint")["data"] == []
    assert get_list(api, "/v1/application/app-1/event")["data"] == []
    assert api.get("/v1/application/app-1/event/ev").status_code == 404
    assert api.get(EP).status_code == 404
    # The other application is untouched.
    assert len(event_attempts(api, "kept", "ev")) == 1
    assert uids(get_list(api, "/v1/application/kept/endpoint")) == ["ep-1"]


# --------------------------------------------------------------------------- routing on publish
ROUTING_ENDPOINTS: dict[str, dict[str, Any]] = {
    "all": {},
    "types": {"filter_types": ["user.created", "user.deleted"]},
    "other-type": {"filter_types": ["order.created"]},
    "type-case": {"filter_types": ["User.Created"]},
    "topic-a": {"topics": ["a", "x"]},
    "topic-A": {"topics": ["A"]},
    "topic-b": {"topics": ["b"]},
    "v2": {"version": "v2"},
    "V2": {"version": "V2"},
    "v1": {"version": "v1"},
    "latest": {"version": "latest"},
    "inactive": {"active": False},
    "everything": {"filter_types": ["user.created"], "topics": ["a"], "version": "v2"},
}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"event_type": "user.created", "topics": ["a"], "version": "v2"},
            ["all", "types", "topic-a", "v2", "latest", "everything"],
        ),
        (
            {"event_type": "user.created"},
            ["all", "types", "latest"],
        ),
        (
            {"event_type": "order.created", "topics": ["b", "A"], "version": "v1"},
            ["all", "other-type", "topic-A", "topic-b", "v1", "latest"],
        ),
        (
            {"event_type": "User.Created", "version": "V2"},
            ["all", "type-case", "V2", "latest"],
        ),
    ],
    ids=["type-topic-version", "plain", "other", "case-sensitive"],
)
def test_routing_on_publish(api: httpx.Client, event: dict[str, Any], expected: list[str]) -> None:
    create_app(api)
    for uid, fields in ROUTING_ENDPOINTS.items():
        create_endpoint(api, uid=uid, **fields)
    created = publish(api, uid="ev", **event)
    routed = uids(get_list(api, "/v1/application/app-1/event/ev/endpoint"))
    assert routed == expected
    assert sorted(a["endpoint_id"] for a in event_attempts(api, "app-1", "ev")) == sorted(expected)
    for uid in ROUTING_ENDPOINTS:
        events = uids(get_list(api, f"/v1/application/app-1/endpoint/{uid}/event"))
        assert events == ([created["uid"]] if uid in expected else []), uid


def test_endpoint_changes_apply_to_later_events_only(api: httpx.Client) -> None:
    create_app(api)
    create_endpoint(api, filter_types=["a"])
    publish(api, uid="before", event_type="b")
    api.put(EP, json={"filter_types": []})
    publish(api, uid="after", event_type="b")
    api.put(EP, json={"active": False})
    publish(api, uid="inactive", event_type="b")
    assert uids(get_list(api, f"{EP}/event")) == ["after"]
