"""Messages between the sync layer, the widgets and the screens (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from emulator.client import Health
from tui.filters import Scope
from tui.model import Applied
from tui.records import EventKey


@dataclass
class ModelChanged(Message):
    """The model changed (a batch of stream changes, a snapshot page, a reload)."""

    applied: Applied = field(default_factory=Applied)
    reloaded: bool = False


@dataclass
class SnapshotLoaded(Message):
    """The initial (or post-reconnect) listing of every event is in the model."""

    events: int
    seconds: float


@dataclass
class ConnectionChanged(Message):
    """The link to the emulator: ``state`` is connecting, live, polling or offline."""

    state: str
    detail: str = ""


@dataclass
class HealthUpdated(Message):
    """A fresh ``/_emulator/health`` answer."""

    health: Health


@dataclass
class EventHighlighted(Message):
    """The event list's cursor moved to an event (None: the list is empty)."""

    key: EventKey | None


@dataclass
class EventChosen(Message):
    """Enter on an event."""

    key: EventKey


@dataclass
class ScopeChosen(Message):
    """A node of the tree was chosen: show only its events."""

    scope: Scope
