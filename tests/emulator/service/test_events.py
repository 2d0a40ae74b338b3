"""Publishing (emulator/service/events.py): which endpoints an event is routed to."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    event_attempts,
    get_list,
    publish,
    uids,
)
from tests.emulator.service.common import EP

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
