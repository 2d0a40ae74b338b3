"""The dashboard's model without Textual: ordering, merging, filters, health."""

from __future__ import annotations

from typing import Any

from tui.filters import EventFilter, Scope
from tui.model import Model
from tui.records import DeliveryState

ENV = "env_1"


def event(
    uid: str, kind: str = "a", topics: list[str] | None = None, at: int = 0
) -> dict[str, Any]:
    return {
        "uid": uid,
        "event_type": kind,
        "version": "1",
        "topics": topics or [],
        "payload": {"uid": uid},
        "retention_period": 30,
        "created_at": f"2024-05-01T12:00:{at:02d}+00:00",
    }


def attempt(
    id: str,
    event: str,
    endpoint: str = "ep",
    status: str = "1",
    retry: int = 0,
    trigger: str = "0",
    detail: bool = True,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": id,
        "event_id": event,
        "endpoint_id": endpoint,
        "response": None,
        "response_status_code": 500 if status == "3" else 200 if status == "0" else 0,
        "status": status,
        "trigger_type": trigger,
        "retry_count": retry,
        "attempted_at": None if status == "1" else "2024-05-01T12:00:05+00:00",
    }
    if detail:
        data.update(
            scheduled_at="2024-05-01T12:00:05+00:00",
            endpoint_url="http://x",
            request_headers=None,
            response_headers=None,
            duration_ms=3.0,
        )
    return data


def change(kind: str, action: str, data: dict[str, Any], env: str = ENV) -> dict[str, Any]:
    return {"id": 1, "kind": kind, "action": action, "env": env, "data": data}


def model(*apps: str) -> Model:
    m = Model()
    m.set_environments([{"id": ENV, "api_key": "sk", "applications": list(apps or ["shop"])}])
    for app in apps or ["shop"]:
        m.set_endpoint(ENV, app, {"uid": "ep", "url": "http://x", "active": True})
    return m


def uids(m: Model) -> list[str]:
    return [e.uid for e in m.visible]


def test_listed_events_go_before_the_ones_the_stream_brought() -> None:
    m = model()
    m.apply([change("event", "created", event("live-1", at=9))])
    m.add_snapshot_events(ENV, "shop", [event("old-1", at=1), event("old-2", at=2)])
    m.add_snapshot_events(ENV, "shop", [event("old-3", at=3), event("live-1", at=9)])
    m.apply([change("event", "created", event("live-2", at=10))])
    assert uids(m) == ["old-1", "old-2", "old-3", "live-1", "live-2"]
    assert m.index_of((ENV, "shop", "old-3")) == 2


def test_an_attempt_never_moves_back() -> None:
    m = model()
    m.add_snapshot_events(ENV, "shop", [event("e")])
    m.apply([change("attempt", "updated", attempt("a1", "e", status="3"))])
    m.add_snapshot_attempts(ENV, "shop", [attempt("a1", "e", status="1", detail=False)])
    (info,) = m.by_key[(ENV, "shop", "e")].attempts.values()
    assert info.status == 3 and info.has_detail
    assert m.failed_count() == 1 and m.attempt_count == 1


def test_marks_and_status_follow_the_latest_attempt_per_endpoint() -> None:
    m = model()
    m.set_endpoint(ENV, "shop", {"uid": "ep2", "url": "http://y"})
    m.add_snapshot_events(ENV, "shop", [event("e")])
    ev = m.by_key[(ENV, "shop", "e")]
    m.apply([change("attempt", "created", attempt("a1", "e"))])
    assert ev.marks() == [("ep", DeliveryState.QUEUED)] and ev.status() == "pending"
    m.apply(
        [
            change("attempt", "updated", attempt("a1", "e", status="3")),
            change("attempt", "created", attempt("a2", "e", retry=1)),
            change("attempt", "created", attempt("b1", "e", endpoint="ep2", status="0")),
        ]
    )
    assert ev.marks() == [("ep", DeliveryState.RETRYING), ("ep2", DeliveryState.DELIVERED)]
    assert ev.status() == "failed"
    m.apply([change("attempt", "updated", attempt("a2", "e", status="0", retry=1))])
    assert ev.status() == "delivered" and m.failed_count() == 0


def test_attempts_before_their_event_are_kept_until_it_comes() -> None:
    m = model()
    m.apply([change("attempt", "created", attempt("a1", "e"))])
    m.add_snapshot_events(ENV, "shop", [event("e")])
    m.apply([change("event", "created", event("f"))])
    m.apply([change("attempt", "created", attempt("a2", "f"))])
    assert list(m.by_key[(ENV, "shop", "f")].attempts) == ["a2"]


def test_events_of_an_environment_with_two_applications_wait_for_their_application() -> None:
    m = model("shop", "blog")
    applied = m.apply([change("event", "created", event("e"))])
    assert applied.unresolved_events and not m.events
    m.resolve_event(ENV, "blog", applied.unresolved_events[0][1])
    assert [e.key for e in m.events] == [(ENV, "blog", "e")]


def test_filters_type_topic_status_and_scope() -> None:
    m = model()
    m.set_endpoint(ENV, "shop", {"uid": "ep2", "url": "http://y"})
    m.add_snapshot_events(
        ENV,
        "shop",
        [
            event("o1", "order.created", ["eu"]),
            event("o2", "order.paid", ["us"]),
            event("u1", "user.signup", ["eu", "vip"]),
        ],
    )
    m.add_snapshot_attempts(
        ENV,
        "shop",
        [
            attempt("a", "o1", status="3"),
            attempt("b", "o2", status="0"),
            attempt("c", "o2", endpoint="ep2", status="0"),
        ],
    )
    m.set_filter(EventFilter(event_type="order"))
    assert uids(m) == ["o1", "o2"]
    m.set_filter(EventFilter(event_type="*.created"))
    assert uids(m) == ["o1"]
    m.set_filter(EventFilter(topic="EU"))
    assert uids(m) == ["o1", "u1"]
    m.set_filter(EventFilter(status="failed"))
    assert uids(m) == ["o1"]
    m.set_filter(EventFilter(status="none"))
    assert uids(m) == ["u1"]
    m.set_filter(EventFilter(scope=Scope(ENV, "shop", "ep2")))
    assert uids(m) == ["o2"]
    assert EventFilter(event_type="x", status="failed").describe() == "type~x status=failed"

    # A status filter follows live changes.
    m.set_filter(EventFilter(status="failed"))
    m.apply([change("attempt", "updated", attempt("b", "o2", status="3"))])
    assert uids(m) == ["o1", "o2"]
    m.apply([change("attempt", "created", attempt("d", "o1", status="0", trigger="1"))])
    assert uids(m) == ["o2"]


def test_endpoint_health_is_the_success_rate_of_the_last_20_tries() -> None:
    m = model()
    endpoint = m.endpoints[(ENV, "shop", "ep")]
    assert endpoint.success_rate is None
    m.add_snapshot_events(ENV, "shop", [event(f"e{i}") for i in range(30)])
    records = []
    for i in range(30):
        data = attempt(f"a{i:02d}", f"e{i}", status="3" if i < 25 else "0")
        data["attempted_at"] = f"2024-05-01T12:{i:02d}:00+00:00"
        records.append(data)
    m.add_snapshot_attempts(ENV, "shop", list(reversed(records)))
    assert endpoint.success_rate == 5 / 20


def test_a_deleted_application_takes_its_events() -> None:
    m = model("shop", "blog")
    m.add_snapshot_events(ENV, "shop", [event("s")])
    m.add_snapshot_events(ENV, "blog", [event("b")])
    m.apply([change("application", "deleted", {"uid": "shop", "name": "x"})])
    assert uids(m) == ["b"] and (ENV, "shop") not in m.apps
    assert m.apply([change("application", "updated", {"uid": "renamed"})]).resync


def test_an_application_keeps_its_retry_strategy_up_to_date() -> None:
    m = model()
    assert m.apps[(ENV, "shop")].retry_strategy is None  # the environment list names it only
    strategy = {"type": "fixed_wait", "max_retries": 2, "retry_delay": 5, "deadline": 0}
    m.set_application(ENV, {"uid": "shop", "name": "Shop", "retry_strategy": strategy})
    assert m.apps[(ENV, "shop")].retry_strategy == strategy
    changed = {**strategy, "retry_delay": 60}
    record = {"uid": "shop", "name": "Shop", "retry_strategy": changed}
    assert m.apply([change("application", "updated", record)]).tree_changed
    assert m.apps[(ENV, "shop")].retry_strategy == changed
