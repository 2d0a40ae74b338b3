"""Faulty receivers: every way a webhook handler can misbehave is recorded right, retried on
the strategy, and never slows down a healthy endpoint.

The receivers are raw sockets (``receivers.RawReceiver``): they hang, close the connection
before or in the middle of an answer, redirect, refuse, fail, trickle bytes slower than the
timeout, send garbage or a body that never ends. The emulator runs with a 1 s delivery timeout
and a frozen clock (time moves only when the test advances it), so the retry schedule is exact.

``tests/emulator/delivery/test_failures.py`` covers the single cases (each status class, a hanging
endpoint beside a healthy one, truncation of a 2 MB body); here every fault is driven through
a whole retry strategy side by side, and the healthy endpoint's latency is measured with and
without faulty neighbours.
"""

from __future__ import annotations

import itertools
import json
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import Env, Receiver, closed_port, fresh_env, running_emulator
from tests.hardening import tally
from tests.hardening.receivers import RawReceiver, RawRequest, answer

TIMEOUT = 1.0  # the emulator's delivery timeout in these tests
RETRY_DELAY = 60
MAX_RETRIES = 2
RESPONSE_LIMIT = 64 * 1024


# --------------------------------------------------------------------------- behaviours
def hang(receiver: RawReceiver) -> Callable[[socket.socket, RawRequest], None]:
    """Read the request, never answer (until the receiver closes)."""

    def behave(conn: socket.socket, request: RawRequest) -> None:
        receiver.stopping.wait(30)

    return behave


def close_at_once(conn: socket.socket, request: RawRequest) -> None:
    conn.close()


def close_mid_answer(conn: socket.socket, request: RawRequest) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly part of it")
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()


def garbage(conn: socket.socket, request: RawRequest) -> None:
    conn.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    conn.close()


def trickle(receiver: RawReceiver, head_too: bool) -> Callable[[socket.socket, RawRequest], None]:
    """One byte every 0.1 s: the whole answer would take far longer than the timeout."""
    answer_bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n" + b"x" * 200

    def behave(conn: socket.socket, request: RawRequest) -> None:
        start = 0 if head_too else answer_bytes.index(b"\r\n\r\n") + 4
        if start:
            conn.sendall(answer_bytes[:start])
        for index in range(start, len(answer_bytes)):
            if receiver.stopping.wait(0.1):
                return
            conn.sendall(answer_bytes[index : index + 1])

    return behave


@dataclass
class Endless:
    """A 200 whose chunked body never ends (bounded here at 256 MiB); counts what it sent."""

    receiver: RawReceiver
    sent: int = 0

    def __call__(self, conn: socket.socket, request: RawRequest) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % 65536 + b"0123456789abcdef" * 4096 + b"\r\n"
        conn.settimeout(5)
        for _ in range(4096):
            if self.receiver.stopping.is_set():
                return
            conn.sendall(chunk)  # raises once the emulator has hung up
            self.sent += 65536


@dataclass(frozen=True)
class Fault:
    """A faulty endpoint and what every one of its tries must record."""

    name: str
    make: Callable[[RawReceiver], Callable[[socket.socket, RawRequest], None]] | None
    status: str  # the attempts' status
    code: int  # response_status_code
    says: str  # in the recorded response
    slow: bool = False  # a try lasts the whole timeout


FAULTS = [
    Fault("hang", hang, "3", 0, "timeout: no answer within 1 s", slow=True),
    Fault("close", lambda r: close_at_once, "3", 0, "disconnected"),
    Fault("close-mid-answer", lambda r: close_mid_answer, "3", 0, "RemoteProtocolError"),
    Fault("garbage", lambda r: garbage, "3", 0, "RemoteProtocolError"),
    Fault("trickle-head", lambda r: trickle(r, True), "3", 0, "timeout", slow=True),
    Fault("trickle-body", lambda r: trickle(r, False), "3", 0, "timeout", slow=True),
    Fault(
        "redirect",
        lambda r: answer(302, b"moved", b"Location: http://127.0.0.1:9/elsewhere\r\n"),
        "3",
        302,
        "moved",
    ),
    Fault("not-found", lambda r: answer(404, b"no such hook"), "3", 404, "no such hook"),
    Fault("gone", lambda r: answer(410, b"gone"), "3", 410, "gone"),
    Fault("unavailable", lambda r: answer(503, b"try later"), "3", 503, "try later"),
    Fault("server-error", lambda r: answer(500, b"x" * 200_000), "3", 500, "x" * 100),
    Fault("refused", None, "3", 0, "ConnectError"),
]


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with running_emulator(delivery_timeout=TIMEOUT) as server:
        yield server


@pytest.fixture
def env(emu: EmulatorServer) -> Iterator[Env]:
    yield from fresh_env(emu.url)


@pytest.fixture
def faulty() -> Iterator[dict[str, RawReceiver]]:
    made: dict[str, RawReceiver] = {}
    try:
        for fault in FAULTS:
            if fault.make is not None:
                receiver = RawReceiver()
                receiver.behaviour = fault.make(receiver)
                made[fault.name] = receiver
        yield made
    finally:
        for receiver in made.values():
            receiver.close()


def unix(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def add_faulty_endpoints(env: Env, app: str, faulty: dict[str, RawReceiver], refused: str) -> None:
    for fault in FAULTS:
        url = refused if fault.make is None else faulty[fault.name].hook(f"/{fault.name}")
        env.endpoint(app, fault.name, url)


# --------------------------------------------------------------------------- records and retries
def test_each_fault_is_recorded_and_retried_on_the_strategy(
    env: Env, faulty: dict[str, RawReceiver]
) -> None:
    strategy = {"type": "fixed_wait", "max_retries": MAX_RETRIES, "retry_delay": RETRY_DELAY}
    env.app("app", retry_strategy=strategy)
    add_faulty_endpoints(env, "app", faulty, f"http://127.0.0.1:{closed_port()}/refused")
    endless = Endless(RawReceiver())
    endless.receiver.behaviour = endless
    try:
        env.endpoint("app", "endless", endless.receiver.hook("/endless"))
        started = time.monotonic()
        created = env.publish("app")
        env.settle()
        first_round = time.monotonic() - started
        for _ in range(MAX_RETRIES):
            env.advance(RETRY_DELAY)
        answer_ = env.clock(run_until_idle=True)
        assert answer_["next_due"] is None  # every strategy ran out
        attempts = env.event_attempts("app", created["uid"])
    finally:
        endless.receiver.close()

    # Slow faults run side by side, each on its own lane: a round of tries takes one timeout.
    assert first_round < TIMEOUT * 4, first_round
    checked = 0
    for fault in FAULTS:
        mine = [a for a in attempts if a["endpoint_id"] == fault.name]
        assert [a["retry_count"] for a in mine] == list(range(MAX_RETRIES + 1)), fault.name
        times = [unix(a["attempted_at"]) for a in mine]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(RETRY_DELAY <= gap <= RETRY_DELAY + 2 for gap in gaps), (fault.name, gaps)
        for attempt in mine:
            assert attempt["status"] == fault.status, (fault.name, attempt)
            assert attempt["response_status_code"] == fault.code, (fault.name, attempt)
            assert fault.says.lower() in attempt["response"].lower(), (fault.name, attempt)
            assert len(attempt["response"]) <= RESPONSE_LIMIT
            detail = env.detail(attempt["id"])
            if fault.slow:
                assert detail["duration_ms"] >= TIMEOUT * 1000 * 0.9
            if fault.code:
                assert detail["response_headers"] is not None
            else:
                assert detail["response_headers"] is None
            checked += 1
        if fault.make is not None:
            # One request per try: redirects are not followed, nothing is sent twice.
            paths = [r.path for r in faulty[fault.name].received()]
            assert paths == [f"/{fault.name}"] * (MAX_RETRIES + 1), (fault.name, paths)
    # The endless body: a success, its first 64 KiB kept, and the emulator stopped reading.
    [ok] = [a for a in attempts if a["endpoint_id"] == "endless"]
    assert (ok["status"], ok["response_status_code"]) == ("0", 200)
    assert len(ok["response"]) == RESPONSE_LIMIT
    assert endless.sent < 64 * 1024 * 1024, endless.sent
    assert env.detail(ok["id"])["duration_ms"] < TIMEOUT * 1000
    tally.add("faulty receiver attempts checked", checked + 1)


# --------------------------------------------------------------------------- latency
def healthy_latencies(env: Env, app: str, healthy: Receiver, count: int) -> list[float]:
    """Seconds from publishing an event to the healthy receiver having it, one event at a time
    (the next is published once the healthy endpoint got the last: latency, not throughput)."""
    latencies = []
    for n in range(count):
        before = len(healthy.received())
        sent = time.monotonic()
        env.publish(app, payload={"n": n, "app": app})
        [request] = healthy.wait_for(before + 1, timeout=30)[before:]
        assert json.loads(request.body) == {"n": n, "app": app}
        latencies.append(request.at - sent)
    return latencies


def test_a_healthy_endpoint_keeps_its_latency_beside_faulty_ones(
    env: Env, faulty: dict[str, RawReceiver]
) -> None:
    count = 25
    with Receiver() as alone, Receiver() as beside:
        env.app("quiet")
        env.endpoint("quiet", "healthy", alone.hook("/healthy"))
        env.app("noisy")
        env.endpoint("noisy", "healthy", beside.hook("/healthy"))
        add_faulty_endpoints(env, "noisy", faulty, f"http://127.0.0.1:{closed_port()}/refused")
        baseline = healthy_latencies(env, "quiet", alone, count)
        noisy = healthy_latencies(env, "noisy", beside, count)
    p50_alone, p50_noisy = statistics.median(baseline), statistics.median(noisy)
    worst = max(noisy)
    tally.note(
        "healthy endpoint latency",
        f"p50 {p50_alone * 1000:.1f} ms alone, {p50_noisy * 1000:.1f} ms beside "
        f"{len(FAULTS)} faulty endpoints (max {worst * 1000:.1f} ms; timeout {TIMEOUT:g} s)",
    )
    # Generous: the faulty tries share the CPU (one event loop, a shared machine), but the
    # healthy lane never waits for them: never a timeout, and the same order of magnitude.
    assert p50_noisy < max(10 * p50_alone, p50_alone + 0.2), (baseline, noisy)
    assert worst < TIMEOUT, noisy


def test_faulty_receivers_do_not_exhaust_the_emulator(
    env: Env, faulty: dict[str, RawReceiver]
) -> None:
    """Many events to hanging and trickling endpoints: each lane keeps at most 8 tries in flight
    and the API answers at once meanwhile."""
    env.app("app")
    env.endpoint("app", "hang", faulty["hang"].hook("/hang"))
    env.endpoint("app", "trickle", faulty["trickle-body"].hook("/trickle"))
    for n in range(40):
        env.publish("app", payload={"n": n})

    def in_flight() -> int:
        hang = [a for a in env.endpoint_attempts("app", "hang") if a["status"] == "2"]
        return len(hang)

    deadline = time.monotonic() + 5
    while len(faulty["hang"].received()) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert in_flight() <= 8
    started = time.monotonic()
    assert env.http.get("/v1/application/app/event", params={"limit": 150}).status_code == 200
    assert time.monotonic() - started < 0.5
    # The tries still hanging are cancelled by the environment's reset in the teardown.
