"""The emulator clock: every timestamp and every retry delay goes through it.

Emulated time starts at the wall clock's time and then runs at ``1 / time_scale`` times real
speed, measured by a monotonic clock, plus whatever was added by ``advance``. With a scale of
0.001 a 30 s retry delay passes in 30 ms of real time.

The wall clock is read once, at the start: when it is stepped later (NTP, a user, a time zone
tool) emulated time does not jump with it, so it never goes backwards and a scheduled try is
never reordered, skipped or held back. The monotonic clock counts a suspend (``CLOCK_BOOTTIME``
on Linux): after a laptop sleeps, emulated time has moved on as the wall clock has, and the
tries that came due meanwhile run at once, in the order they were due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def _steady_source() -> Callable[[], float]:
    """A monotonic clock that includes suspend where the system has one."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:  # macOS, Windows: time.monotonic
        return time.monotonic
    return lambda: time.clock_gettime(boottime)


steady = _steady_source()


class Clock:
    """A monotonic emulated clock (unix seconds) with a time scale and manual advance."""

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = steady,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor_real = monotonic()
        self._anchor_emulated = wall()
        self._scale = time_scale
        # The latest time handed out: nothing, not even a monotonic source that misbehaves,
        # makes the clock go back.
        self._latest = self._anchor_emulated
        self._listeners: list[Callable[[], None]] = []

    @property
    def time_scale(self) -> float:
        """Real seconds per emulated second."""
        return self._scale

    def now(self) -> float:
        """The emulated time, in unix seconds."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        now = self._anchor_emulated + (self._monotonic() - self._anchor_real) / self._scale
        if now > self._latest:
            self._latest = now
        return self._latest

    def advance(self, seconds: float) -> float:
        """Move emulated time forward by ``seconds``; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._anchor_emulated = self._now_locked() + seconds
            self._anchor_real = self._monotonic()
            now = self._anchor_emulated
        self._notify()
        return now

    def set_time_scale(self, time_scale: float) -> None:
        """Change the speed of emulated time without a jump."""
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        with self._lock:
            self._anchor_emulated = self._now_locked()
            self._anchor_real = self._monotonic()
            self._scale = time_scale
        self._notify()

    def real_delay(self, emulated_seconds: float) -> float:
        """How many real seconds pass while ``emulated_seconds`` of emulated time go by."""
        return max(0.0, emulated_seconds) * self._scale

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every advance or scale change (the scheduler re-plans)."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
