"""The delivery suite's fixtures: one emulator per module, its clock frozen (it moves only when a
test advances it), each test with its own API key (reset afterwards, which also cancels its
pending retries), and real local receivers. Tests that need other settings (a short delivery
timeout, an observed HTTP client) start their own emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import GRACE, Env, Receiver, Reply, fresh_env, running_emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with running_emulator(rotation_grace_seconds=GRACE) as server:
        yield server


@pytest.fixture
def env(emu: EmulatorServer) -> Iterator[Env]:
    yield from fresh_env(emu.url)


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**options: Any) -> Receiver:
        receiver = Receiver(**options)
        made.append(receiver)
        return receiver

    try:
        yield make
    finally:
        for receiver in made:
            receiver.close()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def failing(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver(default=Reply(500, b"boom"))
