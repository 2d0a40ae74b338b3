"""Dashboard benchmark: how fast it is interactive with 10,000 stored events, and how fast a
published event shows up in its list.

    .venv/bin/python -m bench.tui [--events 10000] [--samples 20]

The emulator runs as a child process (``simplyq-emulator serve --in-memory``) on a free port;
the events are published through the API (about 50 at a time) to an application with one
endpoint, a local receiver answering 204, and every delivery is settled before measuring.
The dashboard runs headless (``App.run_test``) in this process, as ``simplyq-emulator tui``
would run it.

- *interactive*: from creating the app until its event list holds every stored event and
  a key press (``up``) has moved the cursor;
- *publish to row*: from sending ``POST /event`` until the new event is a row of the list
  and the screen has been refreshed (median and worst of ``--samples`` per run).

Each of ``--runs`` dashboards is measured and the median reported (the numbers move with the
machine's load; the load average is printed with them).

Goals: interactive under 2 s, publish to row under 250 ms. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emulator.client import AsyncSimplyQ, SimplyQ, SimplyQError
from tui.app import DashboardApp

API_KEY = "sk_bench_tui"
APP = "bench"
INTERACTIVE_GOAL = 2.0
ROW_GOAL = 0.250
START_TIMEOUT = 30.0
CONCURRENCY = 50


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def receiver() -> Iterator[str]:
    """A webhook receiver answering 204, on a free port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator() -> Iterator[str]:
    """``simplyq-emulator serve --in-memory`` in a child process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--in-memory", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        with SimplyQ(API_KEY, url) as client:
            while True:
                try:
                    client.emulator.health()
                    break
                except SimplyQError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the emulator did not start") from None
                    time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def seed(url: str, hook: str, count: int) -> float:
    """Publish ``count`` events and let every delivery finish; returns the seconds it took."""
    started = time.perf_counter()
    async with AsyncSimplyQ(API_KEY, url) as client:
        await client.applications.create({"uid": APP, "name": "Benchmark"})
        await client.endpoints.create(APP, {"uid": "orders", "url": hook})
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with semaphore:
                await client.events.create(
                    APP,
                    {
                        "event_type": ("order.created", "order.paid", "user.signup")[i % 3],
                        "topics": ["eu"] if i % 2 else ["us"],
                        "payload": {"n": i, "customer": f"cus_{i:06d}", "total": i * 3},
                    },
                )

        await asyncio.gather(*(one(i) for i in range(count)))
        await client.emulator.settle(timeout=120)
    return time.perf_counter() - started


async def measure(url: str, count: int, samples: int) -> tuple[float, list[float]]:
    """(seconds until interactive, publish-to-row latencies in seconds)."""
    started = time.perf_counter()
    app = DashboardApp(url, API_KEY)
    async with app.run_test(size=(160, 45)) as pilot:
        events = app.main.events
        while events.row_count < count or events.virtual_size.height <= count:
            await asyncio.sleep(0.002)
        before = events.cursor
        app.simulate_key("up")  # no waiting for idle: the attempts are still being listed
        while events.cursor == before:
            await asyncio.sleep(0.001)
        interactive = time.perf_counter() - started
        listing = app.snapshot_seconds or 0.0
        print(f"  interactive in {interactive:.2f} s (listing {listing:.2f} s)", flush=True)
        await pilot.press("end")  # back on the newest row: the list follows new events
        latencies: list[float] = []
        async with AsyncSimplyQ(API_KEY, url) as client:
            for i in range(samples):
                sent = time.perf_counter()
                event = await client.events.create(
                    APP, {"event_type": "bench.row", "payload": {"sample": i}}
                )
                while app.model.visible[-1].uid != event["uid"]:
                    await asyncio.sleep(0.001)
                await pilot.pause()  # drawn
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(0.05)
    return interactive, latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tui", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20, help="publishes per run")
    parser.add_argument("--runs", type=int, default=3, help="dashboards started (median)")
    args = parser.parse_args(argv)
    starts: list[float] = []
    latencies: list[float] = []
    with receiver() as hook, emulator() as url:
        seconds = asyncio.run(seed(url, hook, args.events))
        print(f"seeded {args.events:,} events (delivered) in {seconds:.1f} s")
        for _ in range(args.runs):
            started, rows = asyncio.run(measure(url, args.events, args.samples))
            starts.append(started)
            latencies.extend(rows)
            args.events += args.samples  # the next dashboard lists these too
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f}")
    interactive = statistics.median(starts)
    median, worst = statistics.median(latencies), max(latencies)
    ok_start, ok_row = interactive < INTERACTIVE_GOAL, median < ROW_GOAL
    print(
        f"interactive with 10,000+ events: median {interactive:.2f} s of {len(starts)} runs "
        f"(each: {', '.join(f'{s:.2f}' for s in starts)})  "
        f"(goal < {INTERACTIVE_GOAL:g} s)  {'PASS' if ok_start else 'FAIL'}"
    )
    print(
        f"publish to row: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
        f"over {len(latencies)}  (goal < {ROW_GOAL * 1000:.0f} ms)  "
        f"{'PASS' if ok_row else 'FAIL'}"
    )
    return 0 if ok_start and ok_row else 1


if __name__ == "__main__":
    raise SystemExit(main())
