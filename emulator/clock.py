"""The emulator clock: every timestamp and every retry delay goes through it.

Emulated time runs at ``1 / time_scale`` times real speed from an anchor, plus whatever was
added by ``advance``. With a scale of 0.001 a 30 s retry delay passes in 30 ms of real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    """A monotonic emulated clock (unix seconds) with a time scale and manual advance."""

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor_real = monotonic()
        self._anchor_emulated = wall()
        self._scale = time_scale
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
        return self._anchor_emulated + (self._monotonic() - self._anchor_real) / self._scale

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
