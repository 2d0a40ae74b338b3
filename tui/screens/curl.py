"""A delivery as a curl command: copied to the clipboard and shown, to select by hand where
the terminal does not pass clipboard writes (OSC 52) through."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


class CurlScreen(ModalScreen[None]):
    """Shows the command; esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(id="curl"):
            yield Static(
                "Copied to the clipboard. Paste it in a shell to replay the delivery.",
                id="curl-note",
            )
            yield TextArea(self.command, read_only=True, soft_wrap=True, id="curl-text")

    def on_mount(self) -> None:
        self.query_one("#curl").border_title = "curl"
        self.query_one("#curl").border_subtitle = "esc closes"

    def action_close(self) -> None:
        """Close."""
        self.dismiss()
