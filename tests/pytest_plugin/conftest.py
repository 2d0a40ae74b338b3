"""Fixtures of the plugin's own tests: pytester, a clean environment for inner runs, and an
emulator started here to stand in for one "already running" (the external-URL option)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

# httpcore, emulator.web.app and the plugin's modules are imported here, in the outer session, on
# purpose: pytester's in-process runs drop the modules first imported during a run, so a second
# run would import httpcore again, and httpx (kept) would no longer recognise its exceptions.
import httpcore  # noqa: F401
import pytest

import emulator.web.app  # noqa: F401
import pytest_plugin.receiver
import pytest_plugin.session  # noqa: F401
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer

PLUGIN_VARIABLES = (
    "SIMPLYQ_EMULATOR_URL",
    "SIMPLYQ_PYTEST_DATA_DIR",
    "SIMPLYQ_PYTEST_TIME_SCALE",
    "SIMPLYQ_PYTEST_DELIVERY_TIMEOUT",
    "SIMPLYQ_PYTEST_REPORT",
)


# Inner runs must not pick up the developer's settings (e.g. $SIMPLYQ_EMULATOR_URL), nor think
# they are an xdist worker when these tests run under xdist.
NOT_INHERITED = (
    *PLUGIN_VARIABLES,
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
    "PYTEST_ADDOPTS",
)


def clean_environment() -> dict[str, str]:
    """``os.environ`` without the variables inner runs must not inherit."""
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}


@pytest.fixture(autouse=True)
def _clean_plugin_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NOT_INHERITED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def running_emulator() -> Iterator[EmulatorServer]:
    """An emulator the inner runs did not start: what `simplyq-emulator serve` would be."""
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as server:
        yield server


# Inner runs leave out the virtualenv's plugins that have nothing to do with this one: they
# cost seconds per interpreter (three with xdist), and textual-snapshot does not survive a
# second session in one interpreter. The plugin under test still loads by its entry point.
UNRELATED_PLUGINS = ("schemathesis", "hypothesispytest", "textual-snapshot", "syrupy", "anyio")
INNER_ARGS = ("-p", "no:cacheprovider", *(f"-pno:{name}" for name in UNRELATED_PLUGINS))

RunInner = Callable[..., pytest.RunResult]


@pytest.fixture
def run_inner(pytester: pytest.Pytester) -> RunInner:
    """Run pytest on the generated files in this process (fast; the plugin is loaded by its
    entry point as in a user's project)."""

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess(*INNER_ARGS, *args)

    return run


@pytest.fixture
def run_subprocess(pytester: pytest.Pytester) -> RunInner:
    """Run pytest on the generated files in a new interpreter (bounded)."""

    def run(*args: str, timeout: float = 60) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*INNER_ARGS, *args, timeout=timeout)

    return run
