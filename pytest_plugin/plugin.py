"""The pytest plugin (``pytest11`` entry point): options, fixtures and hooks; nothing else.

Layered like pytest-httpserver: one emulator per session (per xdist worker), a fresh isolated
environment (API key) per test, and one threaded webhook receiver per session with per-test
endpoints. The heavy modules are imported by the fixtures, so a run that uses none of them
pays nothing for the plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_plugin.settings import (
    REPORT,
    Settings,
    add_options,
    register,
    stop_all,
    unregister,
)

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

    from pytest_plugin.helpers import SimplyQEnvironment
    from pytest_plugin.receiver import WebhookReceiver
    from pytest_plugin.session import SimplyQServer


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    # Check the settings now, so a bad value is a usage error before any test runs.
    settings = Settings.from_config(config)
    if settings.report is not None:
        from pytest_plugin.report import Report, worker_name

        report = Report(settings.report, worker_name())
        config.stash[REPORT] = report
        config.pluginmanager.register(report, "simplyq-report")


def pytest_report_header(config: pytest.Config) -> str:
    return Settings.from_config(config).describe()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Safety net: stop any emulator or receiver a fixture's teardown did not (an interrupted
    or aborted run)."""
    stop_all(session.config)


@pytest.fixture(scope="session")
def simplyq_server(pytestconfig: pytest.Config) -> Iterator[SimplyQServer]:
    """The session's emulator: the one at ``--simplyq-url`` / ``$SIMPLYQ_EMULATOR_URL`` /
    ``simplyq_url``, else one started in-process on a free port of 127.0.0.1 (one per xdist
    worker) with a temporary data directory. ``.url``; ``.server`` when started here."""
    from pytest_plugin.session import SimplyQServer

    server = SimplyQServer(Settings.from_config(pytestconfig))
    try:
        server.start()
    except ConnectionError as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
    register(pytestconfig, server)
    try:
        yield server
    finally:
        unregister(pytestconfig, server)
        server.stop()


@pytest.fixture
def simplyq(
    simplyq_server: SimplyQServer, request: pytest.FixtureRequest
) -> Iterator[SimplyQEnvironment]:
    """A fresh, isolated SimplyQ environment (its own API key) for one test: ``client``,
    ``api_key``, ``base_url``, ``env``/``setenv()``, ``clock``, waits and assertions. Its data
    is deleted after the test (kept with an external emulator or ``--simplyq-data-dir``)."""
    environment = simplyq_server.environment()
    try:
        yield environment
    finally:
        if REPORT in request.config.stash:
            # Read before the reset deletes it.
            request.config.stash[REPORT].collect(request.node.nodeid, environment)
        simplyq_server.finish(environment)


@pytest.fixture(scope="session")
def simplyq_receiver_server(pytestconfig: pytest.Config) -> Iterator[HTTPServer]:
    """The session's threaded HTTP server (pytest-httpserver) behind ``webhook_receiver``."""
    from pytest_plugin.receiver import start_server

    server = start_server()
    register(pytestconfig, server)
    try:
        yield server
    finally:
        unregister(pytestconfig, server)
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def webhook_receiver(simplyq_receiver_server: HTTPServer) -> Iterator[WebhookReceiver]:
    """Endpoint URLs with known secrets (``url``, ``endpoint``); records each delivery with
    its verified signature, answers as scripted (``respond``), waits without sleeping
    (``wait_for``, ``assert_received``)."""
    from pytest_plugin.receiver import WebhookReceiver

    receiver = WebhookReceiver(simplyq_receiver_server).attach()
    try:
        yield receiver
    finally:
        receiver.close()
        simplyq_receiver_server.clear()
