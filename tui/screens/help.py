"""``?``: every key of the dashboard, from the same table the bindings are made of."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import DETAILS, LEGEND, MAIN, NAVIGATION, KeyAction


def _section(title: str, rows: list[tuple[str, str]]) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True, min_width=16)
    table.add_column()
    for key, text in rows:
        table.add_row(key, text)
    return Group(Text(title, "bold underline"), table, Text(""))


def _rows(actions: tuple[KeyAction, ...]) -> list[tuple[str, str]]:
    return [(a.display_key, a.help) for a in actions]


def help_text() -> RenderableType:
    """The whole help page."""
    return Group(
        _section("Events and attempts", _rows(MAIN)),
        _section("Moving around", list(NAVIGATION)),
        _section("Attempt details", _rows(DETAILS)),
        Text("Delivery marks", "bold underline"),
        Text(LEGEND),
        Text(""),
        Text(
            "Times are the emulator's clock. 'Next try' is when a failed delivery is tried "
            "again; n jumps the clock there. Endpoint health in the tree is the success rate "
            "of its last 20 tries.",
            "dim",
        ),
    )


class HelpScreen(ModalScreen[None]):
    """The key reference; any of esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_text())

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"
        self.query_one("#help").border_subtitle = "esc closes"

    def action_close(self) -> None:
        """Close."""
        self.dismiss()
