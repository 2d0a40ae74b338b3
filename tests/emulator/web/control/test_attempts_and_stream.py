"""``/_emulator/attempts/{id}`` and the change stream ``/_emulator/stream``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from emulator.repository import environment_key
from emulator.server import EmulatorServer
from emulator.timestamps import format_timestamp
from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    WAIT,
    Env,
    Receiver,
    Reply,
    closed_port,
)
from tests.emulator.helpers import NOT_FOUND


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
