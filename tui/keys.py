"""Every key of the dashboard, described once: bindings, the footer, the help screen and the
command palette are all built from this table."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class KeyAction:
    """One action: its key(s), the action method it runs, a footer label and a help line."""

    key: str
    action: str
    label: str
    help: str
    footer: bool = True
    shown_key: str = ""

    @property
    def display_key(self) -> str:
        """The key as the help screen shows it."""
        return self.shown_key or self.key.split(",")[0]

    def binding(self) -> Binding:
        """The Textual binding."""
        return Binding(self.key, self.action, self.label, show=self.footer, key_display=None)


MAIN: tuple[KeyAction, ...] = (
    KeyAction("r", "retry", "Retry", "Retry the selected event to the selected endpoint (manual)"),
    KeyAction(
        "enter",
        "details",
        "Details",
        "Open the selected attempt: request, response, signature",
        footer=False,
    ),
    KeyAction("p", "publish", "Publish", "Publish a test event (the form keeps your last one)"),
    KeyAction(
        "slash", "filter", "Filter", "Filter events by type, topic and status", shown_key="/"
    ),
    KeyAction(
        "escape",
        "clear_filter",
        "Clear filter",
        "Clear the filter and the tree scope",
        footer=False,
        shown_key="esc",
    ),
    KeyAction("n", "next_due", "Next due", "Advance the emulator clock to the next due try"),
    KeyAction("c", "curl", "Curl", "Copy the selected delivery as a curl command"),
    KeyAction(
        "R",
        "recover",
        "Recover",
        "Recover the selected endpoint: redeliver failures since…",
        shown_key="shift+r",
    ),
    KeyAction("s", "rotate_secret", "Rotate", "Rotate the selected endpoint's secret"),
    KeyAction("a", "toggle_active", "Active", "Enable or disable the selected endpoint"),
    KeyAction(
        "x",
        "toggle_chaos",
        "Chaos",
        "Chaos on the selected endpoint: duplicates, lost acks (again: off)",
        footer=False,
    ),
    KeyAction(
        "f", "follow", "Newest", "Jump to the newest event and follow new ones", footer=False
    ),
    KeyAction("question_mark", "help", "Help", "Show every key", shown_key="?"),
    KeyAction("q", "app.quit", "Quit", "Quit the dashboard"),
)
"""The main screen's keys."""

DETAILS: tuple[KeyAction, ...] = (
    KeyAction("escape,q", "close", "Back", "Back to the event list", shown_key="esc"),
    KeyAction("r", "retry", "Retry", "Retry this event to this endpoint"),
    KeyAction("c", "curl", "Curl", "Copy this delivery as a curl command"),
    KeyAction(
        "left_square_bracket",
        "previous",
        "Previous",
        "The previous attempt of the event",
        shown_key="[",
    ),
    KeyAction(
        "right_square_bracket", "next", "Next", "The next attempt of the event", shown_key="]"
    ),
    KeyAction("question_mark", "help", "Help", "Show every key", shown_key="?"),
)
"""The details screen's keys."""

NAVIGATION: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "Move between the tree, the events and the attempts"),
    ("↑ ↓ j k", "Move the cursor; pgup/pgdn/home/end (g/G) in the event list"),
    ("enter (tree)", "Limit the events to an environment, application or endpoint"),
    ("enter (events)", "Go to the event's attempts"),
    ("ctrl+p", "Command palette: every action, searchable"),
)
"""Keys that are not actions of their own (shown in the help screen)."""

LEGEND = "✓ delivered   ✗ failed   ↻ failed, retry scheduled   … sending   • queued"
"""What the status marks mean."""
