"""Fixtures of the dashboard tests: a live in-memory emulator of the test's own, a receiver
that fails every delivery (500) and one that accepts them, and a client with a fresh key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from emulator.client import SimplyQ
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """An in-memory emulator for this test only (tests move its clock and restart it)."""
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as server:
        yield server


@pytest.fixture
def api_key() -> str:
    return "sk_test_" + secrets.token_hex(8)


@pytest.fixture
def client(emulator: EmulatorServer, api_key: str) -> Iterator[SimplyQ]:
    """A client of the emulator with a fresh environment."""
    with SimplyQ(api_key, emulator.url) as client:
        yield client


@pytest.fixture
def failing_hook(httpserver: HTTPServer) -> str:
    """A receiver URL that answers every delivery with 500."""
    httpserver.expect_request("/fail").respond_with_data("boom: handler crashed", status=500)
    return httpserver.url_for("/fail")


@pytest.fixture
def ok_hook(httpserver: HTTPServer) -> str:
    """A receiver URL that answers every delivery with 200."""
    httpserver.expect_request("/ok").respond_with_json({"received": True})
    return httpserver.url_for("/ok")
