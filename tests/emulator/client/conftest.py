"""Fixtures of the client tests: live in-memory emulators on 127.0.0.1, a fresh API key
(environment) per test, and a webhook receiver."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from emulator.client import SimplyQ
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """A shared in-memory emulator; tests on it never move its clock."""
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as server:
        yield server.url


@pytest.fixture
def private_url() -> Iterator[str]:
    """An emulator of the test's own, for tests that move the clock or reset everything."""
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as server:
        yield server.url


@pytest.fixture(scope="module")
def strict_url() -> Iterator[str]:
    """An emulator that accepts one key and enforces a rate limit of 2 requests a second."""
    config = EmulatorConfig(
        data_dir=None,
        port=0,
        api_keys=frozenset({"sk_only"}),
        enforce_api_rate_limit=True,
        api_rate_limit=2,
    )
    with EmulatorServer(config) as server:
        yield server.url


@pytest.fixture
def api_key() -> str:
    return "sk_test_" + secrets.token_hex(12)


@pytest.fixture
def client(emulator_url: str, api_key: str) -> Iterator[SimplyQ]:
    with SimplyQ(api_key, emulator_url) as made:
        yield made


@pytest.fixture(scope="module")
def receiver() -> Iterator[HTTPServer]:
    """A webhook receiver on 127.0.0.1."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def hook(receiver: HTTPServer) -> Iterator[str]:
    """The URL of a fresh path on the receiver that answers 200."""
    path = f"/hook/{secrets.token_hex(6)}"
    receiver.expect_request(path, method="POST").respond_with_data("ok")
    yield receiver.url_for(path)
    receiver.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
