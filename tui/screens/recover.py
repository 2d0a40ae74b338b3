"""``R``: recover an endpoint, redelivering what failed to it since a time."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.format import full_time

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float, tz: tzinfo | None) -> float:
    """Unix seconds from ``30m`` / ``2h`` / ``1d`` (that long before ``now``), an RFC 3339
    date-time, or ``HH:MM`` today; ValueError otherwise."""
    value = text.strip()
    if not value:
        raise ValueError("say since when")
    if value[-1] in UNITS and value[:-1].replace(".", "", 1).isdigit():
        return now - float(value[:-1]) * UNITS[value[-1]]
    if len(value) == 5 and value[2] == ":":
        hour, minute = int(value[:2]), int(value[3:])
        today = datetime.fromtimestamp(now, tz=tz)
        return today.replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp()
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz or timezone.utc)
    return parsed.timestamp()


class RecoverScreen(ModalScreen[float | None]):
    """Returns the chosen time (unix seconds), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, endpoint: str, now: float | None, tz: tzinfo | None) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.now = now
        self.tz = tz

    def compose(self) -> ComposeResult:
        with Vertical(id="recover", classes="form"):
            yield Static(
                Text.assemble(
                    "Redeliver every event whose latest attempt to ",
                    (self.endpoint, "bold"),
                    " failed, since:",
                )
            )
            yield Label("Since (30m, 2h, 1d, 14:05 or 2024-05-01T12:00:00Z)")
            yield Input("1h", id="r-since")
            yield Static(id="r-preview", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Recover", variant="primary", id="r-go")
                yield Button("Cancel", id="r-cancel")

    def on_mount(self) -> None:
        self.query_one("#recover").border_title = f"Recover {self.endpoint}"
        self.query_one("#r-since", Input).focus()
        self._preview(self.query_one("#r-since", Input).value)

    def _now(self) -> float:
        return self.now if self.now is not None else datetime.now(timezone.utc).timestamp()

    @on(Input.Changed)
    def _changed(self, message: Input.Changed) -> None:
        self._preview(message.value)

    def _preview(self, text: str) -> None:
        try:
            shown = Text("since " + full_time(parse_since(text, self._now(), self.tz), self.tz))
        except ValueError as error:
            shown = Text(str(error), "red")
        self.query_one("#r-preview", Static).update(shown)

    @on(Input.Submitted)
    @on(Button.Pressed, "#r-go")
    def _go(self) -> None:
        try:
            since = parse_since(self.query_one("#r-since", Input).value, self._now(), self.tz)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        self.dismiss(since)

    @on(Button.Pressed, "#r-cancel")
    def action_cancel(self) -> None:
        """Close without recovering."""
        self.dismiss(None)
