"""End-to-end delivery: a real emulator on 127.0.0.1 sending to real local receivers.

Most tests share one emulator whose clock is frozen (it moves only when a test advances it),
each test with its own API key (reset afterwards, which also cancels its pending retries).
Tests that need other settings (a short delivery timeout, an observed HTTP client) start their
own emulator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.retry import DEFAULT_SCHEDULE
from emulator.server import EmulatorServer
from emulator.signing import WebhookVerificationError, verify
from emulator.timestamps import format_timestamp
from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    Blackhole,
    Env,
    Received,
    Receiver,
    Reply,
    closed_port,
    running_emulator,
    wait_until,
)

GRACE = 600.0  # rotation grace of the shared emulator (seconds)
SECRET = "whsec_" + "Ab3" * 21 + "Z"
ROTATED = "a" * 32
DEFAULT_WAITS = [30, 180, 600, 1800, 7200, 28800]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with running_emulator(rotation_grace_seconds=GRACE) as server:
        yield server


@pytest.fixture
def env(emu: EmulatorServer) -> Iterator[Env]:
    client = Env(emu.url)
    try:
        yield client
    finally:
        client.reset()
        client.close()


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**options: Any) -> Receiver:
        receiver = Receiver(**options)
        made.append(receiver)
        return receiver

    try:
        yield make
    finally:
        for receiver in made:
            receiver.close()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def failing(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver(default=Reply(500, b"boom"))


def hmac_b64(secret: str, timestamp: str, body: bytes) -> str:
    """The signature, computed here independently of ``emulator.signing``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signatures(request: Received) -> list[str]:
    return request.headers["X-Simplyq-Signature"].split(",")


def unix(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def gaps(attempts: list[dict[str, Any]]) -> list[float]:
    times = [unix(a["attempted_at"]) for a in attempts]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def paths(receiver: Receiver) -> list[str]:
    return sorted(r.path for r in receiver.received())


# --------------------------------------------------------------------------- routing
def test_filter_types_route_only_matching_types(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "all", receiver.hook("/all"))
    env.endpoint("app", "users", receiver.hook("/users"), filter_types=["user.created"])
    env.endpoint("app", "two", receiver.hook("/two"), filter_types=["order.paid", "user.deleted"])
    env.endpoint("app", "orders", receiver.hook("/orders"), filter_types=["order.paid"])

    created = env.publish("app", "user.created")
    env.settle()
    assert paths(receiver) == ["/all", "/users"]
    assert env.event_endpoints("app", created["uid"]) == ["all", "users"]

    env.publish("app", "user.deleted")
    env.settle()
    assert paths(receiver) == ["/all", "/all", "/two", "/users"]
    assert env.endpoint_attempts("app", "orders") == []


def test_topics_route(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "any", receiver.hook("/any"))
    env.endpoint("app", "eu", receiver.hook("/eu"), topics=["eu"])
    env.endpoint("app", "asia", receiver.hook("/asia"), topics=["jp", "sg"])

    both = env.publish("app", topics=["us", "eu"], payload={"e": "both"})
    env.settle()
    assert paths(receiver) == ["/any", "/eu"]
    assert env.event_endpoints("app", both["uid"]) == ["any", "eu"]

    # An event without topics never reaches an endpoint that has topics.
    bare = env.publish("app", payload={"e": "bare"})
    env.settle()
    assert paths(receiver) == ["/any", "/any", "/eu"]
    assert env.event_endpoints("app", bare["uid"]) == ["any"]

    env.publish("app", topics=["sg"], payload={"e": "sg"})
    env.settle()
    assert paths(receiver) == ["/any", "/any", "/any", "/asia", "/eu"]


def test_version_route(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "latest", receiver.hook("/latest"))
    env.endpoint("app", "explicit-latest", receiver.hook("/explicit"), version="latest")
    env.endpoint("app", "v1", receiver.hook("/v1"), version="v1")

    env.publish("app", version="v1")
    env.settle()
    assert paths(receiver) == ["/explicit", "/latest", "/v1"]

    env.publish("app", version="v2")
    env.publish("app")  # no version: "latest", which a v1 endpoint does not take
    env.settle()
    assert paths(receiver) == ["/explicit"] * 3 + ["/latest"] * 3 + ["/v1"]


def test_inactive_endpoint_gets_nothing(env: Env, receiver: Receiver, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "on", receiver.hook("/on"))
    env.endpoint("app", "off", receiver.hook("/off"), active=False)
    env.endpoint("app", "flaky", failing.hook("/flaky"))

    created = env.publish("app")
    env.settle()
    assert paths(receiver) == ["/on"]
    assert env.event_endpoints("app", created["uid"]) == ["on", "flaky"]
    assert env.endpoint_attempts("app", "off") == []
    assert len(failing.received()) == 1

    # Deactivated while a retry is pending: the retry does not reach it either.
    response = env.http.put("/v1/application/app/endpoint/flaky", json={"active": False})
    assert response.status_code == 200, response.text
    env.clock(run_until_idle=True)
    assert len(failing.received()) == 1
    env.publish("app")
    env.clock(run_until_idle=True)
    assert paths(receiver) == ["/on", "/on"]
    assert len(failing.received()) == 1


def test_routing_is_case_sensitive(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "type", receiver.hook("/type"), filter_types=["User.Created"])
    env.endpoint("app", "topic", receiver.hook("/topic"), topics=["EU"])
    env.endpoint("app", "version", receiver.hook("/version"), version="V1")

    env.publish("app", "user.created", topics=["eu"], version="v1")
    env.settle()
    assert receiver.received() == []

    env.publish("app", "User.Created", topics=["EU"], version="V1")
    env.settle()
    assert paths(receiver) == ["/topic", "/type", "/version"]


# --------------------------------------------------------------------------- body and signature
PAYLOAD: dict[str, Any] = {
    "id": 42,
    "name": "Zoë — ünïcödé ✓ 😀",
    "nested": {"list": [1, 2.5, None, True, False], "empty": {}},
    "quote": 'he said "hi"\n\ttab \\ backslash',
    "big": 12345678901234567,
}


def test_body_is_the_payload_and_signature_covers_exactly_it(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), secret=SECRET)
    assert env.secret("app", "ep") == SECRET
    created = env.publish("app", "user.created", PAYLOAD)
    env.settle()
    [request] = receiver.wait_for(1)
    now = env.now()

    assert request.method == "POST"
    assert request.path == "/hook"
    assert json.loads(request.body) == PAYLOAD == created["payload"]
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Content-Length"] == str(len(request.body))
    assert "Transfer-Encoding" not in request.headers

    timestamp = request.headers["X-Simplyq-Timestamp"]
    assert timestamp.isdigit()
    assert abs(int(timestamp) - now) <= 1
    assert signatures(request) == [hmac_b64(SECRET, timestamp, request.body)]
    assert verify(SECRET, request.headers, request.body, now=now) == int(timestamp)
    assert verify(env.secret("app", "ep"), request.headers, request.body, now=now)

    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify("whsec_" + "x" * 64, request.headers, request.body, now=now)
    altered = request.body.replace(b"42", b"43")
    assert altered != request.body
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, request.headers, altered, now=now)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, request.headers, request.body + b" ", now=now)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, request.headers, request.body, now=int(timestamp) + 301)
    # The default tolerance is 5 minutes.
    assert verify(SECRET, request.headers, request.body, now=int(timestamp) + 299)

    [attempt] = env.event_attempts("app", created["uid"])
    detail = env.detail(attempt["id"])
    assert detail["payload"] == PAYLOAD
    assert detail["request_headers"]["X-Simplyq-Signature"] == ",".join(signatures(request))
    assert detail["request_headers"]["Content-Length"] == str(len(request.body))


def test_generated_secret_signs(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    secret = env.secret("app", "ep")
    env.publish("app", payload={"k": "v"})
    env.settle()
    [request] = receiver.wait_for(1)
    timestamp = request.headers["X-Simplyq-Timestamp"]
    assert signatures(request) == [hmac_b64(secret, timestamp, request.body)]
    verify(secret, request.headers, request.body, now=env.now())


def test_public_and_sensitive_headers_are_sent(env: Env, receiver: Receiver) -> None:
    env.app("app")
    endpoint = env.endpoint(
        "app",
        "ep",
        receiver.hook(),
        headers={
            "headers": {"X-Team": "payments", "X-Trace": "abc-123"},
            "sensitive": {"Authorization": "Bearer receiver-token", "X-Api-Key": "k-secret"},
        },
    )
    assert endpoint["headers"] == {
        "headers": {"X-Team": "payments", "X-Trace": "abc-123"},
        "sensitive": True,
    }
    created = env.publish("app")
    env.settle()
    [request] = receiver.wait_for(1)
    assert request.headers["X-Team"] == "payments"
    assert request.headers["X-Trace"] == "abc-123"
    assert request.headers["Authorization"] == "Bearer receiver-token"
    assert request.headers["X-Api-Key"] == "k-secret"
    assert request.headers["Content-Length"] == str(len(request.body))
    assert "X-Simplyq-Signature" in request.headers

    # What the emulator shows about the request never reveals sensitive values.
    [attempt] = env.event_attempts("app", created["uid"])
    sent = env.detail(attempt["id"])["request_headers"]
    assert sent["X-Team"] == "payments"
    assert sent["Authorization"] != "Bearer receiver-token"
    assert sent["X-Api-Key"] != "k-secret"
    assert "k-secret" not in json.dumps(env.detail(attempt["id"]))
    shown = env.http.get("/v1/application/app/endpoint/ep").json()
    assert "k-secret" not in json.dumps(shown)


def test_rotation_signs_with_both_secrets_during_grace_then_only_new(
    env: Env, receiver: Receiver
) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), secret=SECRET)

    def deliver_one() -> Received:
        count = len(receiver.received())
        env.publish("app", payload={"n": count})
        env.settle()
        return receiver.wait_for(count + 1)[-1]

    before = deliver_one()
    assert signatures(before) == [
        hmac_b64(SECRET, before.headers["X-Simplyq-Timestamp"], before.body)
    ]

    env.rotate("app", "ep", ROTATED)
    assert env.secret("app", "ep") == ROTATED
    during = deliver_one()
    ts = during.headers["X-Simplyq-Timestamp"]
    assert signatures(during) == [
        hmac_b64(ROTATED, ts, during.body),
        hmac_b64(SECRET, ts, during.body),
    ]
    now = env.now()
    verify(ROTATED, during.headers, during.body, now=now)
    verify(SECRET, during.headers, during.body, now=now)

    env.advance(GRACE - 1)
    late = deliver_one()
    ts = late.headers["X-Simplyq-Timestamp"]
    assert signatures(late) == [hmac_b64(ROTATED, ts, late.body), hmac_b64(SECRET, ts, late.body)]

    env.advance(2)  # now past the grace period
    after = deliver_one()
    ts = after.headers["X-Simplyq-Timestamp"]
    assert signatures(after) == [hmac_b64(ROTATED, ts, after.body)]
    now = env.now()
    verify(ROTATED, after.headers, after.body, now=now)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, after.headers, after.body, now=now)


def test_two_rotations_sign_with_every_valid_secret_newest_first(
    env: Env, receiver: Receiver
) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), secret=SECRET)
    env.rotate("app", "ep", "second")
    env.advance(100)
    env.rotate("app", "ep")  # a generated key
    newest = env.secret("app", "ep")
    assert newest not in (SECRET, "second")

    env.publish("app")
    env.settle()
    [request] = receiver.wait_for(1)
    ts = request.headers["X-Simplyq-Timestamp"]
    assert signatures(request) == [
        hmac_b64(newest, ts, request.body),
        hmac_b64("second", ts, request.body),
        hmac_b64(SECRET, ts, request.body),
    ]

    # The first key's grace ends 100 s before the second's.
    env.advance(GRACE - 50)
    env.publish("app")
    env.settle()
    request = receiver.wait_for(2)[-1]
    ts = request.headers["X-Simplyq-Timestamp"]
    assert signatures(request) == [
        hmac_b64(newest, ts, request.body),
        hmac_b64("second", ts, request.body),
    ]


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


# --------------------------------------------------------------------------- failures
def test_hanging_endpoint_does_not_delay_a_healthy_one() -> None:
    timeout = 1.5
    with (
        running_emulator(delivery_timeout=timeout) as server,
        Blackhole() as hole,
        Receiver() as healthy,
    ):
        env = Env(server.url)
        try:
            env.app(
                "app", retry_strategy={"type": "fixed_wait", "max_retries": 1, "retry_delay": 60}
            )
            env.endpoint("app", "hang", hole.hook())
            env.endpoint("app", "ok", healthy.hook())

            began = time.monotonic()
            created = env.publish("app", payload={"n": 0})
            [first] = healthy.wait_for(1)
            assert first.at - began < timeout * 0.8
            hanging = env.endpoint_attempts("app", "hang")
            assert [a["status"] for a in hanging] == ["2"]  # still waiting for an answer

            # More events while the first still hangs: the healthy endpoint gets them at once.
            for n in range(1, 4):
                env.publish("app", payload={"n": n})
            healthy.wait_for(4)
            assert healthy.received()[-1].at - began < timeout * 0.8
            assert wait_until(lambda: hole.requests_seen() >= 1, what="the hanging request")

            def all_failed() -> list[dict[str, Any]] | None:
                tries = [a for a in env.endpoint_attempts("app", "hang") if a["retry_count"] == 0]
                done = len(tries) == 4 and all(a["status"] == "3" for a in tries)
                return tries if done else None

            failed = wait_until(all_failed, timeout=timeout + 4, what="the hanging tries to fail")
            for attempt in failed:
                assert attempt["response_status_code"] == 0
                assert "timeout" in attempt["response"]
                assert f"{timeout:g} s" in attempt["response"]
            [attempt] = [a for a in failed if a["event_id"] == created["uid"]]
            assert env.detail(attempt["id"])["response_headers"] is None
            # The hung tries were followed by scheduled retries, 60 s later.
            clock = env.http.get("/_emulator/clock").json()
            assert clock["next_due_unix"] == pytest.approx(env.now() + 60, abs=2)
        finally:
            env.close()


def test_deleting_an_endpoint_cancels_its_pending_retries(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "gone", failing.hook("/gone"))
    env.endpoint("app", "kept", failing.hook("/kept"))
    created = env.publish("app")
    env.settle()
    assert paths(failing) == ["/gone", "/kept"]

    assert env.http.delete("/v1/application/app/endpoint/gone").status_code == 204
    env.clock(run_until_idle=True)
    assert len(failing.received("/gone")) == 1
    assert len(failing.received("/kept")) == 7
    assert {a["endpoint_id"] for a in env.event_attempts("app", created["uid"])} == {"kept"}


def test_deleting_an_application_cancels_everything(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "a", failing.hook("/a"))
    env.endpoint("app", "b", failing.hook("/b"))
    env.publish("app")
    env.publish("app")
    env.settle()
    assert len(failing.received()) == 4
    assert env.http.get("/_emulator/clock").json()["next_due"] is not None

    assert env.http.delete("/v1/application/app").status_code == 204
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    env.advance(86_400)
    assert len(failing.received()) == 4


def connections_to(port: int) -> int:
    """Established TCP connections to 127.0.0.1:``port`` (from the kernel's socket table)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp here")
    remote = f"0100007F:{port:04X}"
    rows = [line.split() for line in table.read_text().splitlines()[1:]]
    return sum(1 for row in rows if row[2] == remote and row[3] == "01")


def test_a_deleted_endpoints_connections_are_closed_at_once(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    for _ in range(16):
        env.publish("app")
    env.settle()
    assert connections_to(receiver.port) >= 1  # kept alive for the next delivery
    # A reset (or deleting the endpoint) leaves nothing to deliver there: the connections close
    # within a second or so, not after the minute an idle endpoint's are kept.
    env.reset()
    wait_until(lambda: connections_to(receiver.port) == 0, what="the connections to close")


def test_remote_urls_are_stored_but_never_contacted(receiver: Receiver) -> None:
    made: list[httpx.AsyncClient] = []
    requested: list[str] = []

    async def record(request: httpx.Request) -> None:
        requested.append(str(request.url))

    def client_factory() -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            timeout=5.0, trust_env=False, verify=CLIENT_SSL, event_hooks={"request": [record]}
        )
        made.append(client)
        return client

    remote = ["http://example.com/hook", "http://10.255.255.1/", "https://8.8.8.8:8443/x"]
    with running_emulator(client_factory=client_factory) as server:
        env = Env(server.url)
        try:
            env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
            for n, url in enumerate(remote):
                stored = env.endpoint("app", f"remote{n}", url)
                assert stored["url"] == url
            env.endpoint("app", "local", receiver.hook())
            created = env.publish("app")
            env.clock(run_until_idle=True)

            assert len(receiver.received()) == 1
            attempts = env.event_attempts("app", created["uid"])
            for n, url in enumerate(remote):
                mine = [a for a in attempts if a["endpoint_id"] == f"remote{n}"]
                assert [a["retry_count"] for a in mine] == [0, 1]
                for attempt in mine:
                    assert attempt["status"] == "3"
                    assert attempt["response_status_code"] == 0
                    assert "--allow-remote-delivery" in attempt["response"]
                    assert url in attempt["response"]
        finally:
            env.close()
    # The engine only ever made a client for the loopback endpoint and sent one request.
    assert requested == [receiver.hook()]
    assert len(made) == 1


def test_connection_refused_fails_with_the_error_text(env: Env) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    env.app("app")
    env.endpoint("app", "ep", url)
    created = env.publish("app")
    env.settle()
    failed, pending = env.event_attempts("app", created["uid"])
    assert failed["status"] == "3"
    assert failed["response_status_code"] == 0
    assert failed["response"]
    assert "connect" in failed["response"].lower()
    assert failed["attempted_at"] is not None
    assert (pending["status"], pending["retry_count"], pending["response"]) == ("1", 1, None)
    detail = env.detail(failed["id"])
    assert detail["endpoint_url"] == url
    assert detail["response_headers"] is None


def test_localhost_url_is_delivered(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", f"http://localhost:{receiver.port}/local")
    env.publish("app")
    env.settle()
    assert paths(receiver) == ["/local"]


def test_url_the_http_client_rejects_fails_the_try(env: Env) -> None:
    """``xn--.localhost`` passes URL validation but is not valid IDNA: the try fails cleanly
    (it used to crash the sender and leave the attempt "sending" forever)."""
    env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
    env.endpoint("app", "ep", "http://xn--.localhost/hook")
    created = env.publish("app")
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    attempts = env.event_attempts("app", created["uid"])
    assert [(a["status"], a["retry_count"], a["response_status_code"]) for a in attempts] == [
        ("3", 0, 0),
        ("3", 1, 0),
    ]
    assert all(a["response"] for a in attempts)


@pytest.mark.parametrize(
    "status", [301, 302, 303, 307, 308, 400, 401, 404, 410, 429, 500, 502, 503]
)
def test_non_2xx_answers_fail_with_code_and_body(
    env: Env, make_receiver: Callable[..., Receiver], status: int
) -> None:
    receiver = make_receiver()
    receiver.default = Reply(
        status, f"nope {status}".encode(), {"Location": receiver.hook("/elsewhere")}
    )
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    env.settle()
    attempt = env.event_attempts("app", created["uid"])[0]
    assert attempt["status"] == "3"
    assert attempt["response_status_code"] == status
    assert attempt["response"] == f"nope {status}"
    # Redirects are not followed.
    assert paths(receiver) == ["/hook"]
    assert env.detail(attempt["id"])["response_headers"]["location"] == receiver.hook("/elsewhere")
    filtered = env.http.get(
        f"/v1/application/app/event/{created['uid']}/delivery_attempt",
        params={"response_status_code": status // 100 * 100},
    ).json()["data"]
    assert [a["id"] for a in filtered] == [attempt["id"]]


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_answers_succeed(env: Env, make_receiver: Callable[..., Receiver], status: int) -> None:
    receiver = make_receiver(default=Reply(status, b"" if status == 204 else b"thanks"))
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    [attempt] = env.event_attempts("app", created["uid"])
    assert attempt["status"] == "0"
    assert attempt["response_status_code"] == status
    assert attempt["response"] == ("" if status == 204 else "thanks")


@pytest.mark.parametrize("status", [200, 500])
def test_huge_response_body_is_truncated(
    env: Env, make_receiver: Callable[..., Receiver], status: int
) -> None:
    limit = 64 * 1024
    receiver = make_receiver(default=Reply(status, b"0123456789" * 200_000))
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    env.settle()
    attempt = env.event_attempts("app", created["uid"])[0]
    assert attempt["status"] == ("0" if status == 200 else "3")
    assert attempt["response_status_code"] == status
    assert len(attempt["response"]) == limit
    assert attempt["response"] == ("0123456789" * 7000)[:limit]
