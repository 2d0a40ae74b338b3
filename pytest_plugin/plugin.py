"""The pytest plugin: options, fixtures and a session-end safety net; nothing else.

Layers, like pytest-httpserver: one emulator per session (per xdist worker), a fresh isolated
environment (API key) per test, and one threaded webhook receiver per session with per-test
endpoints.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from pytest_plugin.helpers import SimplyQEnvironment
from pytest_plugin.receiver import WebhookReceiver

URL_ENV = "SIMPLYQ_EMULATOR_URL"
DEFAULT_DELIVERY_TIMEOUT = 2.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("simplyq", "SimplyQ emulator")
    group.addoption(
        "--simplyq-url",
        help=f"use the emulator already running at this URL instead of starting one "
        f"(also the ini option simplyq_url and ${URL_ENV})",
    )
    group.addoption("--simplyq-data-dir", help="keep the started emulator's data in this folder")
    group.addoption(
        "--simplyq-time-scale",
        type=float,
        help="real seconds per emulated second for the started emulator (default 1)",
    )
    group.addoption(
        "--simplyq-delivery-timeout",
        type=float,
        help=f"seconds an endpoint has to answer (default {DEFAULT_DELIVERY_TIMEOUT:g})",
    )
    parser.addini("simplyq_url", "URL of an already running emulator to use")
    parser.addini("simplyq_data_dir", "folder where the started emulator keeps its data")
    parser.addini("simplyq_time_scale", "time scale of the started emulator")


def _setting(config: pytest.Config, option: str, ini: str, env: str | None = None) -> str | None:
    value = config.getoption(option)
    if value is None and ini:
        value = config.getini(ini) or None
    if value is None and env:
        value = os.environ.get(env) or None
    return None if value is None else str(value)


@dataclass(frozen=True)
class EmulatorHandle:
    """The emulator the session uses: started here, or one already running."""

    url: str
    server: EmulatorServer | None


@pytest.fixture(scope="session")
def simplyq_server(pytestconfig: pytest.Config) -> Iterator[EmulatorHandle]:
    """The session's emulator: the one named by ``--simplyq-url`` / ``simplyq_url`` /
    ``$SIMPLYQ_EMULATOR_URL``, else an in-process one on a free port (per xdist worker)."""
    url = _setting(pytestconfig, "simplyq_url", "simplyq_url", URL_ENV)
    if url:
        try:
            httpx.get(url.rstrip("/") + "/_emulator/health", timeout=5).raise_for_status()
        except httpx.HTTPError as error:
            pytest.exit(f"simplyq: no emulator answers at {url}: {error}", returncode=3)
        yield EmulatorHandle(url.rstrip("/"), None)
        return
    data_dir = _setting(pytestconfig, "simplyq_data_dir", "simplyq_data_dir")
    scale = _setting(pytestconfig, "simplyq_time_scale", "simplyq_time_scale")
    timeout = pytestconfig.getoption("simplyq_delivery_timeout") or DEFAULT_DELIVERY_TIMEOUT
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with tempfile.TemporaryDirectory(prefix=f"simplyq-{worker}-") as scratch:
        config = EmulatorConfig(
            port=0,
            data_dir=Path(data_dir) / worker if data_dir else Path(scratch),
            # Test data is scratch unless kept: skip fsync, keep the files.
            durable=bool(data_dir),
            time_scale=float(scale) if scale else 1.0,
            delivery_timeout=float(timeout),
        )
        with EmulatorServer(config) as server:
            yield EmulatorHandle(server.url, server)


@pytest.fixture
def simplyq(simplyq_server: EmulatorHandle) -> Iterator[SimplyQEnvironment]:
    """A fresh, isolated SimplyQ environment (its own API key) for one test, with a client,
    the clock, waits and assertions; deleted again after the test."""
    environment = SimplyQEnvironment(simplyq_server.url)
    try:
        yield environment
    finally:
        environment.close()
        httpx.post(
            simplyq_server.url + "/_emulator/reset",
            json={"api_key": environment.api_key},
            timeout=10,
        )


@pytest.fixture(scope="session")
def simplyq_receiver_server() -> Iterator[HTTPServer]:
    """The session's threaded HTTP server behind ``webhook_receiver``."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def webhook_receiver(simplyq_receiver_server: HTTPServer) -> Iterator[WebhookReceiver]:
    """Endpoint URLs with known secrets; records each delivery with its verified signature,
    answers as scripted, waits without sleeping."""
    prefix = uuid.uuid4().hex[:12]
    receiver = WebhookReceiver(simplyq_receiver_server, prefix)
    simplyq_receiver_server.expect_request(re.compile(rf"^/{prefix}/")).respond_with_handler(
        receiver.handle
    )
    try:
        yield receiver
    finally:
        receiver.close()
        simplyq_receiver_server.clear()
