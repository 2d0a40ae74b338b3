"""The dashboard's data: environments, applications, endpoints, events and their attempts.

Pure data, no I/O and no Textual: the sync layer feeds it wire records (from listings and from
the change stream) and the widgets read it. Everything is keyed by the environment id (what the
change stream calls ``env``) plus uids, since uids are only unique within an application.

Two properties keep it correct whatever order the records arrive in:

- an attempt's state only moves forward (pending -> sending -> success/fail), so a listing
  read before a stream change can never undo it;
- events from a snapshot listing go before every event that came from the stream (the stream
  is connected before the listing starts, so whatever only the listing holds is older).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
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


STATUS_FILTERS = ("", "failed", "pending", "delivered", "none")
"""Event status filter values: any, failed (incl. retrying), pending, all delivered, unrouted."""


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


@dataclass
class Applied:
    """What one batch of changes did, so the widgets redraw only that."""

    events_added: int = 0
    events_changed: set[EventKey] = field(default_factory=set)
    tree_changed: bool = False
    resync: bool = False
    unresolved_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unknown_envs: set[str] = field(default_factory=set)
    endpoints_to_reload: set[str] = field(default_factory=set)
    deliveries: int = 0

    def merge(self, other: Applied) -> None:
        """Add another batch's effects to this one."""
        self.events_added += other.events_added
        self.events_changed |= other.events_changed
        self.tree_changed = self.tree_changed or other.tree_changed
        self.resync = self.resync or other.resync
        self.unresolved_events.extend(other.unresolved_events)
        self.unknown_envs |= other.unknown_envs
        self.endpoints_to_reload |= other.endpoints_to_reload
        self.deliveries += other.deliveries


class Model:
    """Everything the dashboard shows, and the filtered view of the event list."""

    def __init__(self) -> None:
        self.filter = EventFilter()
        self.generation = 0  # changes whenever events' ``order`` values are handed out anew
        self._forget()

    def _forget(self) -> None:
        self.envs: dict[str, Environment] = {}
        self.apps: dict[AppKey, Application] = {}
        self.endpoints: dict[EndpointKey, EndpointInfo] = {}
        self.events: list[EventInfo] = []
        self.by_key: dict[EventKey, EventInfo] = {}
        self.visible: list[EventInfo] = []
        # Events of each (env, uid): usually one, more when two applications share a uid.
        self._by_env_uid: dict[tuple[str, str], list[EventInfo]] = {}
        # Attempts that came before their event, by (env, event uid).
        self._orphans: dict[tuple[str, str], list[AttemptInfo]] = {}
        self._base_events = 0  # events[:_base_events] came from the snapshot listing
        self._base_visible = 0
        self._order = 0
        self.attempt_total = 0
        self.failing: set[EventKey] = set()

    # ------------------------------------------------------------------ reading
    @property
    def attempt_count(self) -> int:
        """Attempts known."""
        return self.attempt_total

    def failed_count(self) -> int:
        """Events whose delivery to some endpoint is failing."""
        return len(self.failing)

    def apps_of(self, env: str) -> list[Application]:
        """The environment's applications, in the environment's order."""
        environment = self.envs.get(env)
        uids = environment.apps if environment else []
        return [self.apps[(env, uid)] for uid in uids if (env, uid) in self.apps]

    def endpoints_of(self, env: str, app: str) -> list[EndpointInfo]:
        """An application's endpoints, in the order they were seen."""
        return [e for e in self.endpoints.values() if e.env == env and e.app == app]

    def api_key_of(self, env: str) -> str | None:
        """The API key of an environment (None until the environment list says)."""
        environment = self.envs.get(env)
        return environment.api_key if environment else None

    def index_of(self, key: EventKey) -> int | None:
        """Position of an event in the visible list (None: filtered out or unknown)."""
        event = self.by_key.get(key)
        if event is None or not self.filter.matches(event):
            return None
        position = bisect.bisect_left(self.visible, event.order, key=lambda e: e.order)
        if position < len(self.visible) and self.visible[position] is event:
            return position
        return None

    # ------------------------------------------------------------------ snapshots
    def reset(self) -> None:
        """Forget every record (before a full reload); the filter stays."""
        self._forget()
        self.generation += 1

    def set_environments(self, envs: Iterable[Mapping[str, Any]]) -> bool:
        """Take ``GET /_emulator/environments``; returns whether the tree changed."""
        changed = False
        for data in envs:
            env_id = str(data["id"])
            known = self.envs.get(env_id)
            apps = [str(a) for a in data.get("applications") or []]
            if known is None:
                self.envs[env_id] = Environment(env_id, str(data["api_key"]), apps)
                changed = True
            else:
                if known.api_key != data["api_key"]:
                    known.api_key, changed = str(data["api_key"]), True
                for uid in apps:
                    if uid not in known.apps:
                        known.apps.append(uid)
                        changed = True
            for uid in apps:
                if (env_id, uid) not in self.apps:
                    self.apps[(env_id, uid)] = Application(env_id, uid, uid)
                    changed = True
        return changed

    def set_application(self, env: str, data: Mapping[str, Any]) -> None:
        """Take an API ``Application`` record."""
        uid = str(data["uid"])
        app = self.apps.setdefault((env, uid), Application(env, uid))
        app.name = str(data.get("name") or uid)
        app.rate_limit = data.get("rate_limit")
        environment = self.envs.setdefault(env, Environment(env, None))
        if uid not in environment.apps:
            environment.apps.append(uid)

    def set_endpoint(self, env: str, app: str, data: Mapping[str, Any]) -> EndpointInfo:
        """Take an API ``Endpoint`` record."""
        key = (env, app, str(data["uid"]))
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            endpoint = self.endpoints[key] = EndpointInfo(env, app, key[2])
        endpoint.update_from_wire(data)
        return endpoint

    def add_snapshot_events(self, env: str, app: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Insert listed events before the ones the stream brought; returns how many were new."""
        fresh: list[EventInfo] = []
        for data in records:
            key = (env, app, str(data["uid"]))
            if key in self.by_key:
                continue
            fresh.append(EventInfo.from_wire(env, app, data))
        if not fresh:
            return 0
        # Orders of snapshot events sort before every live event's; they count up from a
        # large negative base, so batches keep their listing order.
        base = -(10**12) + self._base_events
        for offset, event in enumerate(fresh):
            event.order = base + offset
            self._index(event)
        self.events[self._base_events : self._base_events] = fresh
        self._base_events += len(fresh)
        shown = [e for e in fresh if self.filter.matches(e)]
        self.visible[self._base_visible : self._base_visible] = shown
        self._base_visible += len(shown)
        return len(fresh)

    def finish_snapshot(self) -> None:
        """Order the listed events by creation time (applications were listed side by side)."""
        self.generation += 1
        base = self.events[: self._base_events]
        base.sort(key=lambda e: e.created_at)  # stable: listing order within a second
        start = -(10**12)
        for offset, event in enumerate(base):
            event.order = start + offset
        self.events[: self._base_events] = base
        self.set_filter(self.filter)

    def add_snapshot_attempts(
        self, env: str, app: str, records: Iterable[Mapping[str, Any]]
    ) -> Applied:
        """Take listed attempts (any order, any age: merging keeps the newest state)."""
        applied = Applied()
        for data in records:
            self._take_attempt(AttemptInfo.from_wire(env, app, data), applied)
        return applied

    # ------------------------------------------------------------------ live changes
    def add_event(self, env: str, app: str, data: Mapping[str, Any]) -> EventInfo | None:
        """Append a new event (from the stream); None when it was known already."""
        key = (env, app, str(data["uid"]))
        if key in self.by_key:
            return None
        event = EventInfo.from_wire(env, app, data)
        self._order += 1
        event.order = self._order
        self._index(event)
        self.events.append(event)
        if self.filter.matches(event):
            self.visible.append(event)
        return event

    def apply(self, changes: Iterable[Mapping[str, Any]]) -> Applied:
        """Apply stream changes (``Change`` dicts) in order."""
        applied = Applied()
        for change in changes:
            self._apply_one(change, applied)
        return applied

    def _apply_one(self, change: Mapping[str, Any], applied: Applied) -> None:
        kind, action, env = change["kind"], change["action"], str(change["env"])
        data: dict[str, Any] = change["data"]
        if env not in self.envs or self.envs[env].api_key is None:
            applied.unknown_envs.add(env)
        if kind == "application":
            self._apply_application(env, action, data, applied)
        elif kind == "endpoint":
            self._apply_endpoint(env, action, data, applied)
        elif kind == "event" and action == "created":
            apps = self.envs[env].apps if env in self.envs else []
            if len(apps) == 1:
                event = self.add_event(env, apps[0], data)
                if event is not None:
                    applied.events_added += 1
                    self._adopt_orphans(event, applied)
            else:
                applied.unresolved_events.append((env, data))
        elif kind == "attempt":
            if action == "updated" and int(data.get("status") or 0) in (SUCCESS, FAIL):
                applied.deliveries += 1
            attempt = self._attempt_from_change(env, data)
            if attempt is None:
                orphan = AttemptInfo.from_wire(env, "", data)
                self._orphans.setdefault((env, orphan.event_uid), []).append(orphan)
                return
            self._take_attempt(attempt, applied)

    def _apply_application(
        self, env: str, action: str, data: dict[str, Any], applied: Applied
    ) -> None:
        uid = str(data["uid"])
        applied.tree_changed = True
        if action == "deleted":
            self._drop_application(env, uid)
            return
        if action == "updated" and (env, uid) not in self.apps:
            applied.resync = True  # a rename: the old uid is not in the change
            return
        self.set_application(env, data)

    def _apply_endpoint(
        self, env: str, action: str, data: dict[str, Any], applied: Applied
    ) -> None:
        uid = str(data["uid"])
        apps = self.envs[env].apps if env in self.envs else []
        applied.tree_changed = True
        if len(apps) != 1:
            applied.endpoints_to_reload.add(env)  # which application: the change does not say
            return
        app = apps[0]
        if action == "deleted":
            self.endpoints.pop((env, app, uid), None)
            return
        if action == "updated" and (env, app, uid) not in self.endpoints:
            applied.resync = True  # renamed
            return
        self.set_endpoint(env, app, data)

    def _attempt_from_change(self, env: str, data: Mapping[str, Any]) -> AttemptInfo | None:
        candidates = self._by_env_uid.get((env, str(data["event_id"])), [])
        if len(candidates) > 1:
            endpoint = str(data["endpoint_id"])
            candidates = [c for c in candidates if (env, c.app, endpoint) in self.endpoints]
        if len(candidates) != 1:
            return None
        return AttemptInfo.from_wire(env, candidates[0].app, data)

    def _take_attempt(self, attempt: AttemptInfo, applied: Applied) -> None:
        event = self.by_key.get((attempt.env, attempt.app, attempt.event_uid))
        if event is None:
            self._orphans.setdefault((attempt.env, attempt.event_uid), []).append(attempt)
            return
        known = event.attempts.get(attempt.id)
        if known is None:
            event.attempts[attempt.id] = attempt
            self.attempt_total += 1
            changed = True
        else:
            changed = known.merge(attempt)
            attempt = known
        if attempt.finished:
            endpoint = self.endpoints.get((attempt.env, attempt.app, attempt.endpoint_uid))
            if endpoint is not None:
                at = attempt.attempted_at or attempt.scheduled_at or 0.0
                endpoint.record(attempt.id, attempt.status == SUCCESS, at)
                applied.tree_changed = True
        if changed:
            event.attempts_changed()
            if event.status() == "failed":
                self.failing.add(event.key)
            else:
                self.failing.discard(event.key)
            applied.events_changed.add(event.key)
            self._refilter_one(event)

    def _adopt_orphans(self, event: EventInfo, applied: Applied) -> None:
        waiting = self._orphans.pop((event.env, event.uid), [])
        for orphan in waiting:
            if orphan.app and orphan.app != event.app:
                self._orphans.setdefault((event.env, event.uid), []).append(orphan)
                continue
            orphan.app = event.app
            self._take_attempt(orphan, applied)

    def resolve_event(self, env: str, app: str, data: Mapping[str, Any]) -> EventInfo | None:
        """Add an event whose application was looked up (the stream does not name it)."""
        event = self.add_event(env, app, data)
        if event is not None:
            self._adopt_orphans(event, Applied())
        return event

    # ------------------------------------------------------------------ filtering
    def set_filter(self, new: EventFilter) -> None:
        """Change the filter and recompute the visible list."""
        self.filter = new
        self.visible = [e for e in self.events if new.matches(e)]
        self._base_visible = sum(1 for e in self.events[: self._base_events] if new.matches(e))

    def _refilter_one(self, event: EventInfo) -> None:
        """Keep the visible list right after an event's status changed."""
        if not self.filter.status and self.filter.scope.endpoint is None:
            return  # only the status and endpoint criteria depend on attempts
        position = bisect.bisect_left(self.visible, event.order, key=lambda e: e.order)
        present = position < len(self.visible) and self.visible[position] is event
        wanted = self.filter.matches(event)
        if present and not wanted:
            del self.visible[position]
            if event.order < 0:
                self._base_visible -= 1
        elif wanted and not present:
            self.visible.insert(position, event)
            if event.order < 0:
                self._base_visible += 1

    # ------------------------------------------------------------------ internals
    def _index(self, event: EventInfo) -> None:
        self.by_key[event.key] = event
        self._by_env_uid.setdefault((event.env, event.uid), []).append(event)

    def _drop_application(self, env: str, uid: str) -> None:
        self.apps.pop((env, uid), None)
        if env in self.envs and uid in self.envs[env].apps:
            self.envs[env].apps.remove(uid)
        for key in [k for k in self.endpoints if k[0] == env and k[1] == uid]:
            del self.endpoints[key]
        if not any(e.env == env and e.app == uid for e in self.events):
            return
        self.events = [e for e in self.events if not (e.env == env and e.app == uid)]
        self._base_events = sum(1 for e in self.events if e.order < 0)
        for key in [k for k in self.by_key if k[0] == env and k[1] == uid]:
            event = self.by_key.pop(key)
            self.attempt_total -= len(event.attempts)
            self.failing.discard(key)
            siblings = self._by_env_uid.get((env, event.uid), [])
            if event in siblings:
                siblings.remove(event)
        self.set_filter(self.filter)

    def iter_events(self, env: str, app: str) -> Iterator[EventInfo]:
        """The events of one application, oldest first."""
        return (e for e in self.events if e.env == env and e.app == app)
