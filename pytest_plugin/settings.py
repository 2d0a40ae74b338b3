"""The plugin's settings and where each comes from (the command line, else the environment,
else the ini file, else the default), and the list of what a session started. Light on purpose:
pytest imports it at start-up, also in runs that never use the fixtures."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from pytest_plugin.report import Report

URL_ENV = "SIMPLYQ_EMULATOR_URL"
DATA_DIR_ENV = "SIMPLYQ_PYTEST_DATA_DIR"
TIME_SCALE_ENV = "SIMPLYQ_PYTEST_TIME_SCALE"
DELIVERY_TIMEOUT_ENV = "SIMPLYQ_PYTEST_DELIVERY_TIMEOUT"
REPORT_ENV = "SIMPLYQ_PYTEST_REPORT"
DEFAULT_DELIVERY_TIMEOUT = 2.0
MAX_TIME_SCALE = 1000.0

# (option dest == ini name, environment variable, help)
OPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "simplyq_url",
        URL_ENV,
        "use the emulator already running at this URL instead of starting one "
        "(e.g. to watch the tests in `simplyq-emulator dashboard`)",
    ),
    (
        "simplyq_data_dir",
        DATA_DIR_ENV,
        "keep the started emulator's data in this folder (a sub-folder per xdist worker); "
        "environments are then not reset after each test",
    ),
    (
        "simplyq_time_scale",
        TIME_SCALE_ENV,
        "real seconds per emulated second of the started emulator (default 1; 0.001 makes "
        "the 30 s first retry take 30 ms)",
    ),
    (
        "simplyq_delivery_timeout",
        DELIVERY_TIMEOUT_ENV,
        f"seconds an endpoint has to answer the started emulator "
        f"(default {DEFAULT_DELIVERY_TIMEOUT:g})",
    ),
    (
        "simplyq_report",
        REPORT_ENV,
        "write an HTML report to this file after the run: per test (failing ones first) the "
        "events it published and every attempt with its request, response and timeline",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("simplyq", "SimplyQ emulator (simplyq-emulator's pytest plugin)")
    for name, variable, text in OPTIONS:
        flag = "--" + name.replace("_", "-")
        group.addoption(
            flag,
            dest=name,
            default=None,
            help=f"{text}; also ${variable} and the ini option {name}",
        )
        parser.addini(name, f"{text} (overridden by {flag} and ${variable})")


@dataclass(frozen=True)
class Settings:
    """Which emulator the session uses and how a started one is configured."""

    url: str | None = None
    data_dir: Path | None = None
    time_scale: float = 1.0
    delivery_timeout: float = DEFAULT_DELIVERY_TIMEOUT
    report: Path | None = None

    @property
    def external(self) -> bool:
        """True when the session uses an emulator that is already running."""
        return self.url is not None

    @property
    def keep_data(self) -> bool:
        """Environments are not reset after each test (so they can be looked at afterwards)
        when the data is kept in a folder or lives in an external emulator."""
        return self.external or self.data_dir is not None

    @classmethod
    def from_config(
        cls, config: pytest.Config, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """The settings of a pytest run; ``pytest.UsageError`` names a bad value's source."""
        env = os.environ if environ is None else environ

        def pick(name: str, variable: str) -> tuple[str | None, str]:
            value = config.getoption(name, None)
            if value is not None and str(value).strip():
                return str(value).strip(), "--" + name.replace("_", "-")
            if env.get(variable, "").strip():
                return env[variable].strip(), f"${variable}"
            ini = config.getini(name)
            if isinstance(ini, str) and ini.strip():
                return ini.strip(), f"the ini option {name}"
            return None, ""

        url, url_source = pick("simplyq_url", URL_ENV)
        data_dir, _ = pick("simplyq_data_dir", DATA_DIR_ENV)
        scale, scale_source = pick("simplyq_time_scale", TIME_SCALE_ENV)
        timeout, timeout_source = pick("simplyq_delivery_timeout", DELIVERY_TIMEOUT_ENV)
        report, report_source = pick("simplyq_report", REPORT_ENV)
        if url is not None and not url.startswith(("http://", "https://")):
            raise pytest.UsageError(
                f"simplyq: {url_source} must be an http:// or https:// URL, got {url!r}"
            )
        report_path = Path(report).expanduser().resolve() if report else None
        if report_path is not None and report_path.is_dir():
            raise pytest.UsageError(
                f"simplyq: {report_source} must name a file, {report_path} is a directory"
            )
        return cls(
            url=url.rstrip("/") if url else None,
            data_dir=Path(data_dir).expanduser().resolve() if data_dir else None,
            time_scale=_positive(scale, scale_source, 1.0, maximum=MAX_TIME_SCALE),
            delivery_timeout=_positive(timeout, timeout_source, DEFAULT_DELIVERY_TIMEOUT),
            report=report_path,
        )

    def describe(self) -> str:
        """One line for the report header: which emulator, started or external."""
        if self.url is not None:
            return (
                f"simplyq: external emulator at {self.url} (already running; environments "
                "are kept after each test)"
            )
        data = f"data kept in {self.data_dir}/<worker>" if self.data_dir else "scratch data"
        return (
            "simplyq: emulator started in-process on 127.0.0.1, a free port per session or "
            f"xdist worker (time scale {self.time_scale:g}, delivery timeout "
            f"{self.delivery_timeout:g} s, {data})"
        )


def _positive(
    value: str | None, source: str, default: float, maximum: float | None = None
) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or (maximum is not None and number > maximum):
        bound = f" and at most {maximum:g}" if maximum is not None else ""
        raise pytest.UsageError(f"simplyq: {source} must be a number > 0{bound}, got {value!r}")
    return number


def worker_id() -> str:
    """The xdist worker (``gw0``, ...) or ``main``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# ====================================================================== what runs
class Stoppable(Protocol):
    def stop(self) -> None: ...


# Everything a session started, so pytest_sessionfinish can stop what a fixture did not (an
# interrupted run). Kept on the config, not in a module global: a pytester run in the same
# interpreter is a second session using this module, and must not stop the outer session's.
RUNNING = pytest.StashKey[list[Stoppable]]()


# The run's report collector, when --simplyq-report is given.
REPORT: pytest.StashKey[Report] = pytest.StashKey()


def register(config: pytest.Config, thing: Stoppable) -> None:
    config.stash.setdefault(RUNNING, []).append(thing)


def unregister(config: pytest.Config, thing: Stoppable) -> None:
    running = config.stash.get(RUNNING, [])
    if thing in running:
        running.remove(thing)


def stop_all(config: pytest.Config) -> list[Stoppable]:
    """Stop whatever is still registered (newest first); returns what was stopped."""
    running = config.stash.get(RUNNING, [])
    stopped: list[Stoppable] = []
    errors: list[Exception] = []
    while running:
        thing = running.pop()
        try:
            thing.stop()
        except Exception as error:  # stop the others all the same
            errors.append(error)
        stopped.append(thing)
    if errors:
        raise errors[0]
    return stopped
