"""Publish and list benchmark of the emulator against a bare Starlette echo app, with wrk.

    .venv/bin/python -m bench.publish [--duration 2] [--rounds 5] [--connections 32]
                                      [--events 100000] [--quick]

Every number comes from one load generator (wrk, one thread, pinned to the other core than the
servers'). Servers are child processes on free 127.0.0.1 ports: the echo and the seeded stores'
servers last the whole run, the empty stores' are new in each round. Each kind of run is made
once per round, in turn, and every ratio is taken round by round (each figure printed is the
median of the rounds). The store with
``--events`` events is seeded in-process by the server's own parts (``emulator.app.build``:
repository, service and delivery engine, the endpoint answering 204 through a mock client), so
its files are what the server writes and the server started on it has no delivery to make.
Each run first waits a little for other processes to leave the CPU and then reports how much
they used anyway ("others"). Failed goals are reported, not fatal: the exit status is non-zero
only when something broke (a server that did not start, wrk missing or failing, responses
other than 2xx).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import orjson

from emulator.app import build
from emulator.config import EmulatorConfig
from emulator.models import AttemptStatus
from emulator.validation import parse_application, parse_endpoint, parse_event

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# An event-like body of about 200 bytes; no uid, so every request creates a new event.
BODY: dict[str, object] = {
    "event_type": "user.signup",
    "payload": {
        "user": "alice@example.com",
        "plan": "pro",
        "id": 1003,
        "name": "Alice Example",
        "country": "NL",
        "referrer": "newsletter",
        "signed_up_at": "2024-05-01T12:00:00Z",
    },
}
# Seeded events have this type; the endpoint only takes it, so the load's events route nowhere.
SEED_TYPE = "bench.seed"
DEAD_URL = "http://127.0.0.1:9/"  # nothing listens: deliveries (if any) fail fast
WEEK = 7 * 86400
SMALL_STORE = 100  # the listing's baseline: the same endpoint's list on a nearly empty store


def one_connection_listing(events: str) -> str:
    """The name of the row listing, on one connection, a store of ``events`` events."""
    return f"list attempts limit=50, 1 conn ({events})"


def stored_publish(events: str) -> str:
    """The name of the row publishing into the store of ``events`` seeded events."""
    return f"publish, {events} events stored"


SEED_BATCH = 5000  # publishes in flight at once while seeding: one group commit each
START_TIMEOUT = 300.0
DISTURBED = 0.2  # cores used by other processes during a run that make its numbers doubtful
QUIET_WAIT = 6.0  # seconds per second of run that a run waits at most for an idle machine
# Two cores: the server gets one, wrk the other (they still share the machine).
PIN = (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
SERVER_CPU, WRK_CPU = 0, 1


def pinned(cpu: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that runs the child on one CPU."""
    if not PIN:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


# --------------------------------------------------------------------------- wrk
@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    # CPU used meanwhile by processes other than this server and wrk, in cores.
    others: float = 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk time {text!r}")
    return float(match[1]) * UNIT_MS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, output, re.MULTILINE)

    rps, p50, p99, total = (
        find(r"^Requests/sec:\s+([\d.]+)"),
        find(r"^\s+50%\s+(\S+)"),
        find(r"^\s+99%\s+(\S+)"),
        find(r"^\s+(\d+) requests in"),
    )
    if rps is None or p50 is None or p99 is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    non_2xx = find(r"Non-2xx or 3xx responses:\s+(\d+)")
    sockets = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    return WrkResult(
        rps=float(rps[1]),
        p50_ms=_ms(p50[1]),
        p99_ms=_ms(p99[1]),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def lua_string(text: str) -> str:
    level = "="
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def wrk_script(path: Path, method: str, body: bytes | None) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body.decode())}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in AUTH.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def busy_ticks(pid: int | None = None) -> int:
    """CPU clock ticks used so far by the machine, or by one process (all its threads)."""
    if pid is None:
        user, nice, system, _, _, irq, softirq, steal = Path("/proc/stat").read_text().split()[1:9]
        return sum(int(n) for n in (user, nice, system, irq, softirq, steal))
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def wait_quiet(pid: int, limit: float) -> None:
    """Wait (at most ``limit`` seconds) until nothing but process ``pid`` uses the CPU much:
    other sessions' test runs on the same 2 cores would skew the next run."""
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = busy_ticks() - busy_ticks(pid)
        time.sleep(0.5)
        if (busy_ticks() - busy_ticks(pid) - before) / hz / 0.5 < DISTURBED / 2:
            return


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    server: Child,
    path: str,
    script: Path,
    args: argparse.Namespace,
    connections: int | None = None,
) -> WrkResult:
    command = [
        "wrk", "-t1", f"-c{connections or args.connections}", f"-d{args.duration}s", "--latency",
        "-s", str(script), server.url + path,
    ]  # fmt: skip
    wait_quiet(server.process.pid, QUIET_WAIT * args.duration)
    hz = os.sysconf("SC_CLK_TCK")
    before = (time.monotonic(), busy_ticks(), busy_ticks(server.process.pid), children_seconds())
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        preexec_fn=pinned(WRK_CPU),
    )
    elapsed = time.monotonic() - before[0]
    machine = (busy_ticks() - before[1]) / hz
    ours = (busy_ticks(server.process.pid) - before[2]) / hz + children_seconds() - before[3]
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return replace(parse_wrk(done.stdout), others=max(0.0, machine - ours) / elapsed)


# --------------------------------------------------------------------------- servers
class Child:
    """A server child process whose output goes to a log file; killed and waited for on exit."""

    def __init__(self, command: Sequence[str], log: Path, prefix: Sequence[str] = ()) -> None:
        """``python command...``, run by ``prefix`` when given (``valgrind ...``)."""
        self.log = log
        self.started = time.monotonic()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*prefix, sys.executable, *command],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=pinned(SERVER_CPU),
            )
        self.url = ""

    def fail(self, why: str) -> RuntimeError:
        return RuntimeError(f"{why}; its output:\n{self.log.read_text(errors='replace')}")

    def wait_url(self) -> str:
        """The base URL the child printed (it binds port 0, so there is no race for a port)."""
        deadline = self.started + START_TIMEOUT
        while not self.url:
            match = re.search(r"Base URL:\s+(http://\S+)", self.log.read_text(errors="replace"))
            if match:
                self.url = match[1]
            elif self.process.poll() is not None or time.monotonic() > deadline:
                raise self.fail("the server did not start")
            else:
                time.sleep(0.01)
        return self.url

    def wait_healthy(self, path: str) -> float:
        """Seconds from spawning until ``GET path`` answered 200."""
        url = self.wait_url() + path
        deadline = self.started + START_TIMEOUT
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=5).status_code == 200:
                    return time.monotonic() - self.started
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise self.fail(f"{path} did not answer")
            time.sleep(0.01)

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(match[1]) / 1024 if match else float("nan")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn shuts down and the emulator flushes
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


@contextlib.contextmanager
def child(command: Sequence[str], log: Path) -> Iterator[Child]:
    process = Child(command, log)
    try:
        yield process
    finally:
        process.close()


@contextlib.contextmanager
def profiled(server: Child, name: str, args: argparse.Namespace | None) -> Iterator[None]:
    """With ``--profile DIR`` (and ``args`` given), record the server with py-spy while the
    block runs."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if args is None or args.profile is None or not Path(spy).exists():
        yield
        return
    args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile / f"{name}.txt"
    command = [spy, "record", "-r", "200", "-f", "raw", "-o", str(out), "-p"]
    recorder = subprocess.Popen(
        [*command, str(server.process.pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pinned(WRK_CPU),
    )
    try:
        yield
    finally:
        recorder.send_signal(2)  # py-spy writes its file on Ctrl-C
        try:
            recorder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()


def create_application(base: str, body: dict[str, object]) -> str:
    answer = httpx.post(f"{base}/v1/application", json=body, headers=AUTH, timeout=10)
    answer.raise_for_status()
    uid: str = answer.json()["uid"]
    return uid


def check_publish(base: str, app_uid: str) -> None:
    """One publish by hand before the load: it must be a 201 with a generated uid."""
    answer = httpx.post(
        f"{base}/v1/application/{app_uid}/event", content=orjson.dumps(BODY), headers=AUTH
    )
    if answer.status_code != 201 or not answer.json().get("uid"):
        raise RuntimeError(f"publish answered {answer.status_code}: {answer.text}")


# --------------------------------------------------------------------------- seeding
class Answered204(httpx.AsyncClient):
    """The seeding delivery engine's client: every endpoint answers 204, without any I/O."""

    @contextlib.asynccontextmanager
    async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        yield httpx.Response(204)


async def _seed(data_dir: Path, events: int, deliver: bool) -> tuple[str, str]:
    emulator = build(EmulatorConfig(data_dir=data_dir), client_factory=Answered204)
    service, repository = emulator.service, emulator.repository
    repository.start()  # the server's group commit: one flush per batch of publishes
    if deliver:
        await emulator.delivery.start()
    try:
        data, _ = parse_application(
            {
                "name": "bench",
                "retry_strategy": {"type": "fixed_wait", "max_retries": 1, "retry_delay": WEEK},
            }
        )
        app = await service.create_application(API_KEY, data)
        endpoint_data, _ = parse_endpoint(
            {"url": DEAD_URL, "filter_types": [SEED_TYPE], "description": "bench"}, creating=True
        )
        endpoint = await service.create_endpoint(API_KEY, app.uid, endpoint_data)
        seed_body = orjson.dumps({**BODY, "event_type": SEED_TYPE})
        for start in range(0, events, SEED_BATCH):
            parsed = [
                parse_event(orjson.loads(seed_body)) for _ in range(min(SEED_BATCH, events - start))
            ]
            await asyncio.gather(*(service.publish(API_KEY, app.uid, d) for d, _ in parsed))
            if deliver and not await emulator.delivery.settle(timeout=START_TIMEOUT):
                raise RuntimeError("the seeding deliveries did not settle")
        attempts = repository.attempts_of_endpoint[endpoint.key]
        done = sum(a.status == AttemptStatus.SUCCESS for a in attempts)
        if len(attempts) != events or done != (events if deliver else 0):
            raise RuntimeError(f"seeding made {len(attempts)} attempts ({done} delivered)")
    finally:
        await emulator.delivery.stop()
        await repository.close()
    return app.uid, endpoint.uid


def task_stacks() -> str:
    """Where the running loop's tasks wait, each distinct stack once with its count."""
    stacks: collections.Counter[str] = collections.Counter()
    for task in asyncio.all_tasks():
        out = io.StringIO()
        task.print_stack(limit=12, file=out)
        stacks[out.getvalue().split("\n", 1)[-1]] += 1
    return "\n".join(f"{n} task(s) waiting at:\n{stack}" for stack, n in stacks.most_common(8))


async def _seed_within(
    seconds: float, data_dir: Path, events: int, deliver: bool
) -> tuple[str, str]:
    # Seeding hung now and then with every record stored, in the delivery engine's stop()
    # (asyncio.wait_for swallowed its cancel: see emulator.timeouts). Should anything hang
    # here again, fail with where it waits rather than hang the whole benchmark.
    seeding = asyncio.ensure_future(_seed(data_dir, events, deliver))
    await asyncio.wait({seeding}, timeout=seconds)
    if seeding.done():
        return seeding.result()
    stacks = task_stacks()
    seeding.cancel()
    await asyncio.wait({seeding}, timeout=10)
    raise RuntimeError(f"seeding did not finish within {seconds:.0f} s; its tasks:\n{stacks}")


def seed(data_dir: Path, events: int, deliver: bool) -> tuple[str, str, float]:
    """Store ``events`` events, each routed to one endpoint, as the server writes them.

    With ``deliver`` the server's delivery engine delivers each once (the endpoint answers 204
    through a mock transport), so the server started on the store has nothing due; without it
    every attempt is left pending, and that server's engine tries them all (to ``DEAD_URL``).
    """
    started = time.monotonic()
    limit = 60 + events / 1000  # seeding takes 0.2-0.3 s per 1,000 events
    app_uid, endpoint_uid = asyncio.run(_seed_within(limit, data_dir, events, deliver))
    return app_uid, endpoint_uid, time.monotonic() - started


# --------------------------------------------------------------------------- the runs
def serve_command(*storage: str) -> list[str]:
    return ["-m", "emulator", "serve", "--port", "0", *storage]


def keepalive_ms(url: str, body: bytes | None = None) -> float:
    """The median time of sequential requests on one keep-alive connection."""
    times = []
    with httpx.Client(headers=AUTH, timeout=10) as client:
        for _ in range(12):
            started = time.perf_counter()
            if body is None:
                client.get(url).raise_for_status()
            else:
                client.post(url, content=body).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times[2:])[len(times[2:]) // 2]


# Each in a fresh interpreter, as a start-up loads: a process that has just seeded 100,000
# records has a heap of its own, and loading in it measured 0.3-0.5 s more.
LOAD_RECORDS = (
    "import sys, time; from pathlib import Path; from emulator.repository import Repository; "
    "started = time.perf_counter(); Repository(Path(sys.argv[1])); "
    "print(time.perf_counter() - started)"
)
# The floor: reading and parsing the same segment files with orjson, keeping nothing.
PARSE_FILES = (
    "import sys, time, orjson; from pathlib import Path; started = time.perf_counter(); "
    "sum(len(orjson.loads(f.read_bytes())) for f in sorted(Path(sys.argv[1]).glob('*/*.json')));"
    " print(time.perf_counter() - started)"
)
LOAD_RUNS = 5


def fresh_seconds(code: str, data_dir: Path) -> float:
    """What ``code`` prints, run in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    return float(out)


def listing_path(app_uid: str, endpoint_uid: str) -> str:
    return f"/v1/application/{app_uid}/endpoint/{endpoint_uid}/delivery_attempt?limit=50"


@dataclass
class Series:
    """One kind of run, made once per round."""

    runs: list[WrkResult] = field(default_factory=list)

    def median(self, figure: Callable[[WrkResult], float]) -> float:
        return median([figure(run) for run in self.runs])

    def ratios(self, baseline: Series) -> list[float]:
        """This series' req/s over the baseline's, round by round."""
        return [run.rps / base.rps for run, base in zip(self.runs, baseline.runs, strict=True)]


@dataclass
class Measured:
    rows: dict[str, Series]
    seed_seconds: float
    files: int
    size_mib: float
    startup_empty: float
    startup_full: float
    rss_mib: float
    rss_empty_mib: float
    # (load, orjson parse) seconds, measured in turn, pair by pair.
    load_pairs: list[tuple[float, float]]
    echo_probe_ms: float
    probe_ms: float


ECHO = "echo: bare Starlette + orjson"
EMPTY = "publish, empty store (--data-dir)"
MEMORY = "publish, empty store (--in-memory)"


def measure(args: argparse.Namespace, tmp: Path) -> Measured:
    """Round after round, each run once, so that every ratio compares runs made seconds
    apart (this machine's speed drifts by half within a minute, which made ratios of runs a
    minute apart flip). The echo, the seeded stores' servers and wrk's scripts last all the
    rounds; each round publishes to new empty stores."""
    post = wrk_script(tmp / "post.lua", "POST", orjson.dumps(BODY))
    get = wrk_script(tmp / "get.lua", "GET", None)
    n = f"{args.events:,}"
    full_publish, full_list = stored_publish(n), one_connection_listing(n)
    small_list = one_connection_listing(f"{SMALL_STORE}")
    many_list = f"list attempts limit=50, {args.connections} conns"
    rows = {
        name: Series()
        for name in (ECHO, EMPTY, MEMORY, small_list, full_list, many_list, full_publish)
    }

    small_dir, full_dir = tmp / "small", tmp / "full"
    small_app, small_endpoint, _ = seed(small_dir, SMALL_STORE, not args.due_now)
    app_uid, endpoint_uid, seed_seconds = seed(full_dir, args.events, not args.due_now)
    files = list(full_dir.rglob("*.json"))
    size_mib = sum(f.stat().st_size for f in files) / 2**20
    with contextlib.ExitStack() as servers:

        def start(name: str, command: list[str]) -> Child:
            return servers.enter_context(child(command, tmp / f"{name}.log"))

        # One at a time, so that each start-up measured has the CPU to itself.
        echo = start("echo", ["-m", "bench.echo_app"])
        echo_probe = keepalive_ms(echo.wait_url() + "/echo", orjson.dumps(BODY))
        full = start("full", serve_command("--data-dir", str(full_dir)))
        startup_full = full.wait_healthy("/_emulator/health")
        rss = full.rss_mib()
        small = start("small", serve_command("--data-dir", str(small_dir)))
        small.wait_healthy("/_emulator/health")
        listing, small_listing = (
            listing_path(app_uid, endpoint_uid),
            listing_path(small_app, small_endpoint),
        )
        first = httpx.get(full.url + listing, headers=AUTH, timeout=30)
        if first.status_code != 200 or len(first.json()["data"]) != 50:
            raise RuntimeError(f"listing answered {first.status_code}: {first.text[:300]}")
        check_publish(full.url, app_uid)
        publish_path = "/v1/application/{}/event".format
        for round_ in range(args.rounds):
            profile = args if round_ == 0 else None
            rows[ECHO].runs.append(run_wrk(echo, "/echo", post, args))
            empty_dir = ["--data-dir", str(tmp / f"empty-{round_}")]
            for name, log, storage in (
                (EMPTY, "publish-empty", empty_dir),
                (MEMORY, "publish-memory", ["--in-memory"]),
            ):
                with child(serve_command(*storage), tmp / f"{log}-{round_}.log") as server:
                    startup = server.wait_healthy("/_emulator/health")
                    if round_ == 0 and name == EMPTY:
                        startup_empty, rss_empty = startup, server.rss_mib()
                        probe = keepalive_ms(server.url + "/_emulator/health")
                    app = create_application(server.url, {"name": "bench"})
                    check_publish(server.url, app)
                    with profiled(server, log, profile):
                        rows[name].runs.append(run_wrk(server, publish_path(app), post, args))
            with profiled(full, "publish-full", profile):
                rows[full_publish].runs.append(run_wrk(full, publish_path(app_uid), post, args))
            # With one connection latency is the time to serve a request; with many, queueing.
            rows[small_list].runs.append(run_wrk(small, small_listing, get, args, connections=1))
            with profiled(full, "list-full", profile):
                rows[full_list].runs.append(run_wrk(full, listing, get, args, connections=1))
            rows[many_list].runs.append(run_wrk(full, listing, get, args))
    load_pairs = [
        (fresh_seconds(LOAD_RECORDS, full_dir), fresh_seconds(PARSE_FILES, full_dir))
        for _ in range(LOAD_RUNS)
    ]
    return Measured(
        rows=rows,
        seed_seconds=seed_seconds,
        files=len(files),
        size_mib=size_mib,
        startup_empty=startup_empty,
        startup_full=startup_full,
        rss_mib=rss,
        rss_empty_mib=rss_empty,
        load_pairs=load_pairs,
        echo_probe_ms=echo_probe,
        probe_ms=probe,
    )


def report(args: argparse.Namespace, m: Measured) -> list[str]:
    n = f"{args.events:,}"
    lines = [
        "emulator: python -m emulator serve; one uvicorn worker per server; "
        f"wrk -t1 -c{args.connections} -d{args.duration}s; body {len(orjson.dumps(BODY))} bytes",
        "wrk and the server share the machine's 2 cores"
        + (f" (servers pinned to CPU {SERVER_CPU}, wrk to CPU {WRK_CPU})" if PIN else ""),
        f"{args.rounds} rounds, each run once per round; each figure is the median of its rounds",
        "",
        f"{'run':<42}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>9}{'requests':>9}{'errors':>7}"
        f"{'others':>7}",
    ]
    for name, series in m.rows.items():
        errors = sum(r.errors for r in series.runs)
        others = max(r.others for r in series.runs)
        flags = ["ERRORS"] if errors or not all(r.requests for r in series.runs) else []
        flags += ["disturbed"] if others > DISTURBED else []
        lines.append(
            f"{name:<42}{series.median(lambda r: r.rps):>8.0f}"
            f"{series.median(lambda r: r.p50_ms):>8.2f}{series.median(lambda r: r.p99_ms):>9.2f}"
            f"{sum(r.requests for r in series.runs):>9}{errors:>7}{others:>7.2f}"
            + ("  <-- " + ", ".join(flags) if flags else "")
        )
    lines.append(
        "others: the most CPU cores, in any round, used meanwhile by processes other than that "
        f"server and wrk; over {DISTURBED} the run is disturbed"
    )
    echo, empty, memory = m.rows[ECHO], m.rows[EMPTY], m.rows[MEMORY]
    full = m.rows[stored_publish(n)]
    listing = m.rows[one_connection_listing(n)]
    small = m.rows[one_connection_listing(f"{SMALL_STORE}")]
    vs_echo_rounds = empty.ratios(echo)
    scale_rounds = [1 / ratio for ratio in full.ratios(empty)]
    list_rounds = [
        run.p50_ms / base.p50_ms for run, base in zip(listing.runs, small.runs, strict=True)
    ]
    vs_echo, scale, list_scale = (
        median(vs_echo_rounds),
        median(scale_rounds),
        median(list_rounds),
    )
    per_10k = (m.rss_mib - m.rss_empty_mib) / (args.events / 10_000)
    list_p50, list_p99 = listing.median(lambda r: r.p50_ms), listing.median(lambda r: r.p99_ms)
    loads = [load for load, _ in m.load_pairs]
    load, parse = median(loads), median([parse for _, parse in m.load_pairs])

    def goal(name: str, value: str, target: str, ok: bool) -> str:
        return f"{name:<38}{value:>16}  {target:<16}{'PASS' if ok else 'FAIL'}"

    def rounds(values: Sequence[float]) -> str:
        return " ".join(f"{value:.2f}" for value in values)

    lines += [
        "",
        f"seeded {n} events + {n} attempts in {m.seed_seconds:.1f} s "
        f"({m.files} segment files, {m.size_mib:.1f} MiB); the attempts are "
        + (
            f"pending: the server's delivery engine tries them (to {DEAD_URL}) during the runs"
            if args.due_now
            else "delivered (204): the server's delivery engine has nothing to do"
        ),
        f"  their endpoint takes only {SEED_TYPE}: the load's events route nowhere, as on the "
        "empty stores; each round adds its events to that store, and publishes to new empty "
        "stores",
        f"start-up until /_emulator/health answers: empty {m.startup_empty:.2f} s, "
        f"{n} events {m.startup_full:.2f} s (RSS then: empty {m.rss_empty_mib:.0f} MiB, "
        f"{n} events {m.rss_mib:.0f} MiB, {per_10k:.1f} MiB per 10,000 events)",
        f"sequential requests on one keep-alive connection, median: echo {m.echo_probe_ms:.2f} ms,"
        f" emulator health {m.probe_ms:.2f} ms",
        "durability cost: publish req/s --data-dir / --in-memory = "
        f"{median(empty.ratios(memory)):.2f}",
        f"loading {n} events + {n} attempts, {LOAD_RUNS} fresh processes: {load:.2f} s "
        f"({min(loads):.2f}-{max(loads):.2f}); orjson parsing the same files in turn, keeping "
        f"nothing: {parse:.2f} s; ratio {median([a / b for a, b in m.load_pairs]):.2f}",
        "round by round: publish / echo " + rounds(vs_echo_rounds),
        f"  publish cost stored / empty {rounds(scale_rounds)}; list p50 {rounds(list_rounds)}",
        "",
        goal("publish / echo req/s", f"{vs_echo:.2f}", "(goal >= 0.45)", vs_echo >= 0.45),
        goal(f"publish cost, {n} stored / empty", f"{scale:.2f}x", "(goal <= 1.3x)", scale <= 1.3),
        goal(
            f"list p50, {n} stored / {SMALL_STORE}",
            f"{list_scale:.2f}x",
            "(goal <= 1.3x)",
            list_scale <= 1.3,
        ),
        goal(
            "list p50 / p99, 1 connection",
            f"{list_p50:.2f} / {list_p99:.2f} ms",
            "(goal < 5 ms)",
            list_p50 < 5 and list_p99 < 5,
        ),
        goal(f"loading {n} events", f"{load:.2f} s", "(goal < 1 s)", load < 1),
        f"{'RSS per 10,000 stored events':<38}{per_10k:>12.1f} MiB  (printed; bounded: no goal)",
    ]
    if m.probe_ms > 20:
        lines += [
            "",
            "!!! every request on a keep-alive connection stalls ~40 ms (Nagle + delayed ACK):",
            "    the accepted sockets lack TCP_NODELAY, which asyncio sets only when the listening",
            "    socket's proto is IPPROTO_TCP (see emulator.server.bind_socket)",
        ]
    broken = [
        name
        for name, series in m.rows.items()
        if any(r.errors or not r.requests for r in series.runs)
    ]
    if broken:
        lines += ["", "!!! ERRORS (non-2xx/3xx responses or socket errors): " + "; ".join(broken)]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.publish", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run (2)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each kind, in turn (5)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--events", type=int, default=100_000, help="events preloaded (100,000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, 1 s, 2k events")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="record the emulator with py-spy into DIR"
    )
    parser.add_argument(
        "--due-now",
        action="store_true",
        help="seed pending attempts (the server's delivery engine then tries them during the runs)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.events, args.rounds = 1, 2000, 1
    if args.duration < 1 or args.connections < 1 or args.rounds < 1 or args.events < 50:
        parser.error("--duration, --connections and --rounds must be >= 1, --events >= 50")
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="simplyq-bench-"))
    try:
        lines = report(args, measure(args, tmp))
    except (RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(lines))
    return 1 if any(line.startswith("!!! ERRORS") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
