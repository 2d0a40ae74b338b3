"""The records the dashboard shows: environments, applications, endpoints (with their
health), events and their delivery attempts, built from the API's wire records.

Pure data, no I/O and no Textual. An attempt's state only moves forward (pending -> sending ->
success/fail), so a listing read before a stream change can never undo it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

AppKey = tuple[str, str]
"""(environment id, application uid)."""
EndpointKey = tuple[str, str, str]
"""(environment id, application uid, endpoint uid)."""
EventKey = tuple[str, str, str]
"""(environment id, application uid, event uid)."""

HEALTH_WINDOW = 20
"""How many finished attempts an endpoint's success rate looks at."""

# Wire values of DeliveryAttempt.status and .trigger_type.
SUCCESS, PENDING, SENDING, FAIL = 0, 1, 2, 3
SYSTEM, MANUAL = 0, 1


def parse_time(text: str | None) -> float | None:
    """Unix seconds from the API's RFC 3339 timestamps (None passes through)."""
    if not text:
        return None
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


class DeliveryState(Enum):
    """Where an event's delivery to one endpoint stands (from its latest attempt)."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"

    @property
    def is_failure(self) -> bool:
        """Failed for good, or failed and waiting for a retry."""
        return self in (DeliveryState.FAILED, DeliveryState.RETRYING)


@dataclass
class Environment:
    """One API key's environment."""

    id: str
    api_key: str | None
    apps: list[str] = field(default_factory=list)


@dataclass
class Application:
    """An application of an environment."""

    env: str
    uid: str
    name: str = ""
    rate_limit: int | None = None
    retry_strategy: dict[str, Any] | None = None  # None until the record is read

    @property
    def key(self) -> AppKey:
        """(env, uid)."""
        return (self.env, self.uid)


@dataclass
class EndpointInfo:
    """An endpoint and its health, computed from the attempts the dashboard has seen."""

    env: str
    app: str
    uid: str
    url: str = ""
    active: bool = True
    rate_limit: int | None = None
    description: str | None = None
    filter_types: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    recent: list[tuple[float, str, bool]] = field(default_factory=list)
    counted: set[str] = field(default_factory=set)

    @property
    def key(self) -> EndpointKey:
        """(env, app, uid)."""
        return (self.env, self.app, self.uid)

    @property
    def success_rate(self) -> float | None:
        """Share of the last ``HEALTH_WINDOW`` finished attempts that succeeded (None: none)."""
        if not self.recent:
            return None
        return sum(ok for _, _, ok in self.recent) / len(self.recent)

    def record(self, attempt_id: str, ok: bool, at: float) -> None:
        """Count a finished attempt once; only the latest ``HEALTH_WINDOW`` are kept."""
        if attempt_id in self.counted:
            return
        self.counted.add(attempt_id)
        bisect.insort(self.recent, (at, attempt_id, ok))
        if len(self.recent) > HEALTH_WINDOW:
            del self.recent[0]

    def update_from_wire(self, data: Mapping[str, Any]) -> None:
        """Take the fields of an API endpoint record."""
        self.url = str(data.get("url") or "")
        self.active = bool(data.get("active", True))
        self.rate_limit = data.get("rate_limit")
        self.description = data.get("description")
        self.filter_types = list(data.get("filter_types") or [])
        self.topics = list(data.get("topics") or [])


_RANK = {PENDING: 0, SENDING: 1, SUCCESS: 2, FAIL: 2}


@dataclass
class AttemptInfo:
    """One delivery attempt; the detail fields are filled by stream changes or on demand."""

    id: str
    env: str
    app: str
    event_uid: str
    endpoint_uid: str
    status: int
    trigger: int
    retry_count: int
    code: int = 0
    response: str | None = None
    attempted_at: float | None = None
    scheduled_at: float | None = None
    duration_ms: float | None = None
    endpoint_url: str | None = None
    has_detail: bool = False

    @classmethod
    def from_wire(cls, env: str, app: str, data: Mapping[str, Any]) -> AttemptInfo:
        """From a ``DeliveryAttempt`` (listing) or an ``AttemptDetail`` (stream, control API)."""
        has_detail = "scheduled_at" in data
        return cls(
            id=str(data["id"]),
            env=env,
            app=app,
            event_uid=str(data["event_id"]),
            endpoint_uid=str(data["endpoint_id"]),
            status=int(data.get("status") or 0),
            trigger=int(data.get("trigger_type") or 0),
            retry_count=int(data.get("retry_count") or 0),
            code=int(data.get("response_status_code") or 0),
            response=data.get("response"),
            attempted_at=parse_time(data.get("attempted_at")),
            scheduled_at=parse_time(data.get("scheduled_at")) if has_detail else None,
            duration_ms=data.get("duration_ms") if has_detail else None,
            endpoint_url=data.get("endpoint_url") if has_detail else None,
            has_detail=has_detail,
        )

    @property
    def rank(self) -> int:
        """How far along it is: an update never moves an attempt back."""
        return _RANK.get(self.status, 0)

    @property
    def finished(self) -> bool:
        """Success or failure recorded."""
        return self.status in (SUCCESS, FAIL)

    @property
    def try_number(self) -> int:
        """1 for the first try of a delivery, 2 for its first retry, ..."""
        return self.retry_count + 1

    def merge(self, newer: AttemptInfo) -> bool:
        """Take ``newer``'s state unless it is behind this one; returns whether anything changed."""
        if newer.rank < self.rank:
            return False
        if newer.rank == self.rank and self.has_detail and not newer.has_detail:
            return False
        keep_detail = self.has_detail and not newer.has_detail
        before = (self.status, self.code, self.attempted_at, self.has_detail)
        self.status, self.code, self.response = newer.status, newer.code, newer.response
        self.attempted_at = newer.attempted_at or self.attempted_at
        self.retry_count, self.trigger = newer.retry_count, newer.trigger
        if not keep_detail:
            self.scheduled_at = newer.scheduled_at or self.scheduled_at
            self.duration_ms = newer.duration_ms
            self.endpoint_url = newer.endpoint_url or self.endpoint_url
            self.has_detail = self.has_detail or newer.has_detail
        return before != (self.status, self.code, self.attempted_at, self.has_detail)

    def state(self) -> DeliveryState:
        """The delivery state this attempt stands for, as the latest one of its endpoint."""
        if self.status == SUCCESS:
            return DeliveryState.DELIVERED
        if self.status == FAIL:
            return DeliveryState.FAILED
        if self.status == SENDING:
            return DeliveryState.SENDING
        # A pending retry of a failed try: the delivery is failing, and will try again.
        return DeliveryState.RETRYING if self.retry_count > 0 else DeliveryState.QUEUED


@dataclass
class EventInfo:
    """A published event and its attempts (to every endpoint it was routed to)."""

    env: str
    app: str
    uid: str
    event_type: str
    topics: list[str]
    created_at: float
    payload: dict[str, Any]
    version: str = ""
    attempts: dict[str, AttemptInfo] = field(default_factory=dict)
    order: int = 0
    revision: int = 0  # counts changes of the attempts (the list's line cache key)
    _marks: list[tuple[str, DeliveryState]] | None = field(default=None, repr=False)
    _status: str | None = field(default=None, repr=False)

    @classmethod
    def from_wire(cls, env: str, app: str, data: Mapping[str, Any]) -> EventInfo:
        """From an API ``Event`` record."""
        return cls(
            env=env,
            app=app,
            uid=str(data["uid"]),
            event_type=str(data.get("event_type") or ""),
            topics=list(data.get("topics") or []),
            created_at=parse_time(data.get("created_at")) or 0.0,
            payload=dict(data.get("payload") or {}),
            version=str(data.get("version") or ""),
        )

    @property
    def key(self) -> EventKey:
        """(env, app, uid)."""
        return (self.env, self.app, self.uid)

    def sorted_attempts(self) -> list[AttemptInfo]:
        """Every attempt as a timeline: by when it was tried (or is due), then created."""
        far = float("inf")
        return sorted(
            self.attempts.values(),
            key=lambda a: (a.attempted_at or a.scheduled_at or far, a.id),
        )

    def latest_by_endpoint(self) -> dict[str, AttemptInfo]:
        """The latest attempt (the last created: ids sort in creation order) to each
        endpoint, endpoints by uid (the same order in every row of the list)."""
        latest: dict[str, AttemptInfo] = {}
        for attempt in sorted(self.attempts.values(), key=lambda a: a.id):
            latest[attempt.endpoint_uid] = attempt
        return dict(sorted(latest.items()))

    def marks(self) -> list[tuple[str, DeliveryState]]:
        """(endpoint uid, state) for every endpoint the event went to."""
        if self._marks is None:
            self._marks = [(uid, a.state()) for uid, a in self.latest_by_endpoint().items()]
        return self._marks

    def attempts_changed(self) -> None:
        """Forget what was computed from the attempts."""
        self._marks = self._status = None
        self.revision += 1

    def status(self) -> str:
        """One word for the filter: failed, pending, delivered or none (routed nowhere)."""
        if self._status is None:
            states = [state for _, state in self.marks()]
            if not states:
                self._status = "none"
            elif any(s.is_failure for s in states):
                self._status = "failed"
            elif all(s is DeliveryState.DELIVERED for s in states):
                self._status = "delivered"
            else:
                self._status = "pending"
        return self._status
