"""Shared fixtures: one in-memory emulator per test session, one fresh API key per test.

Every API key is its own SimplyQ environment, so a new random key per test gives each test an
empty, isolated world on the shared server: tests never see each other's data and can run in
any order.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.emulator import helpers

ClientFactory = Callable[[], httpx.Client]

# The plugin's own tests (tests/pytest_plugin) drive pytest with pytester; pytest only takes
# pytest_plugins from the top-level conftest.
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session", autouse=True)
def receiver() -> Iterator[helpers.Receiver]:
    """A local webhook receiver for the whole session; endpoints made by the helpers point at it,
    so the emulator's deliveries succeed (or fail, on a /status/NNN path) without a network."""
    running = helpers.Receiver().start()
    helpers.HOOKS = running.url
    yield running
    running.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[EmulatorServer]:
    """An in-memory emulator on 127.0.0.1, started once for the whole session."""
    # port=0: a free port (EmulatorConfig's default port is the CLI's fixed 8765).
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as running:
        yield running


@pytest.fixture
def new_client(server: EmulatorServer) -> Iterator[ClientFactory]:
    """Makes API clients, each with its own fresh key (environment); all closed after the test."""
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        key = "sk_test_" + secrets.token_hex(16)
        client = helpers.local_client(server.url, key)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(new_client: ClientFactory) -> httpx.Client:
    """An HTTP client of the shared server authenticated with a key no other test uses."""
    return new_client()
