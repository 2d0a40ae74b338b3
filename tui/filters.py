"""What the event list shows: the tree scope and the type/topic/status filter."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tui.records import EventInfo

STATUS_FILTERS = ("", "failed", "pending", "delivered", "none")
"""Event status filter values: any, failed (incl. retrying), pending, all delivered, unrouted."""


@dataclass(frozen=True)
class Scope:
    """The part of the tree the event list is limited to (empty: everything)."""

    env: str | None = None
    app: str | None = None
    endpoint: str | None = None

    def contains(self, event: EventInfo) -> bool:
        """Whether the event is in this environment/application (and went to the endpoint)."""
        if self.env is not None and event.env != self.env:
            return False
        if self.app is not None and event.app != self.app:
            return False
        if self.endpoint is not None:
            return any(a.endpoint_uid == self.endpoint for a in event.attempts.values())
        return True

    def describe(self) -> str:
        """``app/endpoint`` or "" for everything."""
        return "/".join(p for p in (self.app, self.endpoint) if p)


@dataclass(frozen=True)
class EventFilter:
    """What the event list shows: event type and topic (substrings, case-insensitive, ``*``
    wildcards allowed), status (``STATUS_FILTERS``) and the tree scope."""

    event_type: str = ""
    topic: str = ""
    status: str = ""
    scope: Scope = Scope()

    @property
    def active(self) -> bool:
        """Whether anything is filtered out."""
        return bool(self.event_type or self.topic or self.status or self.scope != Scope())

    def matches(self, event: EventInfo) -> bool:
        """Whether the event passes every criterion."""
        if self.event_type and not _text_match(self.event_type, event.event_type):
            return False
        if self.topic and not any(_text_match(self.topic, t) for t in event.topics):
            return False
        if self.status and event.status() != self.status:
            return False
        return self.scope.contains(event)

    def describe(self) -> str:
        """A short summary for titles: ``type~user. topic~eu status=failed in shop``."""
        parts = []
        if self.event_type:
            parts.append(f"type~{self.event_type}")
        if self.topic:
            parts.append(f"topic~{self.topic}")
        if self.status:
            parts.append(f"status={self.status}")
        if self.scope.describe():
            parts.append(f"in {self.scope.describe()}")
        return " ".join(parts)

    def with_scope(self, scope: Scope) -> EventFilter:
        """The same filter limited to ``scope``."""
        return replace(self, scope=scope)


def _text_match(pattern: str, text: str) -> bool:
    pattern, text = pattern.lower(), text.lower()
    if "*" not in pattern:
        return pattern in text
    from fnmatch import fnmatchcase

    return fnmatchcase(text, pattern)
