"""Load: 10,000 events fanned out to 3 local endpoints, one failing half of the time.

The emulator runs as its own process (``simplyq-emulator serve --in-memory``, as a user runs
it), and so does each of the three receivers (``fast_receiver``); the test publishes with 16
concurrent requests.
The flaky receiver fails the first try of every delivery (so half of its requests) and the
application retries at once (``fixed_wait``, ``retry_delay`` 0), so those pairs succeed on
their retry. Then, from the attempt API alone (every page of every endpoint's
attempts), every (event, endpoint) pair must end with exactly one success, with nothing left
pending, and the receivers must have been sent exactly what the attempts say.
"""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.delivery_helpers import CLIENT_SSL
from tests.hardening import tally
from tests.processes import Served

EVENTS = int(os.environ.get("HARDENING_LOAD_EVENTS", "10000"))
CONCURRENCY = 16
KEY = "sk_test_load"
ADMIN = "sk_admin_load"  # moving the clock of an emulator with --api-key needs it
ENDPOINTS = ("first", "second", "flaky")
MAX_RETRIES = 10
DEADLINE = 300.0  # seconds for every delivery to finish (bounded wait)


class FastReceiver:
    """``fast_receiver`` in its own process (see there); ``counts()`` asks what it answered."""

    def __init__(self, mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.hardening.fast_receiver", "--mode", mode],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 15)
        assert ready, "the receiver did not start"
        line = self.process.stdout.readline()
        assert line.startswith("port "), line
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def counts(self) -> dict[str, int]:
        with httpx.Client(timeout=10) as client:
            counts: dict[str, int] = client.get(self.url + "/_count").json()
            return counts

    def close(self) -> None:
        self.process.kill()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def receivers() -> Iterator[dict[str, FastReceiver]]:
    made: dict[str, FastReceiver] = {}
    try:
        for name in ENDPOINTS:
            made[name] = FastReceiver("fail-first" if name == "flaky" else "ok")
        yield made
    finally:
        for receiver in made.values():
            receiver.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    process = Served(tmp_path / "load.log", "--in-memory", "--api-key", KEY, "--admin-key", ADMIN)
    try:
        yield process.wait_ready()
    finally:
        process.kill()


async def publish_all(url: str) -> list[str]:
    """Publish EVENTS events with CONCURRENCY requests in flight; returns the acknowledged uids."""
    acked: list[str] = []
    uids = iter(range(EVENTS))
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
        limits=limits,
        verify=CLIENT_SSL,
    ) as client:

        async def worker() -> None:
            for n in uids:
                uid = f"evt-{n:05d}"
                response = await client.post(
                    "/v1/application/load/event",
                    json={"uid": uid, "event_type": "load.test", "payload": {"n": n}},
                )
                assert response.status_code == 201, response.text
                acked.append(uid)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return acked


def all_attempts(api: httpx.Client, endpoint: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 150}
    for _ in range(EVENTS * (MAX_RETRIES + 1) // 150 + 2):
        response = api.get(
            f"/v1/application/load/endpoint/{endpoint}/delivery_attempt", params=params
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        if not body["has_more"]:
            return items
        params = {"limit": 150, "starting_after": items[-1]["id"]}
    raise AssertionError("more pages than attempts could fill")


@pytest.mark.slow
def test_ten_thousand_events_to_three_endpoints_all_succeed(
    served: Served, receivers: dict[str, FastReceiver]
) -> None:
    with httpx.Client(
        base_url=served.url,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=DEADLINE,
        verify=CLIENT_SSL,
    ) as api:
        strategy = {"type": "fixed_wait", "max_retries": MAX_RETRIES, "retry_delay": 0}
        response = api.post(
            "/v1/application", json={"uid": "load", "name": "load", "retry_strategy": strategy}
        )
        assert response.status_code == 201
        for name, receiver in receivers.items():
            response = api.post(
                "/v1/application/load/endpoint",
                json={"uid": name, "url": f"{receiver.url}/{name}"},
            )
            assert response.status_code == 201

        started = time.monotonic()
        acked = asyncio.run(publish_all(served.url))
        published = time.monotonic() - started
        assert len(acked) == len(set(acked)) == EVENTS

        # Every try due has run (retries are due at once): bounded by DEADLINE.
        answer = api.post(
            "/_emulator/clock",
            json={"run_until_idle": True, "timeout": DEADLINE},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["settled"] is True, answer.json()
        assert answer.json()["next_due"] is None
        delivered = time.monotonic() - started
        health = api.get("/_emulator/health").json()
        assert health["counts"]["events"] == EVENTS

        successes = 0
        tries: Counter[str] = Counter()
        for name in ENDPOINTS:
            attempts = all_attempts(api, name)
            assert len({a["id"] for a in attempts}) == len(attempts)
            tries[name] = len(attempts)
            ok = Counter(a["event_id"] for a in attempts if a["status"] == "0")
            failed = Counter(a["event_id"] for a in attempts if a["status"] == "3")
            assert not [a for a in attempts if a["status"] not in ("0", "3")], name
            never = sorted(set(acked) - set(ok))
            assert not never, (
                f"{name}: {len(never)} pairs never succeeded: "
                f"{[a for a in attempts if a['event_id'] in never[:2]]}"
            )
            assert max(ok.values()) == 1, f"{name}: a pair succeeded twice"
            successes += len(ok)
            # The flaky endpoint fails each delivery's first try (500) and takes its retry; the
            # others take every first try. Nothing else fails, nothing is tried twice.
            expected = [("3", 500, 0), ("0", 200, 1)] if name == "flaky" else [("0", 200, 0)]
            tries_of: dict[str, list[tuple[str, int, int]]] = {}
            for a in attempts:
                tries_of.setdefault(a["event_id"], []).append(
                    (a["status"], a["response_status_code"], a["retry_count"])
                )
            wrong = {uid: seen for uid, seen in tries_of.items() if seen != expected}
            assert not wrong, (name, len(wrong), list(wrong.items())[:3])
            # The receiver answered exactly the tries the attempt API shows.
            counts = receivers[name].counts()
            assert counts["requests"] == len(attempts), (name, counts)
            assert counts["ok"] == len(ok) and counts["failed"] == sum(failed.values()), name
    assert successes == EVENTS * len(ENDPOINTS)
    tally.add("load events checked", EVENTS)
    tally.note(
        "load",
        f"{EVENTS} events x {len(ENDPOINTS)} endpoints: {successes} pairs each with exactly one "
        f"success (from the attempt API, {sum(tries.values())} attempts, flaky endpoint "
        f"{tries['flaky']} tries), nothing lost: verified; published in {published:.1f} s, "
        f"all delivered in {delivered:.1f} s",
    )
