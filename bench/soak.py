"""Soak test: publish and deliver for minutes, and check that nothing grows and nothing is lost.

    .venv/bin/python -m bench.soak [--minutes 1] [--events 200]

A ``serve`` child process (fsync on, a time scale of 0.01 so retries come quickly) delivers to
two endpoints on a receiver here: ``ok`` answers 200, ``flaky`` fails the first try of every
event with a 500 (its retry succeeds). Each round creates the application, publishes
``--events`` events, waits (bounded) until every (event, endpoint) pair has exactly one
successful attempt (from the attempt API, and the receiver agrees), then resets the environment,
so the store returns to the same size. The emulator's RSS, open file descriptors and data files
are printed at the start, every minute and at the end, with the growth from the first minute on
and over the second half (a leak grows in both; an allocator's high-water mark is a step, flat
in the second half). Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.delivery import child_process

KEY = "sk_test_soak"
AUTH = {"Authorization": f"Bearer {KEY}"}
TIME_SCALE = 0.01
ROUND_TIMEOUT = 120.0
IN_FLIGHT = 8
ENDPOINTS = ("ok", "flaky")


# --------------------------------------------------------------------------- the receiver
class Tally:
    """Tries per (event number, endpoint), and the successful ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tries: Counter[tuple[int, str]] = Counter()
        self.successes: Counter[tuple[int, str]] = Counter()

    def answer(self, n: int, endpoint: str) -> int:
        with self.lock:
            self.tries[(n, endpoint)] += 1
            ok = endpoint == "ok" or self.tries[(n, endpoint)] > 1
            if ok:
                self.successes[(n, endpoint)] += 1
            return 200 if ok else 500

    def clear(self) -> None:
        with self.lock:
            self.tries.clear()
            self.successes.clear()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.tally.answer(int(orjson.loads(body)["n"]), self.path.strip("/"))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.tally = Tally()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


# --------------------------------------------------------------------------- the emulator
@contextlib.contextmanager
def emulator(data_dir: Path) -> Iterator[tuple[str, int]]:
    """``simplyq-emulator serve`` as a child process: (base URL, PID)."""
    args = ["emulator", "serve", "--port", "0", "--data-dir", str(data_dir)]
    with child_process([*args, "--time-scale", str(TIME_SCALE), "--api-key", KEY]) as started:
        yield started


@dataclass(frozen=True)
class Sample:
    """What the emulator process holds at one moment."""

    rss_kib: int
    fds: int
    journal_bytes: int
    segment_files: int
    segment_bytes: int

    @classmethod
    def of(cls, pid: int, data_dir: Path) -> Sample:
        rss = 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        try:
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            fds = -1
        journal = sum(p.stat().st_size for p in data_dir.glob("journal-*.log"))
        segments = list(data_dir.glob("*/*.json"))
        return cls(rss, fds, journal, len(segments), sum(p.stat().st_size for p in segments))

    def line(self, label: str) -> str:
        return (
            f"{label:>9}: RSS {self.rss_kib / 1024:7.1f} MiB  open fds {self.fds:4d}  "
            f"journal {self.journal_bytes / 1024:8.1f} KiB  segments {self.segment_files:3d} "
            f"files {self.segment_bytes / 1024:8.1f} KiB"
        )


# --------------------------------------------------------------------------- one round
async def successes(api: httpx.AsyncClient, endpoint: str) -> Counter[str]:
    """Successful attempts per event uid, from the attempt API (every page)."""
    found: Counter[str] = Counter()
    params: dict[str, Any] = {"limit": 150}
    for _ in range(10_000):
        page = await api.get(
            f"/v1/application/soak/endpoint/{endpoint}/delivery_attempt", params=params
        )
        page.raise_for_status()
        body = page.json()
        for attempt in body["data"]:
            if attempt["status"] == "0":
                found[attempt["event_id"]] += 1
        if not body["has_more"]:
            return found
        params = {"limit": 150, "starting_after": body["data"][-1]["id"]}
    raise RuntimeError("more attempt pages than can be")


async def one_round(api: httpx.AsyncClient, receiver: Receiver, events: int) -> tuple[int, int]:
    """Create, publish, wait until every pair is delivered once, reset; (pairs, tries)."""
    created = await api.post(
        "/v1/application",
        json={
            "uid": "soak",
            "name": "soak",
            "retry_strategy": {"type": "fixed_wait", "max_retries": 5, "retry_delay": 1},
        },
    )
    created.raise_for_status()
    for endpoint in ENDPOINTS:
        answer = await api.post(
            "/v1/application/soak/endpoint",
            json={"uid": endpoint, "url": f"{receiver.url}/{endpoint}"},
        )
        answer.raise_for_status()

    uids: list[str] = []
    numbers = iter(range(events))

    async def publisher() -> None:
        for n in numbers:
            answer = await api.post(
                "/v1/application/soak/event",
                json={"event_type": "soak.tick", "payload": {"n": n}},
            )
            answer.raise_for_status()
            uids.append(answer.json()["uid"])

    await asyncio.gather(*(publisher() for _ in range(IN_FLIGHT)))

    deadline = time.monotonic() + ROUND_TIMEOUT
    tally = receiver.tally
    while True:
        with tally.lock:
            done = sum(tally.successes.values())
        if done >= events * len(ENDPOINTS):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"round not delivered in {ROUND_TIMEOUT} s: {done} successes")
        await asyncio.sleep(0.05)
    for endpoint in ENDPOINTS:
        found = await successes(api, endpoint)
        wrong = {uid: found[uid] for uid in uids if found[uid] != 1}
        if wrong or len(found) != events:
            raise RuntimeError(f"{endpoint}: not exactly one success per event: {wrong}")
    with tally.lock:
        if any(count != 1 for count in tally.successes.values()):
            raise RuntimeError("the receiver saw a pair succeed twice")
        tries = sum(tally.tries.values())
    tally.clear()
    reset = await api.post("/_emulator/reset", json={"api_key": KEY})
    reset.raise_for_status()
    return events * len(ENDPOINTS), tries


async def soak(url: str, pid: int, data_dir: Path, receiver: Receiver, args: Any) -> None:
    started = time.monotonic()
    end = started + args.minutes * 60
    rounds = pairs = tries = 0
    first = Sample.of(pid, data_dir)
    # A sample a minute. From the first on the store's size is steady, so RSS must be too.
    minutes: list[Sample] = []
    print(first.line("start"), flush=True)
    next_report = started + 60
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30, trust_env=False) as api:
        while time.monotonic() < end:
            done, sent = await one_round(api, receiver, args.events)
            rounds, pairs, tries = rounds + 1, pairs + done, tries + sent
            if time.monotonic() >= next_report:
                minute = int((time.monotonic() - started) // 60)
                sample = Sample.of(pid, data_dir)
                minutes.append(sample)
                print(sample.line(f"{minute} min"), flush=True)
                next_report += 60
    # The last round reset the store: give the flusher its idle checkpoint before measuring.
    await asyncio.sleep(3)
    last = Sample.of(pid, data_dir)
    print(last.line("end"), flush=True)
    elapsed = time.monotonic() - started
    print(
        f"verified: {rounds} rounds in {elapsed:.0f} s, {pairs} (event, endpoint) pairs each "
        f"delivered exactly once ({tries} tries, {pairs / elapsed:.0f} deliveries/s); "
        f"RSS {(last.rss_kib - first.rss_kib) / 1024:+.1f} MiB, open fds {last.fds - first.fds:+d}"
    )
    if minutes:
        growth = (last.rss_kib - minutes[0].rss_kib) / 1024
        print(
            f"steady state: RSS {growth:+.1f} MiB from the first minute to the end "
            f"({growth / max(1.0, elapsed / 60 - 1):+.2f} MiB per minute; goal: no growth)"
        )
    if len(minutes) >= 4:
        # A leak grows all along; an allocator's high-water mark (a larger batch than before)
        # is a step, after which RSS stays flat. The second half tells them apart.
        half = minutes[len(minutes) // 2]
        spent = len(minutes) - len(minutes) // 2
        second = (last.rss_kib - half.rss_kib) / 1024
        print(
            f"second half: RSS {second:+.1f} MiB over its {spent} minutes "
            f"({second / spent:+.2f} MiB per minute)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=1.0, help="how long (default 1)")
    parser.add_argument("--events", type=int, default=200, help="events per round (default 200)")
    args = parser.parse_args(argv)
    receiver = Receiver()
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="simplyq-soak-") as scratch:
            data_dir = Path(scratch) / "data"
            with emulator(data_dir) as (url, pid):
                asyncio.run(soak(url, pid, data_dir, receiver, args))
    except RuntimeError as error:
        print(f"soak: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
