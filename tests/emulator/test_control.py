"""The emulator's own API under ``/_emulator/``: health, reset, clock, attempt detail, stream.

Every test starts its own emulator (a reset of everything or a clock change must not leak into
other tests), with a frozen clock unless it tests the clock's speed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import __version__
from emulator.repository import environment_key
from emulator.server import EmulatorServer
from emulator.timestamps import format_timestamp
from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    FROZEN,
    WAIT,
    Env,
    Receiver,
    Reply,
    closed_port,
    running_emulator,
    wait_until,
)
from tests.emulator.helpers import BAD_BODY_MESSAGE, hint

NOT_FOUND = {"error": "Resource not found", "code": 404}


@pytest.fixture(scope="module")
def shared() -> Iterator[EmulatorServer]:
    """One emulator for the tests that only touch their own environment."""
    with running_emulator() as server:
        yield server


@pytest.fixture
def fresh() -> Iterator[EmulatorServer]:
    """An emulator of this test's own, for tests that look at or reset everything."""
    with running_emulator() as server:
        yield server


# Tests that count or reset everything on their emulator get one of their own.
NEEDS_FRESH_EMULATOR = {
    "test_health",
    "test_reset_one_environment",
    "test_reset_everything",
    "test_clock_stays_within_formattable_dates",
}


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> EmulatorServer:
    fresh = request.node.originalname in NEEDS_FRESH_EMULATOR
    server: EmulatorServer = request.getfixturevalue("fresh" if fresh else "shared")
    return server


@pytest.fixture
def new_env(emu: EmulatorServer) -> Iterator[Callable[[], Env]]:
    """Makes API clients, each with its own key; their environments are reset afterwards."""
    made: list[Env] = []

    def make() -> Env:
        env = Env(emu.url)
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            env.reset()
            env.close()


@pytest.fixture
def env(new_env: Callable[[], Env]) -> Env:
    return new_env()


@pytest.fixture
def control(emu: EmulatorServer) -> Iterator[httpx.Client]:
    """An unauthenticated client: the control API needs no key."""
    with httpx.Client(base_url=emu.url, timeout=30.0, verify=CLIENT_SSL) as client:
        yield client


@pytest.fixture
def failing() -> Iterator[Receiver]:
    with Receiver(default=Reply(500, b"boom")) as receiver:
        yield receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


# --------------------------------------------------------------------------- health
def test_health(env: Env, control: httpx.Client, receiver: Receiver) -> None:
    response = control.get("/_emulator/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["in_memory"] is True
    assert body["data_dir"] is None
    assert body["clock"]["time_scale"] == FROZEN
    assert body["counts"] == {
        "environments": 0,
        "applications": 0,
        "endpoints": 0,
        "events": 0,
        "attempts": 0,
    }
    assert body["deliveries"] == 0

    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    env.publish("app")
    env.settle()
    body = control.get("/_emulator/health").json()
    assert body["counts"] == {
        "environments": 1,
        "applications": 1,
        "endpoints": 1,
        "events": 1,
        "attempts": 1,
    }
    assert body["deliveries"] == 1


def test_health_shows_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_emulator(data_dir=data) as server:
        body = httpx.get(server.url + "/_emulator/health", verify=CLIENT_SSL).json()
    assert body["in_memory"] is False
    assert body["data_dir"] == str(data)


# --------------------------------------------------------------------------- reset
def seed(env: Env, failing: Receiver) -> None:
    """An application whose endpoint fails: a retry stays pending."""
    env.app("app")
    env.endpoint("app", "ep", failing.hook(f"/{env.key}"))
    env.publish("app")
    env.settle()


def test_reset_one_environment(
    new_env: Callable[[], Env], control: httpx.Client, failing: Receiver
) -> None:
    one, two = new_env(), new_env()
    seed(one, failing)
    seed(two, failing)
    listed = control.get("/_emulator/environments").json()["data"]
    assert sorted(e["api_key"] for e in listed) == sorted([one.key, two.key])

    response = control.post("/_emulator/reset", json={"api_key": one.key})
    assert response.status_code == 204
    assert response.content == b""

    assert one.http.get("/v1/application/app").status_code == 404
    assert one.http.get("/v1/application").json()["data"] == []
    assert two.http.get("/v1/application/app").status_code == 200
    listed = control.get("/_emulator/environments").json()["data"]
    assert [e["api_key"] for e in listed] == [two.key]
    assert control.get("/_emulator/health").json()["counts"]["applications"] == 1

    # The reset environment's pending retries are gone; the other's go on.
    two.clock(run_until_idle=True)
    assert len(failing.received(f"/{one.key}")) == 1
    assert len(failing.received(f"/{two.key}")) == 7

    # The key can be used again, from scratch.
    one.app("app")
    assert [a["uid"] for a in one.http.get("/v1/application").json()["data"]] == ["app"]


def test_reset_unknown_key_changes_nothing(env: Env, control: httpx.Client) -> None:
    env.app("app")
    response = control.post("/_emulator/reset", json={"api_key": "sk_nobody"})
    assert response.status_code == 204
    assert env.http.get("/v1/application/app").status_code == 200


@pytest.mark.parametrize("body", [None, {}, {"api_key": None}])
def test_reset_everything(
    new_env: Callable[[], Env],
    control: httpx.Client,
    failing: Receiver,
    body: dict[str, Any] | None,
) -> None:
    one, two = new_env(), new_env()
    seed(one, failing)
    seed(two, failing)
    if body is None:
        response = control.post("/_emulator/reset")
    else:
        response = control.post("/_emulator/reset", json=body)
    assert response.status_code == 204
    for env in (one, two):
        assert env.http.get("/v1/application/app").status_code == 404
    health = control.get("/_emulator/health").json()
    assert set(health["counts"].values()) == {0}
    answer = one.clock(run_until_idle=True)
    assert answer["next_due"] is None
    assert len(failing.received()) == 2


@pytest.mark.parametrize(
    ("content", "field"),
    [(b'{"api_key": 5}', "api_key"), (b'{"api_key": ["k"]}', "api_key"), (b"not json", None)],
)
def test_reset_bad_body_is_400(control: httpx.Client, content: bytes, field: str | None) -> None:
    response = control.post("/_emulator/reset", content=content)
    assert response.status_code == 400
    assert response.json() == {"error": BAD_BODY_MESSAGE}
    if field is not None:
        assert hint(response).startswith(f"field `{field}`:")


# --------------------------------------------------------------------------- clock
def test_clock_read(control: httpx.Client) -> None:
    before = time.time()
    body = control.get("/_emulator/clock").json()
    assert set(body) >= {"now", "unix", "time_scale", "next_due", "next_due_unix"}
    assert isinstance(body["unix"], float)
    assert before - 30 < body["unix"] < time.time() + 1
    assert body["now"] == format_timestamp(body["unix"])
    assert body["now"].endswith("+00:00")
    assert body["time_scale"] == FROZEN
    assert body["next_due"] is None
    assert body["next_due_unix"] is None


@pytest.mark.parametrize(
    ("advance", "seconds"),
    [
        ("1h30m", 5400),
        ("1h30m15s", 5415),
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1.5h", 5400),
        ("2H", 7200),
        (" 10m ", 600),
        (45, 45),
        (0.25, 0.25),
        (0, 0),
        ("0", 0),
    ],
)
def test_clock_advance(env: Env, advance: object, seconds: float) -> None:
    before = env.now()
    answer = env.clock(advance=advance)
    assert answer["unix"] - before == pytest.approx(seconds, abs=1e-3)
    assert answer["now"] == format_timestamp(answer["unix"])
    assert env.now() == pytest.approx(answer["unix"], abs=1e-3)


BAD_CLOCK_BODIES: list[tuple[dict[str, Any], int, str]] = [
    ({"advance": "abc"}, 422, "advance"),
    ({"advance": "1x"}, 422, "advance"),
    ({"advance": ""}, 422, "advance"),
    ({"advance": "h"}, 422, "advance"),
    ({"advance": "1h30"}, 422, "advance"),
    ({"advance": "-5"}, 422, "advance"),
    ({"advance": -1}, 422, "advance"),
    ({"advance": "nan"}, 422, "advance"),
    ({"advance": "inf"}, 422, "advance"),
    ({"advance": 1e12}, 422, "advance"),
    ({"advance": True}, 400, "advance"),
    ({"advance": [1]}, 400, "advance"),
    ({"advance": {"s": 1}}, 400, "advance"),
    ({"time_scale": 0}, 422, "time_scale"),
    ({"time_scale": -1}, 422, "time_scale"),
    ({"time_scale": 1001}, 422, "time_scale"),
    ({"time_scale": 1e-300}, 422, "time_scale"),  # would overflow the clock at once
    ({"time_scale": 1e-7}, 422, "time_scale"),
    ({"time_scale": "fast"}, 400, "time_scale"),
    ({"time_scale": True}, 400, "time_scale"),
    ({"to_next_due": "yes"}, 400, "to_next_due"),
    ({"run_until_idle": 1}, 400, "run_until_idle"),
    ({"settle": "no"}, 400, "settle"),
    ({"timeout": 0}, 422, "timeout"),
    ({"timeout": -3}, 422, "timeout"),
    ({"timeout": 601}, 422, "timeout"),
    ({"timeout": "5"}, 422, "timeout"),
    ({"timeout": True}, 422, "timeout"),
    # Nothing is applied when any field is bad.
    ({"advance": 60, "time_scale": 0}, 422, "time_scale"),
    ({"advance": 60, "timeout": 0}, 422, "timeout"),
    ({"time_scale": 2, "settle": "x"}, 400, "settle"),
]


@pytest.mark.parametrize(
    ("body", "status", "field"), BAD_CLOCK_BODIES, ids=[str(b[0]) for b in BAD_CLOCK_BODIES]
)
def test_clock_bad_input_is_a_4xx_naming_the_field(
    control: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    before = control.get("/_emulator/clock").json()
    response = control.post("/_emulator/clock", json=body)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    answer = response.json()
    if status == 400:
        assert answer == {"error": BAD_BODY_MESSAGE}
        assert hint(response).startswith(f"field `{field}`:")
    else:
        assert [e["field"] for e in answer["errors"]] == [field]
        assert answer["errors"][0]["error"]
    after = control.get("/_emulator/clock").json()
    assert after["unix"] == pytest.approx(before["unix"], abs=1e-3)
    assert after["time_scale"] == before["time_scale"]


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'"advance"', b"{"])
def test_clock_body_not_an_object_is_400(control: httpx.Client, content: bytes) -> None:
    response = control.post("/_emulator/clock", content=content)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


def test_clock_stays_within_formattable_dates(control: httpx.Client) -> None:
    """Advances that would take the clock past year 9000 are refused, and it keeps working."""
    century = 100 * 365 * 86400
    for _ in range(80):
        response = control.post("/_emulator/clock", json={"advance": century})
        if response.status_code != 200:
            break
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["advance"]
    clock = control.get("/_emulator/clock")
    assert clock.status_code == 200
    assert clock.json()["now"] < "9000"
    assert control.get("/_emulator/health").status_code == 200

    response = control.post("/_emulator/clock", json={"time_scale": 1e-6})
    assert response.status_code == 200, response.text
    assert control.get("/_emulator/clock").status_code == 200


def test_clock_empty_body_just_settles(control: httpx.Client) -> None:
    response = control.post("/_emulator/clock", content=b"")
    assert response.status_code == 200, response.text
    assert response.json()["settled"] is True


def test_time_scale_change() -> None:
    with running_emulator(time_scale=1.0) as server, Receiver(default=Reply(500)) as failing:
        env = Env(server.url)
        try:
            assert env.http.get("/_emulator/clock").json()["time_scale"] == 1.0
            before = env.now()
            answer = env.clock(time_scale=0.001)  # 1 ms of real time per emulated second
            assert answer["time_scale"] == 0.001
            assert answer["unix"] >= before
            began = time.monotonic()
            start = answer["unix"]
            wait_until(lambda: env.now() - start >= 120, what="120 emulated seconds")
            assert time.monotonic() - began < 2.0

            # Retries run on the fast clock without any advance.
            env.app("app", retry_strategy={"type": "fixed_wait", "retry_delay": 30})
            env.endpoint("app", "ep", failing.hook())
            created = env.publish("app")
            failing.wait_for(4)
            attempts = wait_until(
                lambda: [
                    a for a in env.event_attempts("app", created["uid"]) if a["status"] == "3"
                ][3:],
                what="the last retry to be recorded",
            )
            assert attempts[0]["retry_count"] == 3

            # Slowing down does not move time back or jump it forward.
            last = env.now()
            answer = env.clock(time_scale=1000)
            assert answer["time_scale"] == 1000
            assert answer["unix"] >= last
            assert answer["unix"] - last < 1000  # at most ~1 s of real time at this scale
            settled = env.now()
            assert settled >= answer["unix"]
            assert settled - answer["unix"] < 0.01
        finally:
            env.close()


def test_to_next_due(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", failing.hook())
    env.publish("app")
    env.settle()
    start = env.now()
    answer = env.http.get("/_emulator/clock").json()
    assert answer["next_due_unix"] == pytest.approx(start + 30, abs=1e-3)
    assert answer["next_due"] == format_timestamp(answer["next_due_unix"])

    answer = env.clock(to_next_due=True)
    assert answer["unix"] == pytest.approx(start + 30, abs=1e-3)
    assert len(failing.received()) == 2
    assert answer["next_due_unix"] == pytest.approx(start + 210, abs=1e-3)

    answer = env.clock(to_next_due=True)
    assert len(failing.received()) == 3
    assert answer["unix"] == pytest.approx(start + 210, abs=1e-3)


def test_to_next_due_with_nothing_scheduled_does_not_move(env: Env) -> None:
    start = env.now()
    answer = env.clock(to_next_due=True)
    assert answer["unix"] == pytest.approx(start, abs=1e-3)
    assert answer["next_due"] is None


def test_run_until_idle(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", failing.hook())
    created = env.publish("app")
    start = env.now()
    began = time.monotonic()
    answer = env.clock(run_until_idle=True)
    assert time.monotonic() - began < 5.0
    assert answer["next_due"] is None
    assert answer["unix"] - start == pytest.approx(38_610, abs=1e-2)
    assert len(failing.received()) == 7
    attempts = env.event_attempts("app", created["uid"])
    assert [a["retry_count"] for a in attempts] == list(range(7))
    assert {a["status"] for a in attempts} == {"3"}


def test_settle_false_answers_without_waiting(env: Env) -> None:
    response = env.http.post("/_emulator/clock", json={"advance": 10, "settle": False})
    assert response.status_code == 200
    assert response.json()["settled"] is True  # nothing was due


# --------------------------------------------------------------------------- attempt detail
def test_attempt_detail(env: Env) -> None:
    reply = Reply(201, b"got it", {"X-Receiver": "yes"})
    with Receiver(default=reply) as receiver:
        env.app("app")
        env.endpoint(
            "app",
            "ep",
            receiver.hook(),
            headers={"headers": {"X-Team": "blue"}, "sensitive": {"X-Token": "t0ps3cret"}},
        )
        created = env.publish("app", payload={"order": {"id": 9}})
        env.settle()
        [request] = receiver.wait_for(1)
    [attempt] = env.event_attempts("app", created["uid"])
    detail = env.detail(attempt["id"])

    assert {k: detail[k] for k in attempt} == attempt  # the wire fields, as the API shows them
    assert detail["app_id"] == "app"
    assert detail["payload"] == {"order": {"id": 9}}
    assert detail["endpoint_url"] == receiver.hook()
    assert detail["scheduled_at"] == attempt["attempted_at"]
    assert detail["status"] == "0"
    assert detail["response"] == "got it"
    assert detail["response_status_code"] == 201
    assert isinstance(detail["duration_ms"], (int, float))

    sent = detail["request_headers"]
    assert sent["X-Team"] == "blue"
    assert sent["X-Token"] == "<redacted>"
    assert "t0ps3cret" not in json.dumps(detail)
    assert request.headers["X-Token"] == "t0ps3cret"
    assert sent["Content-Length"] == str(len(request.body))
    assert sent["X-Simplyq-Signature"] == request.headers["X-Simplyq-Signature"]
    assert sent["X-Simplyq-Timestamp"] == request.headers["X-Simplyq-Timestamp"]
    assert sent["User-Agent"] == request.headers["User-Agent"]
    assert {k.lower(): v for k, v in detail["response_headers"].items()}["x-receiver"] == "yes"


def test_attempt_detail_of_a_pending_attempt(env: Env) -> None:
    env.app("app")
    env.endpoint("app", "ep", f"http://127.0.0.1:{closed_port()}/never")
    created = env.publish("app")
    env.settle()
    failed, pending = env.event_attempts("app", created["uid"])
    assert failed["status"] == "3"
    detail = env.detail(pending["id"])
    assert detail["status"] == "1"
    assert detail["attempted_at"] is None
    assert detail["response"] is None
    assert detail["request_headers"] is None
    assert detail["response_headers"] is None
    assert detail["scheduled_at"] == format_timestamp(env.now() + 30)


def test_attempt_detail_unknown_is_404(control: httpx.Client) -> None:
    response = control.get("/_emulator/attempts/eda_nope")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --------------------------------------------------------------------------- stream
@dataclass(frozen=True)
class Sse:
    id: str | None
    event: str
    data: dict[str, Any]


def read_events(
    response: httpx.Response, done: Callable[[list[Sse]], bool], timeout: float = WAIT
) -> list[Sse]:
    """Parse server-sent events until ``done(events)`` (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    events: list[Sse] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if "event" in fields:
                events.append(Sse(fields.get("id"), fields["event"], json.loads(fields["data"])))
                if done(events):
                    return events
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"the stream did not deliver in {timeout} s: {events}")


def delivered(event_uid: str) -> Callable[[list[Sse]], bool]:
    """True once the event was created and one of its attempts finished successfully."""

    def check(events: list[Sse]) -> bool:
        created = any(
            e.event == "event.created" and e.data["data"]["uid"] == event_uid for e in events
        )
        attempted = any(
            e.event == "attempt.updated"
            and e.data["data"]["event_id"] == event_uid
            and e.data["data"]["status"] == "0"
            for e in events
        )
        return created and attempted

    return check


def test_stream_shows_one_environment(
    emu: EmulatorServer, new_env: Callable[[], Env], receiver: Receiver
) -> None:
    mine, other = new_env(), new_env()
    url = f"{emu.url}/_emulator/stream?api_key={mine.key}"
    with (
        httpx.Client(timeout=httpx.Timeout(WAIT), verify=CLIENT_SSL) as client,
        client.stream("GET", url) as response,
    ):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for env in (other, mine):  # the other environment's changes come first
            env.app("app")
            env.endpoint("app", "ep", receiver.hook())
        theirs = other.publish("app", payload={"who": "other"})
        ours = mine.publish("app", payload={"who": "me"})
        events = read_events(response, delivered(ours["uid"]))

    envs = {e.data["env"] for e in events}
    assert envs == {environment_key(mine.key)}
    assert other.key not in json.dumps([e.data for e in events])
    assert theirs["uid"] not in json.dumps([e.data for e in events])
    kinds = [e.event for e in events]
    assert kinds[:2] == ["application.created", "endpoint.created"]
    assert "attempt.created" in kinds
    created = next(e for e in events if e.event == "event.created")
    assert created.data == {
        "kind": "event",
        "action": "created",
        "env": environment_key(mine.key),
        # The wire form plus the application it belongs to.
        "data": {**ours, "app_id": "app"},
    }
    ids = [int(e.id) for e in events if e.id is not None]
    assert ids == sorted(ids) and len(ids) == len(events)
    done = next(
        e for e in events if e.event == "attempt.updated" and e.data["data"]["status"] == "0"
    )
    assert done.data["data"]["response_status_code"] == 200
    assert "request_headers" in done.data["data"]


def test_stream_without_key_shows_every_environment(
    emu: EmulatorServer, new_env: Callable[[], Env], receiver: Receiver
) -> None:
    one, two = new_env(), new_env()
    with (
        httpx.Client(timeout=httpx.Timeout(WAIT), verify=CLIENT_SSL) as client,
        client.stream("GET", f"{emu.url}/_emulator/stream") as response,
    ):
        for env in (one, two):
            env.app("app")
            env.endpoint("app", "ep", receiver.hook())
        first = one.publish("app")
        second = two.publish("app")

        def both(events: list[Sse]) -> bool:
            return delivered(first["uid"])(events) and delivered(second["uid"])(events)

        events = read_events(response, both)
    assert {e.data["env"] for e in events} == {environment_key(one.key), environment_key(two.key)}
