"""The only owner of stored state: in-memory records and their indexes.

Reads never touch the disk. A change updates memory at once and marks its records changed;
``commit()`` waits until ``durability`` has made it durable (group commit to a journal). A
change the disk refuses is undone by reloading the records from the files.

All methods must be called from the event loop's thread; only the file writes leave it.
"""

from __future__ import annotations

import gc
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from emulator.bus import ChangeBus
from emulator.collection import Collection, Record, insert_sorted, remove_sorted, seq_of
from emulator.datadir import DataDirError
from emulator.durability import Durability
from emulator.models import Application, Attempt, Endpoint, Environment, Event
from emulator.storage import Journal, SegmentDecoder, SegmentedDirectory

GC_THRESHOLDS = (10_000, 50, 100)


def environment_key(api_key: str) -> str:
    """A stable id for an API key that does not reveal it."""
    return "env_" + hashlib.sha256(api_key.encode()).hexdigest()[:20]


class Repository:
    """Records, indexes, and durable group-committed storage."""

    def __init__(self, data_dir: Path | None, *, durable: bool = True) -> None:
        self.data_dir = data_dir
        self.durable = durable
        self.bus = ChangeBus()
        self._init_records()
        self._reload_listeners: list[Callable[[], None]] = []
        self.durability: Durability | None = None
        if data_dir is not None:
            try:
                for collection in self._collections():
                    collection.directory = SegmentedDirectory(data_dir / collection.name, durable)
                journal = Journal(data_dir, durable)
                self._journal = journal
                self._load()
            except OSError as error:
                raise DataDirError.from_os_error(error, data_dir) from None
            self.durability = Durability(data_dir, journal, self._collections, self._reload)

    def _init_records(self) -> None:
        """Empty collections and indexes (their directories are set by the caller)."""
        self.environments: Collection[Environment] = Collection(
            "environments", Environment.from_doc
        )
        self.applications: Collection[Application] = Collection(
            "applications", Application.from_doc
        )
        self.endpoints: Collection[Endpoint] = Collection("endpoints", Endpoint.from_doc)
        self.events: Collection[Event] = Collection("events", Event.from_doc, SegmentDecoder(Event))
        self.attempts: Collection[Attempt] = Collection(
            "attempts", Attempt.from_doc, SegmentDecoder(Attempt)
        )
        # Indexes.
        self.env_by_api_key: dict[str, Environment] = {}
        self.apps_of_env: dict[str, list[Application]] = defaultdict(list)
        self.app_by_uid: dict[tuple[str, str], Application] = {}
        self.endpoints_of_app: dict[str, list[Endpoint]] = defaultdict(list)
        self.endpoint_by_uid: dict[tuple[str, str], Endpoint] = {}
        self.events_of_app: dict[str, list[Event]] = defaultdict(list)
        self.event_by_uid: dict[tuple[str, str], Event] = {}
        self.events_of_endpoint: dict[str, list[Event]] = defaultdict(list)
        self.attempts_of_endpoint: dict[str, list[Attempt]] = defaultdict(list)
        self.attempts_of_event: dict[str, list[Attempt]] = defaultdict(list)

    def _collections(self) -> tuple[Collection[Any], ...]:
        return (self.environments, self.applications, self.endpoints, self.events, self.attempts)

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        # Loading makes hundreds of thousands of long-lived objects: collecting while doing so
        # is wasted work, and freezing them afterwards keeps later full collections (which
        # took 0.4-0.7 s with 100,000 events) from walking them again.
        gc.disable()
        try:
            self._load_records()
        finally:
            gc.enable()
            gc.freeze()

    def _load_records(self) -> None:
        for collection in self._collections():
            assert collection.directory is not None
            records_by_file = collection.directory.load_records(
                collection.from_doc, collection.decode
            )
            for records in records_by_file:
                collection.add_loaded(records)
        by_name = {c.name: c for c in self._collections()}
        for name, seq, entry, where in self._journal.replay(by_name):
            by_name[name].replay(seq, entry, where)
        # Each collection is indexed in seq order: the files hold its records in that order,
        # so each sort only checks it, and every index list gets them appended in order.
        for env in sorted(self.environments.by_key.values(), key=seq_of):
            self.env_by_api_key[env.api_key] = env
        for app in sorted(self.applications.by_key.values(), key=seq_of):
            if app.env not in self.environments.by_key:
                self.applications.drop(app)
                continue
            self._index_application(app)
        for endpoint in sorted(self.endpoints.by_key.values(), key=seq_of):
            if endpoint.app not in self.applications.by_key:
                self.endpoints.drop(endpoint)
                continue
            self._index_endpoint(endpoint)
        self._index_loaded_events()
        self._index_loaded_attempts()

    def _index_loaded_events(self) -> None:
        # What ``_index_event`` does, for hundreds of thousands of events in seq order: one
        # loop on local names that appends, instead of three calls per event.
        applications = self.applications.by_key
        endpoints = self.endpoints.by_key
        events_of_app = self.events_of_app
        event_by_uid = self.event_by_uid
        events_of_endpoint = self.events_of_endpoint
        for event in sorted(self.events.by_key.values(), key=seq_of):
            if event.app not in applications:
                self.events.drop(event)
                continue
            events_of_app[event.app].append(event)
            event_by_uid[(event.app, event.uid)] = event
            for endpoint_key in event.endpoints:
                if endpoint_key in endpoints:
                    events_of_endpoint[endpoint_key].append(event)

    def _index_loaded_attempts(self) -> None:
        # What ``_index_attempt`` does, as ``_index_loaded_events`` does it.
        events = self.events.by_key
        endpoints = self.endpoints.by_key
        attempts_of_endpoint = self.attempts_of_endpoint
        attempts_of_event = self.attempts_of_event
        for attempt in sorted(self.attempts.by_key.values(), key=seq_of):
            # A crash between the files of one flush can leave an attempt without its parents.
            if attempt.event not in events or attempt.endpoint not in endpoints:
                self.attempts.drop(attempt)
                continue
            attempts_of_endpoint[attempt.endpoint].append(attempt)
            attempts_of_event[attempt.event].append(attempt)

    # ------------------------------------------------------------------ environments
    def find_environment(self, api_key: str) -> Environment | None:
        return self.env_by_api_key.get(api_key)

    def ensure_environment(self, api_key: str, now: float) -> Environment:
        env = self.env_by_api_key.get(api_key)
        if env is None:
            env = Environment(
                key=environment_key(api_key),
                api_key=api_key,
                seq=self.environments.take_seq(),
                created_at=now,
            )
            self.environments.put(env)
            self.env_by_api_key[api_key] = env
        return env

    # ------------------------------------------------------------------ applications
    def _index_application(self, app: Application) -> None:
        insert_sorted(self.apps_of_env[app.env], app)
        self.app_by_uid[(app.env, app.uid)] = app

    def add_application(self, app: Application) -> None:
        self.applications.put(app)
        self._index_application(app)
        self._emit("application", "created", app.env, app)

    def save_application(self, app: Application, old_uid: str | None = None) -> None:
        if old_uid is not None and old_uid != app.uid:
            self.app_by_uid.pop((app.env, old_uid), None)
            self.app_by_uid[(app.env, app.uid)] = app
        self.applications.touch(app)
        self._emit("application", "updated", app.env, app)

    def delete_application(self, app: Application) -> None:
        for endpoint in list(self.endpoints_of_app.get(app.key, ())):
            self.delete_endpoint(endpoint, emit=False)
        for event in self.events_of_app.pop(app.key, []):
            self.events.drop(event)
            self.event_by_uid.pop((app.key, event.uid), None)
            for attempt in self.attempts_of_event.pop(event.key, []):
                self.attempts.drop(attempt)
        self.endpoints_of_app.pop(app.key, None)
        remove_sorted(self.apps_of_env[app.env], app)
        self.app_by_uid.pop((app.env, app.uid), None)
        self.applications.drop(app)
        self._emit("application", "deleted", app.env, app)

    # ------------------------------------------------------------------ endpoints
    def _index_endpoint(self, endpoint: Endpoint) -> None:
        insert_sorted(self.endpoints_of_app[endpoint.app], endpoint)
        self.endpoint_by_uid[(endpoint.app, endpoint.uid)] = endpoint

    def add_endpoint(self, endpoint: Endpoint) -> None:
        self.endpoints.put(endpoint)
        self._index_endpoint(endpoint)
        self._emit("endpoint", "created", endpoint.env, endpoint)

    def save_endpoint(self, endpoint: Endpoint, old_uid: str | None = None) -> None:
        if old_uid is not None and old_uid != endpoint.uid:
            self.endpoint_by_uid.pop((endpoint.app, old_uid), None)
            self.endpoint_by_uid[(endpoint.app, endpoint.uid)] = endpoint
            for attempt in self.attempts_of_endpoint.get(endpoint.key, ()):
                attempt.endpoint_uid = endpoint.uid
                self.attempts.touch(attempt)
        self.endpoints.touch(endpoint)
        self._emit("endpoint", "updated", endpoint.env, endpoint)

    def delete_endpoint(self, endpoint: Endpoint, *, emit: bool = True) -> None:
        for attempt in self.attempts_of_endpoint.pop(endpoint.key, []):
            self.attempts.drop(attempt)
            siblings = self.attempts_of_event.get(attempt.event)
            if siblings is not None:
                remove_sorted(siblings, attempt)
        self.events_of_endpoint.pop(endpoint.key, None)
        remove_sorted(self.endpoints_of_app[endpoint.app], endpoint)
        self.endpoint_by_uid.pop((endpoint.app, endpoint.uid), None)
        self.endpoints.drop(endpoint)
        if emit:
            self._emit("endpoint", "deleted", endpoint.env, endpoint)

    # ------------------------------------------------------------------ events
    def _index_event(self, event: Event) -> None:
        insert_sorted(self.events_of_app[event.app], event)
        self.event_by_uid[(event.app, event.uid)] = event
        for endpoint_key in event.endpoints:
            if endpoint_key in self.endpoints.by_key:
                insert_sorted(self.events_of_endpoint[endpoint_key], event)

    def add_event(self, event: Event) -> None:
        self.events.put(event)
        self._index_event(event)
        self._emit("event", "created", event.env, event)

    def route_event_to(self, event: Event, endpoint: Endpoint) -> None:
        """Record that ``event`` goes to ``endpoint`` too (a manual retry to a new endpoint)."""
        if endpoint.key not in event.endpoints:
            event.endpoints.append(endpoint.key)
            self.events.touch(event)
            insert_sorted(self.events_of_endpoint[endpoint.key], event)

    # ------------------------------------------------------------------ attempts
    def _index_attempt(self, attempt: Attempt) -> None:
        insert_sorted(self.attempts_of_endpoint[attempt.endpoint], attempt)
        insert_sorted(self.attempts_of_event[attempt.event], attempt)

    def add_attempt(self, attempt: Attempt) -> None:
        self.attempts.put(attempt)
        self._index_attempt(attempt)
        self._emit("attempt", "created", attempt.env, attempt)

    def save_attempt(self, attempt: Attempt) -> None:
        self.attempts.touch(attempt)
        self._emit("attempt", "updated", attempt.env, attempt)

    def attempt_started(self, attempt: Attempt) -> None:
        """Announce a try in flight without writing it: after a crash a try that was in flight
        is pending again (its stored form), which is what a restart must redo anyway."""
        self._emit("attempt", "updated", attempt.env, attempt)

    def latest_attempt(self, event_key: str, endpoint_key: str) -> Attempt | None:
        for attempt in reversed(self.attempts_of_event.get(event_key, ())):
            if attempt.endpoint == endpoint_key:
                return attempt
        return None

    def pending_attempts(self) -> Iterable[Attempt]:
        """Attempts not yet finished (pending, or in flight when the process stopped)."""
        return (a for a in self.attempts.by_key.values() if a.status in (1, 2))

    # ------------------------------------------------------------------ reset
    def reset(self, env: Environment | None = None) -> None:
        """Delete one environment's data, or everything."""
        targets = [env] if env is not None else list(self.environments.by_key.values())
        for target in targets:
            for app in list(self.apps_of_env.get(target.key, ())):
                self.delete_application(app)
            self.apps_of_env.pop(target.key, None)
            self.env_by_api_key.pop(target.api_key, None)
            self.environments.drop(target)

    # ------------------------------------------------------------------ change feed
    def _emit(self, kind: str, action: str, env: str, record: Any) -> None:
        if self.bus.has_subscribers:
            data = record.to_detail() if hasattr(record, "to_detail") else record.to_wire()
            if kind == "application":
                data["app_id"] = record.uid
            else:
                app = self.applications.by_key.get(record.app)
                # Which application it belongs to: watchers need it, the wire form omits it.
                data["app_id"] = app.uid if app is not None else None
            self.bus.publish(kind, action, env, data)

    # ------------------------------------------------------------------ durability
    @property
    def available(self) -> bool:
        """False while the disk refuses writes (each write then answers 503)."""
        return self.durability is None or self.durability.available

    def on_reload(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after the records were reloaded from disk (refused changes
        undone): the delivery engine plans again from what is stored, as after a restart."""
        self._reload_listeners.append(listener)

    def on_available(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when the disk takes writes again after refusing one."""
        if self.durability is not None:
            self.durability.on_available(listener)

    def _reload(self) -> None:
        directories = [c.directory for c in self._collections()]
        self._init_records()
        for collection, directory in zip(self._collections(), directories, strict=True):
            collection.directory = directory
        gc.unfreeze()
        self._load()
        for listener in list(self._reload_listeners):
            listener()

    def start(self) -> None:
        """Start the background flusher (inside a running event loop)."""
        # Every stored record is long-lived: the collector's default of a young collection
        # every 700 allocations, and an old one every 10 of those, walked them over and over
        # (measured, wrk c=32 on --in-memory: publish p99 39-53 ms, 17-22 ms with these).
        gc.set_threshold(*GC_THRESHOLDS)
        if self.durability is not None:
            self.durability.start()

    async def commit(self) -> None:
        """Wait until every change made so far is on disk; ``StorageUnavailable`` (503) when
        the disk refused it, and then nothing of it stays."""
        if self.durability is not None:
            await self.durability.commit()

    def mark_dirty_soon(self) -> None:
        """Ask for a flush without waiting for it (background changes such as attempt results)."""
        if self.durability is not None:
            self.durability.mark_dirty_soon()

    def flush_now(self) -> None:
        """Journal every change synchronously (no event loop needed)."""
        if self.durability is not None:
            self.durability.flush_now()

    def checkpoint_now(self) -> None:
        """Rewrite every changed segment and drop the journal (a clean shutdown)."""
        if self.durability is not None:
            self.durability.checkpoint_now()

    async def close(self) -> None:
        """Flush what is left, stop the flusher, fold the journal into the segments."""
        if self.durability is not None:
            await self.durability.close()


__all__ = ["Record", "Repository", "environment_key"]
