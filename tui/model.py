"""The dashboard's store: every record it knows, and the filtered view of the event list.

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
from dataclasses import dataclass, field
from typing import Any

from tui.filters import EventFilter
from tui.records import (
    FAIL,
    SUCCESS,
    AppKey,
    Application,
    AttemptInfo,
    EndpointInfo,
    EndpointKey,
    Environment,
    EventInfo,
    EventKey,
)


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
        strategy = data.get("retry_strategy")
        app.retry_strategy = dict(strategy) if isinstance(strategy, Mapping) else None
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
