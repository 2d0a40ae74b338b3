"""When tries happen: retry schedules walked on the frozen clock, rate limits, manual retries and
recover."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable

import pytest

from emulator.retry import DEFAULT_SCHEDULE
from emulator.signing import verify
from emulator.timestamps import format_timestamp
from tests.emulator.delivery_helpers import (
    SECRET,
    Env,
    Received,
    Receiver,
    Reply,
    gaps,
    paths,
)

DEFAULT_WAITS = [30, 180, 600, 1800, 7200, 28800]


# --------------------------------------------------------------------------- retries
def test_default_schedule_walked_exactly_on_the_clock(env: Env, failing: Receiver) -> None:
    started = time.monotonic()
    env.app("app")
    env.endpoint("app", "ep", failing.hook(), secret=SECRET)
    clock_start = env.now()
    created = env.publish("app")
    env.settle()
    assert len(failing.received()) == 1

    for tries, wait in enumerate(DEFAULT_WAITS, start=1):
        pending = env.event_attempts("app", created["uid"])[-1]
        assert pending["status"] == "1"
        assert pending["attempted_at"] is None
        assert pending["retry_count"] == tries
        env.advance(wait - 1)
        assert len(failing.received()) == tries, f"retry {tries} came early"
        env.advance(1)
        assert len(failing.received()) == tries + 1, f"retry {tries} did not come on time"

    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    assert len(failing.received()) == 7
    elapsed_wall = time.monotonic() - started
    assert elapsed_wall < 5.0

    attempts = env.event_attempts("app", created["uid"])
    assert [a["retry_count"] for a in attempts] == [0, 1, 2, 3, 4, 5, 6]
    assert {a["status"] for a in attempts} == {"3"}
    assert {a["trigger_type"] for a in attempts} == {"0"}
    assert {a["response_status_code"] for a in attempts} == {500}
    assert {a["response"] for a in attempts} == {"boom"}
    assert gaps(attempts) == DEFAULT_WAITS == list(DEFAULT_SCHEDULE)
    assert sum(gaps(attempts)) == 10 * 3600 + 43 * 60 + 30
    assert env.now() - clock_start == pytest.approx(38_610, abs=0.01)

    # Every try is freshly signed with its own timestamp.
    stamps = [int(r.headers["X-Simplyq-Timestamp"]) for r in failing.received()]
    assert [b - a for a, b in itertools.pairwise(stamps)] == DEFAULT_WAITS
    for request in failing.received():
        verify(
            SECRET, request.headers, request.body, now=int(request.headers["X-Simplyq-Timestamp"])
        )


STRATEGIES = [
    ("exponential_backoff", {}, [2, 4, 8]),
    ("exponential_backoff", {"max_retries": 5}, [2, 4, 8, 16, 32]),
    (
        "exponential_backoff",
        {"max_retries": 14},
        [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600],
    ),
    ("exponential_backoff_with_deadline", {}, [2, 4, 8]),
    ("exponential_backoff_with_deadline", {"max_retries": 10, "deadline": 14}, [2, 4, 8]),
    ("exponential_backoff_with_deadline", {"max_retries": 10, "deadline": 13}, [2, 4]),
    ("fixed_wait", {"retry_delay": 45}, [45, 45, 45]),
    ("fixed_wait", {"max_retries": 2, "retry_delay": 60}, [60, 60]),
    ("fixed_wait", {"max_retries": 4, "retry_delay": 0}, [0, 0, 0, 0]),
    ("fixed_wait", {"max_retries": 0, "retry_delay": 0}, [0, 0, 0]),
    (
        "fixed_wait_with_deadline",
        {"max_retries": 10, "retry_delay": 100, "deadline": 300},
        [100, 100, 100],
    ),
    ("fixed_wait_with_deadline", {"max_retries": 2, "retry_delay": 100}, [100, 100]),
    (
        "base_exponential_backoff_with_deadline",
        {"max_retries": 1, "retry_delay": 5, "deadline": 10},
        DEFAULT_WAITS,
    ),
]


@pytest.mark.parametrize(
    ("kind", "options", "waits"),
    STRATEGIES,
    ids=[f"{kind}-{options}" for kind, options, _ in STRATEGIES],
)
def test_retry_strategy_schedule(
    env: Env, failing: Receiver, kind: str, options: dict[str, int], waits: list[int]
) -> None:
    started = time.monotonic()
    env.app("app", retry_strategy={"type": kind, **options})
    env.endpoint("app", "ep", failing.hook())
    clock_start = env.now()
    created = env.publish("app")
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None

    attempts = env.event_attempts("app", created["uid"])
    assert [a["retry_count"] for a in attempts] == list(range(len(waits) + 1))
    assert {a["status"] for a in attempts} == {"3"}
    assert {a["trigger_type"] for a in attempts} == {"0"}
    assert gaps(attempts) == waits
    assert len(failing.received()) == len(waits) + 1
    assert env.now() - clock_start == pytest.approx(sum(waits), abs=0.01)
    assert time.monotonic() - started < 5.0


def test_success_on_third_try_stops_retrying(
    env: Env, make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver(script=[Reply(500, b"one"), Reply(500, b"two"), Reply(200, b"yes")])
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    env.settle()
    env.advance(30)
    env.advance(180)
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    env.advance(86_400)
    assert len(receiver.received()) == 3

    attempts = env.event_attempts("app", created["uid"])
    assert [(a["status"], a["response_status_code"], a["response"]) for a in attempts] == [
        ("3", 500, "one"),
        ("3", 500, "two"),
        ("0", 200, "yes"),
    ]
    assert [a["retry_count"] for a in attempts] == [0, 1, 2]
    assert gaps(attempts) == [30, 180]
    events = env.http.get("/v1/application/app/endpoint/ep/event", params={"status": 0}).json()
    assert [e["uid"] for e in events["data"]] == [created["uid"]]


# --------------------------------------------------------------------------- rate limits
def stamps_by_second(received: list[Received]) -> list[int]:
    return sorted(int(r.headers["X-Simplyq-Timestamp"]) for r in received)


def test_endpoint_rate_limit_spreads_deliveries_over_seconds(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), rate_limit=2)
    events = [env.publish("app", payload={"n": n})["uid"] for n in range(6)]

    env.settle()
    assert len(receiver.received()) == 2
    env.advance(1)
    assert len(receiver.received()) == 4
    env.advance(1)
    assert len(receiver.received()) == 6
    env.clock(run_until_idle=True)

    received = receiver.received()
    assert len(received) == 6
    first = stamps_by_second(received)[0]
    assert stamps_by_second(received) == [first, first, first + 1, first + 1, first + 2, first + 2]
    assert sorted(json.loads(r.body)["n"] for r in received) == list(range(6))
    for uid in events:
        [attempt] = env.event_attempts("app", uid)
        assert attempt["status"] == "0"


def test_application_rate_limit_applies_to_each_endpoint(env: Env, receiver: Receiver) -> None:
    env.app("app", rate_limit=2)
    env.endpoint("app", "a", receiver.hook("/a"))
    env.endpoint("app", "b", receiver.hook("/b"))
    for n in range(6):
        env.publish("app", payload={"n": n})

    env.settle()
    assert paths(receiver) == ["/a"] * 2 + ["/b"] * 2
    env.advance(1)
    assert paths(receiver) == ["/a"] * 4 + ["/b"] * 4
    env.advance(1)
    assert paths(receiver) == ["/a"] * 6 + ["/b"] * 6
    for path in ("/a", "/b"):
        stamps = stamps_by_second(receiver.received(path))
        assert stamps == [stamps[0]] * 2 + [stamps[0] + 1] * 2 + [stamps[0] + 2] * 2
        bodies = sorted(json.loads(r.body)["n"] for r in receiver.received(path))
        assert bodies == list(range(6))


def test_endpoint_rate_limit_overrides_the_applications(env: Env, receiver: Receiver) -> None:
    env.app("app", rate_limit=1)
    env.endpoint("app", "fast", receiver.hook("/fast"), rate_limit=3)
    env.endpoint("app", "slow", receiver.hook("/slow"))
    for n in range(4):
        env.publish("app", payload={"n": n})
    env.settle()
    assert paths(receiver) == ["/fast"] * 3 + ["/slow"]
    env.advance(1)
    assert paths(receiver) == ["/fast"] * 4 + ["/slow"] * 2


# --------------------------------------------------------------------------- retry and recover
def test_manual_retry_delivers_again_even_after_success(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app", payload={"order": 7})
    env.settle()
    assert len(receiver.received()) == 1

    response = env.http.post(f"/v1/application/app/endpoint/ep/event/{created['uid']}")
    assert response.status_code == 202
    assert response.content == b""
    env.settle()
    requests = receiver.wait_for(2)
    assert json.loads(requests[1].body) == {"order": 7}

    first, second = env.event_attempts("app", created["uid"])
    assert (first["trigger_type"], first["status"]) == ("0", "0")
    assert (second["trigger_type"], second["retry_count"], second["status"]) == ("1", 0, "0")
    assert second["id"] != first["id"]


def test_failed_manual_retry_is_retried_by_the_strategy(env: Env, failing: Receiver) -> None:
    env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1, "retry_delay": 10})
    env.endpoint("app", "ep", failing.hook())
    created = env.publish("app")
    env.clock(run_until_idle=True)
    assert len(failing.received()) == 2

    response = env.http.post(f"/v1/application/app/endpoint/ep/event/{created['uid']}")
    assert response.status_code == 202
    env.clock(run_until_idle=True)
    attempts = env.event_attempts("app", created["uid"])
    assert [(a["trigger_type"], a["retry_count"], a["status"]) for a in attempts] == [
        ("0", 0, "3"),
        ("0", 1, "3"),
        ("1", 0, "3"),
        ("1", 1, "3"),
    ]
    assert gaps(attempts)[-1] == 10


def test_manual_retry_to_an_endpoint_the_event_was_not_routed_to(
    env: Env, receiver: Receiver
) -> None:
    env.app("app")
    env.endpoint("app", "orders", receiver.hook("/orders"), filter_types=["order.paid"])
    created = env.publish("app", "user.created")
    env.settle()
    assert receiver.received() == []

    response = env.http.post(f"/v1/application/app/endpoint/orders/event/{created['uid']}")
    assert response.status_code == 202
    env.settle()
    assert paths(receiver) == ["/orders"]
    [attempt] = env.event_attempts("app", created["uid"])
    assert (attempt["trigger_type"], attempt["status"]) == ("1", "0")


def test_recover_redelivers_events_that_failed_since(
    env: Env, make_receiver: Callable[..., Receiver]
) -> None:
    healthy = {"on": False}

    def respond(request: Received) -> Reply:
        if healthy["on"] or json.loads(request.body).get("ok"):
            return Reply(200, b"fine")
        return Reply(503, b"down")

    receiver = make_receiver(respond=respond)
    env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1, "retry_delay": 10})
    env.endpoint("app", "ep", receiver.hook())
    start = env.align_clock()  # whole seconds: attempted_at can be matched exactly

    old = env.publish("app", payload={"name": "old"})["uid"]
    env.clock(run_until_idle=True)
    env.advance(100)
    new = env.publish("app", payload={"name": "new"})["uid"]
    env.clock(run_until_idle=True)
    ok = env.publish("app", payload={"name": "ok", "ok": True})["uid"]
    env.settle()
    new_failed_at = env.event_attempts("app", new)[-1]
    assert (new_failed_at["status"], new_failed_at["attempted_at"]) == (
        "3",
        format_timestamp(start + 120),
    )
    assert len(receiver.received()) == 5
    healthy["on"] = True

    def recover(since: float) -> None:
        response = env.http.post(
            "/v1/application/app/endpoint/ep/recover", json={"since": format_timestamp(since)}
        )
        assert response.status_code == 202, response.text
        env.settle()

    recover(start + 121)  # after every failure: nothing to redeliver
    assert len(receiver.received()) == 5
    assert len(env.endpoint_attempts("app", "ep")) == 5

    recover(start + 120)  # "at or after": the new event's last failure counts
    requests = receiver.wait_for(6)
    assert json.loads(requests[5].body) == {"name": "new"}
    assert len(env.event_attempts("app", old)) == 2
    assert len(env.event_attempts("app", ok)) == 1
    redelivery = env.event_attempts("app", new)[-1]
    assert (redelivery["trigger_type"], redelivery["retry_count"], redelivery["status"]) == (
        "1",
        0,
        "0",
    )

    recover(start)  # now only the old event's latest attempt is a failure
    requests = receiver.wait_for(7)
    assert json.loads(requests[6].body) == {"name": "old"}
    assert len(env.event_attempts("app", new)) == 3
    assert env.event_attempts("app", old)[-1]["trigger_type"] == "1"
    env.clock(run_until_idle=True)
    assert len(receiver.received()) == 7
