"""Deliveries started by hand (emulator/service/attempts.py): retry and recover; and deletes
that take attempts with them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.helpers import (
    assert_bad_body,
    create_app,
    create_endpoint,
    endpoint_attempts,
    event_attempts,
    failing_hook,
    get_list,
    hook,
    publish,
    settle,
    uids,
)
from tests.emulator.service.common import EP, NO_RETRY


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
