"""What the pytest plugin costs a user: the session start-up of the emulator fixture, and the
per-test overhead of a fresh environment, measured against empty tests and pytest-httpserver's
``httpserver`` fixture in the same run.

    .venv/bin/python -m bench.plugin [--tests 200] [--startup-runs 3] [--all-plugins]

Generated test files run in a temporary folder under ``python -m pytest`` (a new interpreter,
the plugin loaded by its entry point, as in a user's project). A generated conftest times each
test's whole protocol (setup, call, teardown) and the fixture start-up from inside the run and
writes them to a JSON file; nothing is timed from outside.

(a) start-up: from ``pytest_sessionstart`` to the ``simplyq_server`` fixture ready, in a run
    whose first test takes ``simplyq`` (the median of ``--startup-runs`` runs), and the
    process's CPU time over the same span (wall time is at its mercy on a busy machine).
    Bytecode is cached (outside the source tree) as on a developer's machine; when this
    process runs with ``PYTHONDONTWRITEBYTECODE``, the uncached figure is shown too.
    Goal < 0.5 s.
(b) per-test: N tests of each kind in one session, interleaved: empty, ``httpserver``,
    ``simplyq`` (just taking it), ``simplyq`` using its client once. A first round warms the
    session fixtures up and is left out, as is the session's last test (it pays their
    teardown). Goal: ``simplyq``'s mean minus the empty test's < 10 ms.

Other pytest plugins of the virtualenv that have nothing to do with this one are disabled in
the runs (they cost seconds of start-up per interpreter), unless ``--all-plugins``. Exits 0
even when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_GOAL = 0.5
OVERHEAD_GOAL_MS = 10.0
RUN_TIMEOUT = 300.0
UNRELATED_PLUGINS = ("schemathesis", "hypothesispytest", "textual-snapshot", "syrupy", "anyio")

CONFTEST = """
import json
import os
import time

import pytest

RESULTS = os.environ["BENCH_RESULTS"]
state = {"tests": [], "session_start": None, "fixture_ready": None, "fixture_setup": None}


def pytest_sessionstart(session):
    state["session_start"] = time.perf_counter()
    state["cpu_start"] = time.process_time()


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    began = time.perf_counter()
    yield
    if fixturedef.argname == "simplyq_server" and state["fixture_ready"] is None:
        state["fixture_ready"] = time.perf_counter()
        state["cpu_ready"] = time.process_time()
        state["fixture_setup"] = state["fixture_ready"] - began


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    began = time.perf_counter()
    yield
    state["tests"].append([item.module.__name__, item.name, time.perf_counter() - began])


def pytest_sessionfinish(session):
    ready = state["fixture_ready"]
    start = state["session_start"]
    with open(RESULTS, "w") as out:
        json.dump(
            {
                "tests": state["tests"],
                "startup": None if ready is None else ready - start,
                "startup_cpu": None if ready is None else state["cpu_ready"] - state["cpu_start"],
                "fixture_setup": state["fixture_setup"],
            },
            out,
        )
"""

STARTUP_TEST = """
def test_first(simplyq):
    pass
"""

# The kinds of test, as (name, parameters, body); the runs interleave them (one of each kind,
# then the next round), so a burst of load on the machine hits every kind alike.
KINDS = (
    ("empty", "", "pass"),
    ("httpserver", "httpserver", "pass"),
    ("simplyq", "simplyq", "pass"),
    ("client", "simplyq", "assert list(simplyq.client.applications.list()) == []"),
)
LABELS = {
    "empty": "empty test",
    "httpserver": "httpserver fixture",
    "simplyq": "simplyq fixture",
    "client": "simplyq + one client call",
}


def per_test_module(rounds: int) -> str:
    """Round 0 warms the session fixtures up; the last test pays their teardown."""
    lines = []
    for number in range(rounds + 1):
        for kind, params, body in KINDS:
            lines += [f"def test_{number:04d}_{kind}({params}):", f"    {body}", "", ""]
    lines += ["def test_zzzz_last():", "    pass", ""]
    return "\n".join(lines)


def run_pytest(folder: Path, all_plugins: bool, pycache: Path | None) -> dict[str, object]:
    """One pytest run in a new interpreter; ``pycache``: where to keep the bytecode (None:
    keep the caller's setting, e.g. ``PYTHONDONTWRITEBYTECODE``)."""
    results = folder / "results.json"
    results.unlink(missing_ok=True)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    if not all_plugins:
        args += [f"-pno:{name}" for name in UNRELATED_PLUGINS]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SIMPLYQ_", "PYTEST_XDIST")) and k != "PYTEST_ADDOPTS"
    }
    if pycache is not None:
        # Bytecode (and pytest's rewritten modules) cached as on a developer's machine, but
        # outside the source tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["BENCH_RESULTS"] = str(results)
    done = subprocess.run(
        args,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not results.exists():
        raise RuntimeError(f"the pytest run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    loaded: dict[str, object] = json.loads(results.read_text())
    return loaded


def startup_runs(
    folder: Path, runs: int, all_plugins: bool, pycache: Path | None
) -> tuple[list[float], list[float], list[float]]:
    """Start-up wall time, fixture setup time and CPU time of ``runs`` runs."""
    walls, setups, cpus = [], [], []
    for _ in range(runs):
        result = run_pytest(folder, all_plugins, pycache)
        walls.append(float(result["startup"]))  # type: ignore[arg-type]
        setups.append(float(result["fixture_setup"]))  # type: ignore[arg-type]
        cpus.append(float(result["startup_cpu"]))  # type: ignore[arg-type]
    return walls, setups, cpus


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conftest.py").write_text(CONFTEST)
    for name, source in files.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))


def plugin_import_ms() -> float:
    """What loading the plugin adds to every pytest run (what pytest would import anyway is
    imported first)."""
    code = (
        "import time, pytest, pytest_httpserver, xdist\n"
        "t = time.perf_counter()\n"
        "import pytest_plugin.plugin\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
                cwd=ROOT,
            ).stdout
        )
        for _ in range(3)
    ]
    return statistics.median(runs)


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=200, help="tests per kind (default 200)")
    parser.add_argument("--startup-runs", type=int, default=3, help="start-up runs (default 3)")
    parser.add_argument("--all-plugins", action="store_true", help="keep every pytest plugin")
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="simplyq-bench-plugin-") as scratch:
        base = Path(scratch)
        began = time.perf_counter()

        write(base / "startup", {"test_startup": STARTUP_TEST})
        pycache = base / "pycache"
        run_pytest(base / "startup", options.all_plugins, pycache)  # fills the bytecode cache
        startups, setups, cpus = startup_runs(
            base / "startup", options.startup_runs, options.all_plugins, pycache
        )
        cold = None
        if sys.dont_write_bytecode:
            cold = startup_runs(base / "startup", options.startup_runs, options.all_plugins, None)

        write(
            base / "pertest",
            {"test_per_test": per_test_module(options.tests)},
        )
        result = run_pytest(base / "pertest", options.all_plugins, pycache)
        per_kind: dict[str, list[float]] = {kind: [] for kind, _, _ in KINDS}
        for _, name, seconds in result["tests"]:  # type: ignore[attr-defined]
            number, _, kind = name.removeprefix("test_").partition("_")
            if kind in per_kind and number.isdigit() and int(number) > 0:
                per_kind[kind].append(seconds * 1000)
        wall = time.perf_counter() - began

    imported = plugin_import_ms()
    startup = statistics.median(startups)
    mean = {name: statistics.fmean(values) for name, values in per_kind.items()}
    median = {name: statistics.median(values) for name, values in per_kind.items()}
    empty, http, simplyq = mean["empty"], mean["httpserver"], mean["simplyq"]
    overhead = simplyq - empty

    print(f"pytest plugin cost ({options.tests} tests per kind, {wall:.1f} s in all)")
    print()
    print(
        f"(a) session start-up of the emulator fixture: {startup:.3f} s from session start "
        f"to ready (median of {len(startups)}: {', '.join(f'{s:.3f}' for s in startups)}); "
        f"fixture setup itself {statistics.median(setups):.3f} s"
    )
    print(
        f"    CPU time of the process over the same span: {statistics.median(cpus):.3f} s "
        f"(what the wall time comes down to on an idle machine; load average now {load()})"
    )
    print(f"    goal < {STARTUP_GOAL:g} s: {'PASS' if startup < STARTUP_GOAL else 'FAIL'}")
    if cold is not None:
        print(
            f"    without a bytecode cache (PYTHONDONTWRITEBYTECODE is set here, so every run "
            f"compiles the emulator's modules again): {statistics.median(cold[0]):.3f} s, "
            f"CPU {statistics.median(cold[2]):.3f} s"
        )
    print(f"    plugin import, paid by every pytest run: {imported:.1f} ms")
    print()
    print("(b) per test (setup + call + teardown)     mean ms   median ms")
    for kind, _, _ in KINDS:
        print(f"    {LABELS[kind]:<36}{mean[kind]:>9.2f}{median[kind]:>12.2f}")
    ratio = simplyq / http if http else float("nan")
    client_cost = mean["client"] - simplyq
    print()
    print(
        f"    simplyq overhead over an empty test: {overhead:.2f} ms/test "
        f"(httpserver's: {http - empty:.2f} ms); simplyq / httpserver: {ratio:.2f}x"
    )
    print(f"    first use of the client (one list call) adds {client_cost:.2f} ms")
    print(
        f"    goal < {OVERHEAD_GOAL_MS:g} ms: {'PASS' if overhead < OVERHEAD_GOAL_MS else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
