"""Every list operation: pagination both ways, time bounds, filters, attempt outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    endpoint_attempts,
    event_attempts,
    failing_hook,
    get_list,
    publish,
    settle,
    uids,
)
from tests.emulator.service.common import EP, NO_RETRY, REMOTE_URL, advance

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
