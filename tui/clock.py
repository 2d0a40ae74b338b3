"""The emulator's clock as the dashboard sees it: the last reading, run forward."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any


class EmulatorClock:
    """The emulator's time between two readings (health answers, clock calls).

    The emulator's clock runs at its own ``time_scale`` (real seconds per emulated second), so
    the time now is the last reading plus the real time since, scaled. With ``running=False``
    it stays on the last reading (a still screen for snapshots).
    """

    def __init__(self, running: bool = True) -> None:
        self.running = running
        self.reading: Mapping[str, Any] | None = None
        self._taken_at = 0.0

    def take(self, reading: Mapping[str, Any]) -> None:
        """Remember a reading (``/_emulator/clock`` or the health answer's ``clock``)."""
        self.reading = reading
        self._taken_at = time.monotonic()

    @property
    def time_scale(self) -> float:
        """Real seconds per emulated second (1 until the first reading)."""
        reading = self.reading or {}
        return float(reading.get("time_scale") or 1.0)

    @property
    def next_due(self) -> float | None:
        """When the next try is due (unix seconds), as of the last reading."""
        due = (self.reading or {}).get("next_due_unix")
        return None if due is None else float(due)

    def now(self) -> float | None:
        """The emulator's time now (unix seconds); None before the first reading."""
        if self.reading is None:
            return None
        unix = float(self.reading["unix"])
        if not self.running:
            return unix
        return unix + (time.monotonic() - self._taken_at) / self.time_scale
