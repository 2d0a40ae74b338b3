"""End-to-end delivery benchmark: publish to an application with 2 endpoints on a local receiver
until every delivery has arrived, next to a raw ``httpx.AsyncClient`` POST loop to the same
receiver, measured in the same run.

    .venv/bin/python -m bench.delivery [--events 2000] [--light 200] [--quick] [--httpx-publisher]

Reports deliveries/s for both and their ratio (goal: >= 1.0), publish-to-receipt latency at
light load (one event at a time; goals: p50 < 2.5 ms, p99 < 10 ms) and its tail (p50, p99,
p99.9) under the heavy load of the throughput run. The emulator and the receiver are child
processes on free 127.0.0.1 ports; the publisher and the raw loop run here.

The publisher is a lean keep-alive HTTP/1.1 client (the emulator's own ``Sender``), so that
what is measured is the emulator: publishing through one ``httpx.AsyncClient`` with 32
requests in flight cost this process 10.2 s of CPU for 2,000 events while the emulator used
5.2 s, and the benchmark measured its own client. ``--httpx-publisher`` runs that too, for
comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import orjson

from emulator.sender import Sender
from emulator.signing import signed_headers

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": "Bearer bench-delivery"}
PUBLISH_HEADERS = {
    b"Authorization": AUTH["Authorization"].encode(),
    b"Content-Type": b"application/json",
}
PUBLISHERS = 32  # publishes in flight in the throughput run
SECRET = "whsec_" + "b" * 64
IN_FLIGHT = 8  # per client, as the emulator's lanes
START_TIMEOUT = 30.0


@contextlib.contextmanager
def child(args: Sequence[str], profile: Path | None = None) -> Iterator[str]:
    """Run a server module as a child process and yield its base URL (with ``profile``, a
    py-spy recording of it goes to that file, in py-spy's raw format)."""
    with child_process(args, profile) as (url, _pid):
        yield url


@contextlib.contextmanager
def child_process(args: Sequence[str], profile: Path | None = None) -> Iterator[tuple[str, int]]:
    """``child``, yielding the base URL and the process's PID."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    spy = None
    if profile is not None:
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "-r", "200"]
        spy = subprocess.Popen(
            [*command, "-f", "raw", "-o", str(profile), "-p", str(process.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if match := re.search(r"Base URL:\s+(http://\S+)", line):
                url = match.group(1)
        if url is None:
            raise RuntimeError(f"{args[0]} did not start")
        yield url, process.pid
    finally:
        if spy is not None:
            spy.send_signal(2)  # py-spy writes its file on Ctrl-C
            spy.wait(timeout=30)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(*pids: int) -> tuple[float, ...]:
    """CPU time (user + system) each process has used so far."""
    hz = os.sysconf("SC_CLK_TCK")
    used = []
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        used.append((int(fields[11]) + int(fields[12])) / hz)
    return tuple(used)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Publisher:
    """Publishes events and asks the receiver how many arrived, on kept-alive connections."""

    def __init__(self, emulator: str, receiver: str) -> None:
        self.emulator = emulator
        self.receiver = receiver
        # A Sender's connections all go to one place: this one's to the receiver.
        self._poller = Sender(1 << 20, 1, "bench-publisher")

    async def publish(self, app: str, n: int) -> None:
        raise NotImplementedError

    async def count(self) -> int:
        return int((await self._poller.post(self.receiver + "/_count", {}, b"")).body)

    async def wait_count(self, expected: int, limit: float) -> int:
        """Poll the receiver until ``expected`` deliveries arrived (at most ``limit`` s)."""
        deadline = time.monotonic() + limit
        count = 0
        while time.monotonic() < deadline:
            count = await self.count()
            if count >= expected:
                break
            await asyncio.sleep(0.005)
        return count

    async def aclose(self) -> None:
        self._poller.close()


class LeanPublisher(Publisher):
    """Publishes through the emulator's own lean keep-alive client."""

    def __init__(self, emulator: str, receiver: str, connections: int) -> None:
        super().__init__(emulator, receiver)
        self._sender = Sender(1 << 20, connections, "bench-publisher")

    async def publish(self, app: str, n: int) -> None:
        body = orjson.dumps({"event_type": "bench", "payload": {"n": n, "type": "bench"}})
        url = f"{self.emulator}/v1/application/{app}/event"
        answer = await self._sender.post(url, PUBLISH_HEADERS, body)
        if answer.status_code != 201:
            raise RuntimeError(f"publish answered {answer.status_code}: {answer.body[:300]!r}")

    async def aclose(self) -> None:
        self._sender.close()
        await super().aclose()


class HttpxPublisher(Publisher):
    """The same through one ``httpx.AsyncClient`` (what the benchmark used before)."""

    def __init__(self, emulator: str, receiver: str, connections: int) -> None:
        super().__init__(emulator, receiver)
        self._client = httpx.AsyncClient(
            base_url=emulator, headers=AUTH, limits=httpx.Limits(max_connections=connections)
        )

    async def publish(self, app: str, n: int) -> None:
        body = {"event_type": "bench", "payload": {"n": n, "type": "bench"}}
        (await self._client.post(f"/v1/application/{app}/event", json=body)).raise_for_status()

    async def aclose(self) -> None:
        await self._client.aclose()
        await super().aclose()


async def raw_loop(receiver: str, total: int) -> float:
    """Signed POSTs straight to the receiver; returns deliveries/s."""
    clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=IN_FLIGHT)) for _ in range(2)]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient, path: str) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = orjson.dumps({"n": n, "type": "bench"})
            headers = signed_headers([SECRET], int(time.time()), body)
            headers["Content-Type"] = "application/json"
            response = await client.post(receiver + path, content=body, headers=headers)
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(
        *(worker(c, f"/raw{i}") for i, c in enumerate(clients) for _ in range(IN_FLIGHT))
    )
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return total / elapsed


async def setup(api: httpx.AsyncClient, receiver: str, app: str) -> None:
    (await api.post("/v1/application", json={"uid": app, "name": app})).raise_for_status()
    for i in (1, 2):
        endpoint = {"uid": f"ep{i}", "url": f"{receiver}/{app}/ep{i}", "secret": SECRET}
        (await api.post(f"/v1/application/{app}/endpoint", json=endpoint)).raise_for_status()


async def receipts(api: httpx.AsyncClient, receiver: str, app: str) -> list[tuple[int, float]]:
    """(event number, arrival time) of every delivery of ``app``'s events so far."""
    records = orjson.loads((await api.get(receiver + "/_dump")).content)
    return [(n, at) for n, path, at in records if path.startswith(f"/{app}/")]


async def emulator_throughput(
    api: httpx.AsyncClient, publisher: Publisher, app: str, events: int
) -> tuple[float, list[float]]:
    """Publish ``events`` events (``PUBLISHERS`` in flight) to 2 endpoints; deliveries/s until
    all arrived, and the milliseconds from each publish request to each of its receipts."""
    await setup(api, publisher.receiver, app)
    counter = iter(range(events))
    sent: dict[int, float] = {}

    async def publishing() -> None:
        for n in counter:
            sent[n] = time.monotonic()
            await publisher.publish(app, n)

    started = time.perf_counter()
    await asyncio.gather(*(publishing() for _ in range(PUBLISHERS)))
    arrived = await publisher.wait_count(2 * events, 120)
    elapsed = time.perf_counter() - started
    if arrived < 2 * events:
        raise RuntimeError(f"only {arrived} of {2 * events} deliveries arrived")
    latencies = [(at - sent[n]) * 1000 for n, at in await receipts(api, publisher.receiver, app)]
    return arrived / elapsed, latencies


async def light_latency(api: httpx.AsyncClient, publisher: Publisher, events: int) -> list[float]:
    """One event at a time; milliseconds from the publish request to each receipt."""
    await setup(api, publisher.receiver, "light")
    sent: dict[int, float] = {}
    for n in range(events):
        sent[n] = time.monotonic()
        await publisher.publish("light", n)
        await publisher.wait_count(2 * (n + 1), 5)
    return [(at - sent[n]) * 1000 for n, at in await receipts(api, publisher.receiver, "light")]


async def run(
    events: int, light: int, data_dir: str | None, profile: Path | None, with_httpx: bool
) -> None:
    httpx_rate: float | None = None
    with child_process(["bench.receiver_app"]) as (receiver, receiver_pid):
        raw_before = cpu_seconds(os.getpid(), receiver_pid)
        raw_rate = await raw_loop(receiver, 2 * events)
        raw_after = cpu_seconds(os.getpid(), receiver_pid)
        raw_cpu = [b - a for a, b in zip(raw_before, raw_after, strict=True)]
        async with httpx.AsyncClient() as probe:
            await probe.get(receiver + "/_dump")
        storage = ["--data-dir", data_dir] if data_dir else ["--in-memory"]
        serve = ["emulator", "serve", "--port", "0", *storage]
        with child_process(serve, profile) as (emulator, emulator_pid):
            async with httpx.AsyncClient(base_url=emulator, headers=AUTH) as api:
                publisher = LeanPublisher(emulator, receiver, PUBLISHERS)
                try:
                    before = cpu_seconds(os.getpid(), emulator_pid, receiver_pid)
                    rate, heavy = await emulator_throughput(api, publisher, "load", events)
                    after = cpu_seconds(os.getpid(), emulator_pid, receiver_pid)
                    latencies = await light_latency(api, publisher, light)
                finally:
                    await publisher.aclose()
                if with_httpx:
                    slow = HttpxPublisher(emulator, receiver, 64)
                    try:
                        httpx_rate, _ = await emulator_throughput(api, slow, "slow", events)
                    finally:
                        await slow.aclose()
    ours, server, receiving = (b - a for a, b in zip(before, after, strict=True))
    ratio = rate / raw_rate
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    mode = "durable (fsync)" if data_dir else "in-memory"
    print(f"delivery benchmark, {events} events x 2 endpoints, emulator {mode}; 2 cores shared")
    print(
        f"  raw httpx POST loop     {raw_rate:9.0f} deliveries/s   (CPU seconds: this process "
        f"{raw_cpu[0]:.2f}, receiver {raw_cpu[1]:.2f})"
    )
    print(
        f"  emulator end-to-end     {rate:9.0f} deliveries/s   ratio {ratio:.2f}  "
        f"(goal >= 1.0: {'PASS' if ratio >= 1.0 else 'FAIL'})"
    )
    print(
        f"  CPU seconds in the throughput run: emulator {server:.2f}, receiver {receiving:.2f}, "
        f"publisher (this process) {ours:.2f}"
    )
    if httpx_rate is not None:
        print(
            f"  the same, published through one httpx.AsyncClient  {httpx_rate:9.0f} "
            f"deliveries/s   ratio {httpx_rate / raw_rate:.2f}  (the publisher's CPU bounds it)"
        )
    light_ok = p50 < 2.5 and p99 < 10
    print(
        f"  publish-to-receipt, light load  p50 {p50:.2f} ms  p99 {p99:.2f} ms  "
        f"p99.9 {percentile(latencies, 0.999):.2f} ms  mean {statistics.fmean(latencies):.2f} ms "
        f"over {len(latencies)} deliveries "
        f"(goal p50 < 2.5 ms, p99 < 10 ms: {'PASS' if light_ok else 'FAIL'})"
    )
    print(
        f"  publish-to-receipt, heavy load  p50 {percentile(heavy, 0.5):.2f} ms  "
        f"p99 {percentile(heavy, 0.99):.2f} ms  p99.9 {percentile(heavy, 0.999):.2f} ms  "
        f"over {len(heavy)} deliveries of the throughput run (no goal)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--light", type=int, default=200)
    parser.add_argument("--in-memory", action="store_true", help="no data dir (no fsync)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 events")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="record the emulator with py-spy into FILE"
    )
    parser.add_argument(
        "--httpx-publisher",
        action="store_true",
        help="also publish the throughput run through one httpx.AsyncClient (the old way)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.light = 200, 30
    with tempfile.TemporaryDirectory(prefix="simplyq-bench-") as tmp:
        data_dir = None if args.in_memory else tmp
        asyncio.run(run(args.events, args.light, data_dir, args.profile, args.httpx_publisher))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
