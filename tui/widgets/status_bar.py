"""The bottom line: connection state, URL, counts, the emulator clock and deliveries/s."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from tui.format import clock_time

HISTORY = 60
"""Seconds of deliveries/s the sparkline shows."""

STATES = {
    "live": ("●", "green", "live"),
    "polling": ("●", "yellow", "polling"),
    "connecting": ("◌", "yellow", "connecting"),
    "offline": ("✗", "red", "offline"),
}


class StatusBar(Horizontal):
    """Connection, counts and clock on the left; the deliveries/s sparkline on the right."""

    def __init__(self, url: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.url = url
        self.rates: deque[float] = deque([0.0] * HISTORY, maxlen=HISTORY)

    def compose(self) -> ComposeResult:
        yield Static(id="status-text")
        yield Sparkline(list(self.rates), id="status-spark")
        yield Static("0.0/s", id="status-rate")

    def show(
        self,
        state: str,
        detail: str,
        counts: Sequence[tuple[str, int]],
        clock: float | None,
        next_due: float | None,
        time_scale: float,
        tz: tzinfo | None,
    ) -> None:
        """Redraw the text part."""
        glyph, colour, word = STATES.get(state, ("?", "white", state))
        text = Text()
        text.append(f"{glyph} {word} ", f"bold {colour}")
        text.append(self.url, "underline")
        if detail and state != "live":
            text.append(f"  {detail}", colour)
        if state in ("live", "polling"):
            for name, value in counts:
                text.append(f"  {value:,}", "bold")
                text.append(f" {name if value != 1 or name == 'failing' else name[:-1]}", "dim")
            if clock is not None:
                text.append("  clock ", "dim")
                text.append(clock_time(clock, tz))
                if time_scale != 1:
                    text.append(f" x{1 / time_scale:g}", "yellow")
                if next_due is not None:
                    text.append("  next try ", "dim")
                    text.append(clock_time(next_due, tz), "yellow")
        self.query_one("#status-text", Static).update(text)

    def push_rate(self, per_second: float) -> None:
        """Add one second's deliveries to the sparkline."""
        self.rates.append(per_second)
        self.query_one("#status-spark", Sparkline).data = list(self.rates)
        self.query_one("#status-rate", Static).update(f"{per_second:,.1f}/s")
