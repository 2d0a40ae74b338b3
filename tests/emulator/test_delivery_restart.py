"""Durability of deliveries: what was routed before a stop is delivered after a restart.

Each test runs an emulator on a data directory under ``tmp_path``, stops it (gracefully, as
``EmulatorServer.stop`` does) and starts a new one on the same directory, with the same API key.
The receiver is down (or hangs) before the restart and works after it, on the same port.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.signing import verify
from tests.emulator.delivery_helpers import (
    Blackhole,
    Env,
    Receiver,
    Reply,
    closed_port,
    running_emulator,
    wait_until,
)

SECRET = "whsec_" + "R3st4rt" * 9 + "x"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def key() -> str:
    return "sk_restart_" + secrets.token_hex(8)


@pytest.fixture
def port() -> int:
    return closed_port()


class Session:
    """One run of the emulator on the data directory."""

    def __init__(self, data_dir: Path, key: str, **config: Any) -> None:
        self._context = running_emulator(data_dir=data_dir, **config)
        self.server = self._context.__enter__()
        self.env = Env(self.server.url, key)

    def stop(self) -> None:
        self.env.close()
        self._context.__exit__(None, None, None)


@pytest.fixture
def session(data_dir: Path, key: str) -> Iterator[Any]:
    """Starts emulator runs on the data directory; any still running are stopped at the end."""
    runs: list[Session] = []

    def start(**config: Any) -> Session:
        run = Session(data_dir, key, **config)
        runs.append(run)
        return run

    try:
        yield start
    finally:
        for run in runs:
            if run.env.http.is_closed is False:
                run.stop()


def test_scheduled_retry_is_delivered_after_restart(session: Any, port: int) -> None:
    url = f"http://127.0.0.1:{port}/hook"
    first = session()
    first.env.app("app")
    first.env.endpoint("app", "ep", url, secret=SECRET)
    created = first.env.publish("app", payload={"order": 1, "note": "survives"})
    first.env.settle()
    failed, pending = first.env.event_attempts("app", created["uid"])
    assert (failed["status"], failed["response_status_code"]) == ("3", 0)
    assert (pending["status"], pending["retry_count"]) == ("1", 1)
    first.stop()

    with Receiver(port=port) as receiver:
        second = session()
        env = second.env
        assert env.event_attempts("app", created["uid"]) == [failed, pending]
        env.settle()
        assert receiver.received() == []  # not due yet: 30 s after the failure
        env.advance(30)
        [request] = receiver.wait_for(1)
        assert json.loads(request.body) == {"order": 1, "note": "survives"}
        verify(SECRET, request.headers, request.body, now=env.now())

        attempts = env.event_attempts("app", created["uid"])
        assert [a["id"] for a in attempts] == [failed["id"], pending["id"]]
        assert attempts[1]["status"] == "0"
        assert attempts[1]["retry_count"] == 1
        env.clock(run_until_idle=True)
        assert len(receiver.received()) == 1
        second.stop()


def test_attempt_in_flight_at_stop_is_sent_again_after_restart(session: Any) -> None:
    with Blackhole() as hole:
        port = hole.port
        first = session(delivery_timeout=30.0)
        first.env.app("app")
        first.env.endpoint("app", "ep", hole.hook("/hook"), secret=SECRET)
        created = first.env.publish("app", payload={"n": 1})

        def sending() -> bool:
            attempts = first.env.event_attempts("app", created["uid"])
            return hole.requests_seen() == 1 and [a["status"] for a in attempts] == ["2"]

        wait_until(sending, what="the request to hang")
        first.stop()  # while the receiver still owes an answer

    with Receiver(port=port) as receiver:
        second = session()
        env = second.env
        env.settle()
        [request] = receiver.wait_for(1)
        assert json.loads(request.body) == {"n": 1}
        verify(SECRET, request.headers, request.body, now=env.now())
        [attempt] = env.event_attempts("app", created["uid"])
        assert (attempt["status"], attempt["retry_count"]) == ("0", 0)
        second.stop()


def test_many_pending_deliveries_all_arrive_after_restart(session: Any, port: int) -> None:
    url = f"http://127.0.0.1:{port}"
    first = session()
    env = first.env
    env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 5, "retry_delay": 60})
    env.endpoint("app", "a", url + "/a")
    env.endpoint("app", "b", url + "/b", filter_types=["order.paid"])
    events = [env.publish("app", "order.paid", {"n": n})["uid"] for n in range(5)]
    events += [env.publish("app", "user.created", {"n": n})["uid"] for n in range(5, 8)]
    env.settle()
    first.stop()

    with Receiver(port=port) as receiver:
        second = session()
        env = second.env
        env.clock(run_until_idle=True)
        got_a = sorted(json.loads(r.body)["n"] for r in receiver.received("/a"))
        got_b = sorted(json.loads(r.body)["n"] for r in receiver.received("/b"))
        assert got_a == list(range(8))
        assert got_b == list(range(5))
        for uid in events:
            for attempt in env.event_attempts("app", uid):
                assert attempt["status"] in ("0", "3")
            latest = {a["endpoint_id"]: a["status"] for a in env.event_attempts("app", uid)}
            assert set(latest.values()) == {"0"}
        second.stop()

        # What was delivered stays delivered: a third run sends nothing again.
        third = session()
        third.env.clock(run_until_idle=True)
        assert len(receiver.received()) == 13
        third.stop()


def test_routed_event_whose_attempts_were_lost_is_delivered_after_restart(
    session: Any, data_dir: Path
) -> None:
    with Receiver(default=Reply(500, b"down")) as failing:
        first = session()
        first.env.app("app")
        first.env.endpoint("app", "ep", failing.hook())
        created = first.env.publish("app", payload={"lost": True})
        first.env.settle()
        assert len(failing.received()) == 1
        first.stop()
        port = failing.port

    # A crash between the files of one flush: the event was written, its attempts were not.
    shutil.rmtree(data_dir / "attempts")

    with Receiver(port=port) as receiver:
        second = session()
        env = second.env
        env.settle()
        [request] = receiver.wait_for(1)
        assert json.loads(request.body) == {"lost": True}
        [attempt] = env.event_attempts("app", created["uid"])
        assert (attempt["status"], attempt["trigger_type"], attempt["retry_count"]) == (
            "0",
            "0",
            0,
        )
        second.stop()


def test_clock_does_not_go_back_across_a_restart(session: Any, port: int) -> None:
    """A clock advanced before the stop must not fall back to the wall clock after it: a retry
    scheduled after the advance is due the same emulated delay after the restart."""
    first = session()
    env = first.env
    env.app("app")
    env.endpoint("app", "ep", f"http://127.0.0.1:{port}/hook")
    env.advance(10 * 3600)
    created = env.publish("app", payload={"late": True})
    env.settle()
    failed, pending = env.event_attempts("app", created["uid"])
    stopped_at = env.now()
    first.stop()

    with Receiver(port=port) as receiver:
        second = session()
        env = second.env
        assert env.now() >= stopped_at
        env.advance(30)
        [request] = receiver.wait_for(1)
        assert json.loads(request.body) == {"late": True}
        attempts = env.event_attempts("app", created["uid"])
        assert [a["id"] for a in attempts] == [failed["id"], pending["id"]]
        assert attempts[1]["status"] == "0"
        assert attempts[1]["attempted_at"] >= failed["attempted_at"]
        second.stop()
