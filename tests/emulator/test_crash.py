"""kill -9 under load: every event the emulator acknowledged (201) is there after a restart.

The emulator runs as ``python -m emulator serve`` in a child process; the test publishes from a
few threads, SIGKILLs the child mid-load, restarts it on the same data directory and checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tinydb import TinyDB

from tests.emulator.helpers import hook, local_client
from tests.processes import Served

KEY = "sk_test_crash"
LOAD_SECONDS = 3.0
MAX_EVENTS = 2000
ACKS_BEFORE_KILL = 300
PUBLISHERS = 4


def serve(data_dir: Path, log: Path) -> Served:
    """``python -m emulator serve`` on ``data_dir``, as a user runs it."""
    return Served(log, "--data-dir", str(data_dir), "--api-key", KEY)


@pytest.fixture
def children(tmp_path: Path) -> Iterator[list[Served]]:
    """Every child the test starts; all are killed afterwards, whatever happens."""
    started: list[Served] = []
    yield started
    for child in started:
        child.kill()


def client(child: Served) -> httpx.Client:
    return local_client(child.url, KEY, timeout=5.0)


def publish_until_killed(
    child: Served, worker: int, acked: list[str], stop: threading.Event
) -> None:
    """Publish events until told to stop, the child dies, or the bounds are reached."""
    deadline = time.monotonic() + LOAD_SECONDS
    with client(child) as api:
        for n in range(MAX_EVENTS // PUBLISHERS):
            if stop.is_set() or time.monotonic() > deadline:
                return
            uid = f"w{worker}-{n}"
            try:
                response = api.post(
                    "/v1/application/crash/event",
                    json={"uid": uid, "event_type": "load.test", "payload": {"n": n}},
                )
            except httpx.TransportError:
                return  # killed
            if response.status_code == 201:
                acked.append(uid)


def all_pages(api: httpx.Client, path: str, key: str) -> list[str]:
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 150}
    for _ in range(MAX_EVENTS * 2 // 150 + 2):
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item[key] for item in body["data"]]
        if not body["has_more"]:
            return seen
        params = {"limit": 150, "starting_after": seen[-1]}
    raise AssertionError("more pages than events")


def test_acknowledged_events_survive_sigkill(tmp_path: Path, children: list[Served]) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "emulator.log"
    first = serve(data_dir, log)
    children.append(first)
    first.wait_ready()
    with client(first) as api:
        assert api.post("/v1/application", json={"uid": "crash", "name": "C"}).status_code == 201
        response = api.post(
            "/v1/application/crash/endpoint", json={"uid": "sink", "url": hook("sink")}
        )
        assert response.status_code == 201

    acked: list[str] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=publish_until_killed, args=(first, i, acked, stop), daemon=True)
        for i in range(PUBLISHERS)
    ]
    for worker in workers:
        worker.start()
    # Let the load build up (bounded), then kill the emulator in the middle of it.
    deadline = time.monotonic() + LOAD_SECONDS / 2
    while len(acked) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    first.kill()
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
        assert not worker.is_alive()
    assert acked, "nothing was acknowledged before the kill"

    # Every file on disk is a whole TinyDB database (no torn writes), no temp file is loaded.
    for file in data_dir.rglob("*.json"):
        with TinyDB(file) as db:
            db.table("_default").all()

    second = serve(data_dir, log)
    children.append(second)
    second.wait_ready()
    with client(second) as api:
        stored = all_pages(api, "/v1/application/crash/event", "uid")
        missing = set(acked) - set(stored)
        assert not missing, f"{len(missing)} of {len(acked)} acknowledged events were lost"
        assert len(stored) == len(set(stored))
        # Each event was routed to the endpoint: it has its attempt (or gets one on restart).
        attempts = all_pages(api, "/v1/application/crash/endpoint/sink/delivery_attempt", "id")
        assert len(attempts) >= len(acked)
        # The emulator keeps working on the same data.
        response = api.post(
            "/v1/application/crash/event",
            json={"uid": "after-restart", "event_type": "load.test", "payload": {}},
        )
        assert response.status_code == 201
    # Checked once the process is gone: a running emulator may be mid-write.
    second.stop()
    assert second.process.returncode == 0
    assert not list(data_dir.rglob("*.tmp"))
