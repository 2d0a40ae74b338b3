"""Messages between the sync layer, the widgets, the screens and the app (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from emulator.client import Health
from tui.filters import Scope
from tui.model import Applied
from tui.records import EventInfo, EventKey


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


@dataclass
class RetryRequested(Message):
    """Deliver ``event`` to endpoint ``endpoint`` again (the app runs it on the main screen,
    so that it finishes even when the screen asking is closed)."""

    event: EventInfo
    endpoint: str


@dataclass
class CurlRequested(Message):
    """Show (and copy) attempt ``attempt_id`` as a curl command."""

    attempt_id: str


@dataclass
class AttemptStepped(Message):
    """The details screen moved to attempt ``attempt_id``: the attempt table follows."""

    attempt_id: str
