"""The hostile-input fixtures: one emulator and one raw receiver per test module, and the seeded
environment whose snapshot must not change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import running_emulator
from tests.hardening.hostile.seeded import Seeded
from tests.hardening.receivers import RawReceiver


@pytest.fixture(scope="module")
def raw_receiver() -> Iterator[RawReceiver]:
    with RawReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def env(emu: EmulatorServer, raw_receiver: RawReceiver) -> Iterator[Seeded]:
    seeded = Seeded(emu.url)
    try:
        seeded.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
        seeded.endpoint(
            "app", "ep", raw_receiver.hook("/seeded"), headers={"headers": {"X-Seed": "1"}}
        )
        seeded.publish("app", uid="evt")
        seeded.settle()
        [attempt] = seeded.event_attempts("app", "evt")
        seeded.attempt = attempt["id"]
        before = seeded.snapshot()
        yield seeded
        assert seeded.tried, "the test sent nothing"
        assert seeded.snapshot() == before, "a refused request changed what is stored"
    finally:
        seeded.reset()
        seeded.close()


@pytest.fixture
def fresh(emu: EmulatorServer) -> Iterator[Seeded]:
    """An environment with an application ``app``, for tests whose inputs are accepted."""
    made = Seeded(emu.url)
    try:
        made.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
        yield made
    finally:
        made.reset()
        made.close()
