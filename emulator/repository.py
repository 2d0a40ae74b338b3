"""The only owner of stored state: in-memory records and indexes over segmented TinyDB files.

Reads never touch the disk. A change updates memory at once and marks its segment dirty;
``commit()`` waits until a background flush has made it durable. Flushes run one at a time and
take every change made while the previous one was writing (group commit), so many concurrent
requests share one fsync.

All methods must be called from the event loop's thread; only the file writes leave it.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import hashlib
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from emulator.bus import ChangeBus
from emulator.models import Application, Attempt, Doc, Endpoint, Environment, Event
from emulator.storage import SEGMENT_SIZE, Journal, SegmentedDirectory, journal_lines


class Record(Protocol):
    key: str
    seq: int


R = TypeVar("R", bound=Record)


@dataclass
class Collection(Generic[R]):
    """One kind of record: all of them by key, and grouped by the segment file they live in.

    A flush serializes the records themselves (orjson writes dataclasses natively, holding the
    GIL, so it sees each record whole): no per-change copy, no second object per record.
    """

    name: str
    from_doc: Callable[[Doc], R]
    by_key: dict[str, R] = field(default_factory=dict)
    segments: dict[int, dict[int, R]] = field(default_factory=lambda: defaultdict(dict))
    # Segments a checkpoint must rewrite.
    dirty: set[int] = field(default_factory=set)
    # Records (None: deleted) changed since the last journal append, by seq.
    changed: dict[int, R | None] = field(default_factory=dict)
    next_seq: int = 1
    directory: SegmentedDirectory | None = None
    # Counts changes, so a commit knows whether a flush already covers it.
    version: int = 0

    def take_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def put(self, record: R) -> None:
        self.by_key[record.key] = record
        self.touch(record)

    def touch(self, record: R) -> None:
        segment = record.seq // SEGMENT_SIZE
        self.segments[segment][record.seq] = record
        if self.directory is not None:
            self.dirty.add(segment)
            self.changed[record.seq] = record
            self.version += 1

    def drop(self, record: R) -> None:
        self.by_key.pop(record.key, None)
        segment = record.seq // SEGMENT_SIZE
        self.segments[segment].pop(record.seq, None)
        if self.directory is not None:
            self.dirty.add(segment)
            self.changed[record.seq] = None
            self.version += 1

    def take_changes(self) -> list[tuple[str, int, R | None]]:
        changes = [(self.name, seq, record) for seq, record in self.changed.items()]
        self.changed.clear()
        return changes

    def replay(self, seq: int, doc: Doc | None) -> None:
        """Apply one journal entry over what the segment files held."""
        segment = seq // SEGMENT_SIZE
        old = self.segments[segment].pop(seq, None)
        if old is not None:
            self.by_key.pop(old.key, None)
        if doc is not None:
            record = self.from_doc(doc)
            self.by_key[record.key] = record
            self.segments[segment][seq] = record
            self.next_seq = max(self.next_seq, seq + 1)
        self.dirty.add(segment)  # the next checkpoint writes it, then drops the journal

    def take_dirty(self) -> list[tuple[int, dict[int, R]]]:
        jobs = [(segment, dict(self.segments.get(segment, {}))) for segment in sorted(self.dirty)]
        self.dirty.clear()
        return jobs


# A commit appends to the journal; a checkpoint folds it into the segment files when it has
# grown past this, or when nothing was written for a while.
CHECKPOINT_BYTES = 4 * 1024 * 1024
CHECKPOINT_IDLE_SECONDS = 2.0
SWITCH_INTERVAL = 0.0005


def seq_of(record: Record) -> int:
    return record.seq


def insert_sorted(items: list[R], record: R) -> None:
    """Insert keeping seq order (appending is the common case)."""
    if not items or items[-1].seq < record.seq:
        items.append(record)
    else:
        bisect.insort(items, record, key=seq_of)


def remove_sorted(items: list[R], record: R) -> None:
    index = bisect.bisect_left(items, record.seq, key=seq_of)
    if index < len(items) and items[index].key == record.key:
        del items[index]


def environment_key(api_key: str) -> str:
    """A stable id for an API key that does not reveal it."""
    return "env_" + hashlib.sha256(api_key.encode()).hexdigest()[:20]


class StorageFailed(Exception):
    """A flush could not write its files."""


class Repository:
    """Records, indexes, and durable group-committed storage."""

    def __init__(self, data_dir: Path | None, *, durable: bool = True) -> None:
        self.data_dir = data_dir
        self.durable = durable
        self.bus = ChangeBus()
        self.environments: Collection[Environment] = Collection(
            "environments", Environment.from_doc
        )
        self.applications: Collection[Application] = Collection(
            "applications", Application.from_doc
        )
        self.endpoints: Collection[Endpoint] = Collection("endpoints", Endpoint.from_doc)
        self.events: Collection[Event] = Collection("events", Event.from_doc)
        self.attempts: Collection[Attempt] = Collection("attempts", Attempt.from_doc)
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
        # Group commit.
        # (version the waiter needs on disk, its future)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._durable_version = 0
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.journal: Journal | None = None
        if data_dir is not None:
            for collection in self._collections():
                collection.directory = SegmentedDirectory(data_dir / collection.name, durable)
            self.journal = Journal(data_dir, durable)
            self._load()

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
            for doc in collection.directory.load():
                record = collection.from_doc(doc)
                collection.by_key[record.key] = record
                collection.segments[record.seq // SEGMENT_SIZE][record.seq] = record
                collection.next_seq = max(collection.next_seq, record.seq + 1)
        assert self.journal is not None
        by_name = {c.name: c for c in self._collections()}
        for name, seq, entry in self.journal.replay():
            by_name[name].replay(seq, entry)
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
        for event in sorted(self.events.by_key.values(), key=seq_of):
            if event.app not in self.applications.by_key:
                self.events.drop(event)
                continue
            self._index_event(event)
        for attempt in sorted(self.attempts.by_key.values(), key=seq_of):
            # A crash between the files of one flush can leave an attempt without its parents.
            if (
                attempt.event not in self.events.by_key
                or attempt.endpoint not in self.endpoints.by_key
            ):
                self.attempts.drop(attempt)
                continue
            self._index_attempt(attempt)

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
    def start(self) -> None:
        """Start the background flusher (inside a running event loop)."""
        if self.data_dir is None or self._flusher is not None:
            return
        # The writer thread must win the GIL back from a busy event loop after each fsync;
        # at the default 5 ms switch interval every commit waited for it (measured: durable
        # publishing at half the in-memory rate although an fsync here takes 0.3 ms).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._wake = asyncio.Event()
        self._stopping = False
        self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    async def commit(self) -> None:
        """Wait until every change made so far is on disk (including changes that a flush
        already in progress is writing)."""
        if self.data_dir is None:
            return
        target = self._version()
        if self._durable_version >= target:
            return
        if self._flusher is None:
            self.flush_now()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        assert self._wake is not None
        self._wake.set()
        await waiter

    def _version(self) -> int:
        return sum(c.version for c in self._collections())

    def _has_changes(self) -> bool:
        return any(c.changed for c in self._collections())

    def _take_changes(self) -> list[tuple[str, int, Any]]:
        # Parents before children: a torn journal end loses children first, and loading
        # drops orphans.
        return [change for c in self._collections() for change in c.take_changes()]

    def _put_back(self, changes: list[tuple[str, int, Any]]) -> None:
        """Changes whose append failed go into the next one (as their records are now)."""
        by_name = {c.name: c for c in self._collections()}
        for name, seq, _ in changes:
            collection = by_name[name]
            current = collection.segments.get(seq // SEGMENT_SIZE, {}).get(seq)
            collection.changed.setdefault(seq, current)

    def _take_jobs(self) -> list[tuple[Collection[Any], int, dict[int, Any]]]:
        return [
            (collection, segment, docs)
            for collection in self._collections()
            for segment, docs in collection.take_dirty()
        ]

    @staticmethod
    def _write_jobs(jobs: list[tuple[Collection[Any], int, dict[int, Any]]]) -> None:
        touched: dict[Path, SegmentedDirectory] = {}
        for collection, segment, docs in jobs:
            directory = collection.directory
            assert directory is not None
            directory.write_segment(segment, docs)
            touched[directory.path] = directory
        for directory in touched.values():
            directory.sync()

    def _checkpoint_jobs(self) -> tuple[list[Any], list[Path]]:
        """Start a checkpoint: a fresh journal file, and the segments to rewrite."""
        assert self.journal is not None
        return self._take_jobs(), self.journal.rotate()

    def _finish_checkpoint(self, jobs: list[Any], covered: list[Path]) -> None:
        """Rewrite the segments, then drop the journal files they now cover."""
        self._write_jobs(jobs)
        for file in covered:
            file.unlink(missing_ok=True)

    def flush_now(self) -> None:
        """Journal every change synchronously (no event loop needed)."""
        if self.data_dir is None:
            return
        self._journal_now()
        assert self.journal is not None
        if self.journal.size > CHECKPOINT_BYTES:
            self._finish_checkpoint(*self._checkpoint_jobs())

    def checkpoint_now(self) -> None:
        """Rewrite every changed segment and drop the journal (a clean shutdown)."""
        if self.data_dir is None:
            return
        self._journal_now()
        self._finish_checkpoint(*self._checkpoint_jobs())

    def _journal_now(self) -> None:
        version = self._version()
        changes = self._take_changes()
        if changes:
            assert self.journal is not None
            self.journal.append(journal_lines(changes))
        self._durable_version = version

    async def _checkpoint(self) -> None:
        jobs, covered = self._checkpoint_jobs()
        try:
            await asyncio.to_thread(self._finish_checkpoint, jobs, covered)
        except Exception:  # the journal still holds everything; try again later
            for collection, segment, _ in jobs:
                collection.dirty.add(segment)

    async def _flush_loop(self) -> None:
        assert self._wake is not None and self.journal is not None
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), CHECKPOINT_IDLE_SECONDS)
            except asyncio.TimeoutError:
                # Quiet for a while: fold the journal into the segment files.
                if self.journal.size:
                    await self._checkpoint()
                continue
            self._wake.clear()
            version = self._version()
            changes = self._take_changes()
            try:
                if changes:
                    # Encoded here: the writer thread then needs the GIL only briefly.
                    await asyncio.to_thread(self.journal.append, journal_lines(changes))
            except Exception as exc:  # disk full, permissions: fail the requests, keep serving
                self._put_back(changes)
                waiters, self._waiters = self._waiters, []
                for _, waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(StorageFailed(str(exc)))
                continue
            self._durable_version = max(self._durable_version, version)
            pending = []
            for target, waiter in self._waiters:
                if target > version:
                    pending.append((target, waiter))
                elif not waiter.done():
                    waiter.set_result(None)
            self._waiters = pending
            if pending:
                self._wake.set()
            if self.journal.size > CHECKPOINT_BYTES:
                await self._checkpoint()

    def mark_dirty_soon(self) -> None:
        """Ask for a flush without waiting for it (background changes such as attempt results)."""
        if self._wake is not None and self._has_changes():
            self._wake.set()

    async def close(self) -> None:
        """Flush what is left, stop the flusher, fold the journal into the segments."""
        if self._flusher is not None:
            await self.commit()
            # Not cancelled: a write it started in a thread would go on beside the final
            # checkpoint. It finishes what it is doing and returns.
            self._stopping = True
            assert self._wake is not None
            self._wake.set()
            await self._flusher
            self._flusher = None
        self.checkpoint_now()
        for _, waiter in self._waiters:  # made durable by the checkpoint just now
            if not waiter.done():
                waiter.set_result(None)
        self._waiters = []
        if self.journal is not None:
            self.journal.close()


__all__ = ["Repository", "StorageFailed", "environment_key"]
