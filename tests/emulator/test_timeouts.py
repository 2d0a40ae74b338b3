"""``deadline``: a time limit that never swallows the cancellation of the task waiting in it."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from emulator.timeouts import deadline


async def wake_loop(wake: asyncio.Event) -> None:
    """Waits for wake-ups with a limit forever, as the delivery engine's loop does."""
    while True:
        wake.clear()
        with contextlib.suppress(TimeoutError):
            async with deadline(1.0):
                await wake.wait()


def test_a_cancel_in_the_same_pass_as_the_wake_up_stops_the_loop() -> None:
    # asyncio.wait_for (before Python 3.12) returns here instead of raising CancelledError,
    # and the loop runs on.
    async def scenario() -> bool:
        wake = asyncio.Event()
        task = asyncio.ensure_future(wake_loop(wake))
        await asyncio.sleep(0.01)
        wake.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=3)
        task.cancel()
        return task in done and task.cancelled()

    assert asyncio.run(scenario())


def test_the_block_ends_with_timeout_error_when_the_time_is_up() -> None:
    async def scenario() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with deadline(0.05):
                await asyncio.Event().wait()
        return time.monotonic() - started

    assert 0.04 <= asyncio.run(scenario()) < 2


def test_a_block_that_finishes_in_time_keeps_its_result() -> None:
    async def scenario() -> int:
        queue: asyncio.Queue[int] = asyncio.Queue()
        queue.put_nowait(7)
        async with deadline(1.0):
            return await queue.get()

    assert asyncio.run(scenario()) == 7
