"""``/``: filter the event list by type, topic and status."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from tui.filters import EventFilter

STATUS_OPTIONS = [
    ("any", ""),
    ("failed (or retrying)", "failed"),
    ("pending", "pending"),
    ("delivered", "delivered"),
    ("routed nowhere", "none"),
]


class FilterScreen(ModalScreen[EventFilter | None]):
    """Returns the new filter (None: cancelled). Type and topic match substrings or ``*``
    patterns, case-insensitively."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: EventFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter", classes="form"):
            yield Label("Event type")
            yield Input(self.current.event_type, placeholder="user.  or  order.*", id="f-type")
            yield Label("Topic")
            yield Input(self.current.topic, placeholder="any topic", id="f-topic")
            yield Label("Status")
            yield Select(
                STATUS_OPTIONS, value=self.current.status, allow_blank=False, id="f-status"
            )
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="f-apply")
                yield Button("Clear", id="f-clear")
                yield Button("Cancel", id="f-cancel")

    def on_mount(self) -> None:
        self.query_one("#filter").border_title = "Filter events"
        self.query_one("#filter").border_subtitle = "enter applies · esc cancels"
        self.query_one("#f-type", Input).focus()

    def _value(self) -> EventFilter:
        status = self.query_one("#f-status", Select).value
        return EventFilter(
            event_type=self.query_one("#f-type", Input).value.strip(),
            topic=self.query_one("#f-topic", Input).value.strip(),
            status=status if isinstance(status, str) else "",
            scope=self.current.scope,
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#f-apply")
    def _apply(self) -> None:
        self.dismiss(self._value())

    @on(Button.Pressed, "#f-clear")
    def _clear(self) -> None:
        self.dismiss(EventFilter())

    @on(Button.Pressed, "#f-cancel")
    def action_cancel(self) -> None:
        """Close without changing the filter."""
        self.dismiss(None)
