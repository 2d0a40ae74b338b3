"""The emulator clock between readings: still, or run forward at the emulator's time scale."""

from __future__ import annotations

import time

from tui.clock import EmulatorClock


def test_no_reading_no_time() -> None:
    clock = EmulatorClock()
    assert clock.now() is None and clock.next_due is None and clock.time_scale == 1.0


def test_a_still_clock_stays_on_its_reading() -> None:
    clock = EmulatorClock(running=False)
    clock.take({"unix": 1000.0, "time_scale": 0.001, "next_due_unix": 1030.0})
    time.sleep(0.01)
    assert clock.now() == 1000.0 and clock.next_due == 1030.0


def test_a_running_clock_moves_at_the_emulator_time_scale() -> None:
    clock = EmulatorClock()
    clock.take({"unix": 1000.0, "time_scale": 0.001, "next_due_unix": None})
    time.sleep(0.02)
    now = clock.now()
    # 20 ms of real time are 20 emulated seconds at 0.001 real seconds per emulated second.
    assert now is not None and 1019.0 <= now < 1000.0 + 60.0
