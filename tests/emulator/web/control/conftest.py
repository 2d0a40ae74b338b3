"""Fixtures of the control API's tests: emulators (shared by the directory, or one per test
that counts or resets everything), environments, a control client and receivers.

Every test runs against an emulator with a frozen clock unless it tests the clock's speed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    Env,
    Receiver,
    Reply,
    running_emulator,
)


@pytest.fixture(scope="package")
def shared() -> Iterator[EmulatorServer]:
    """One emulator for the tests that only touch their own environment."""
    with running_emulator() as server:
        yield server


@pytest.fixture
def fresh() -> Iterator[EmulatorServer]:
    """An emulator of this test's own, for tests that look at or reset everything."""
    with running_emulator() as server:
        yield server


# Tests that count or reset everything on their emulator get one of their own.
NEEDS_FRESH_EMULATOR = {
    "test_health",
    "test_reset_one_environment",
    "test_reset_everything",
    "test_clock_stays_within_formattable_dates",
}


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> EmulatorServer:
    fresh = request.node.originalname in NEEDS_FRESH_EMULATOR
    server: EmulatorServer = request.getfixturevalue("fresh" if fresh else "shared")
    return server


@pytest.fixture
def new_env(emu: EmulatorServer) -> Iterator[Callable[[], Env]]:
    """Makes API clients, each with its own key; their environments are reset afterwards."""
    made: list[Env] = []

    def make() -> Env:
        env = Env(emu.url)
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            env.reset()
            env.close()


@pytest.fixture
def env(new_env: Callable[[], Env]) -> Env:
    return new_env()


@pytest.fixture
def control(emu: EmulatorServer) -> Iterator[httpx.Client]:
    """An unauthenticated client: the control API needs no key."""
    with httpx.Client(base_url=emu.url, timeout=30.0, verify=CLIENT_SSL) as client:
        yield client


@pytest.fixture
def failing() -> Iterator[Receiver]:
    with Receiver(default=Reply(500, b"boom")) as receiver:
        yield receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver
