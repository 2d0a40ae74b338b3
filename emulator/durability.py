"""Making changes durable: group commit to the journal, checkpoints into the segment files, and
what happens when the disk refuses a write.

``commit()`` waits until a background flush has appended every change made so far to the
journal and fsynced it. Flushes run one at a time and take every change made while the
previous one was writing (group commit), so many concurrent requests share one fsync. Now and
then a checkpoint rewrites the changed segment files and deletes the journal files they cover.

A change the disk does not take (full, read-only, I/O error) is not kept in memory either:
every waiting commit fails with ``StorageUnavailable`` (a 503), the records are reloaded from
what the disk holds, and writes resume as soon as the disk takes them again. Memory never shows
what a restart would not.

All methods must be called from the event loop's thread; checkpoints, and appends on a slow
disk, leave it.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.collection import Collection
from emulator.datadir import reason
from emulator.errors import StorageUnavailable
from emulator.storage import Journal, SegmentedDirectory, ensure_writable, journal_lines
from emulator.timeouts import deadline

# A commit appends to the journal; a checkpoint folds it into the segment files when it has
# grown past this, or when nothing was written for a while.
CHECKPOINT_BYTES = 4 * 1024 * 1024
CHECKPOINT_IDLE_SECONDS = 2.0
SWITCH_INTERVAL = 0.0001
# Loop passes a flush waits at most for requests being handled right now to join its group.
GATHER_PASSES = 8
# While the disk refuses writes, how often the flusher checks whether it takes them again.
PROBE_SECONDS = 1.0
# Appends that take less than this (on average) run on the loop's thread; slower ones in the
# journal writer's. See ``Durability._append``.
INLINE_APPEND_SECONDS = 0.001
# Weight of the latest append in that average.
APPEND_AVERAGE_WEIGHT = 0.2

# Shown with uvicorn's own lines (and silenced with them, under the dashboard).
log = logging.getLogger("uvicorn.error")

Jobs = list[tuple[Collection[Any], int, bytes | None]]
_version_of: Callable[[Collection[Any]], int] = operator.attrgetter("version")


def refusal(error: Exception, path: Path) -> str:
    """``storage unavailable: disk full (No space left on device) writing <path>``."""
    if isinstance(error, OSError):
        return f"storage unavailable: {reason(error)} writing {error.filename or path}"
    return f"storage unavailable: {type(error).__name__}: {error}"


class JournalWriter:
    """A thread that only appends to the journal (write and fsync), one payload at a time,
    and wakes the event loop when it is done.

    Rather than ``asyncio.to_thread`` per flush: no executor work item, future chaining or
    context copy per flush, and a steadier append (measured at light load, append + fsync
    p50/p99: 0.85/2.17 ms through to_thread, 0.76/1.05 ms on this thread)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._ready = threading.Condition()
        self._job: tuple[bytes, asyncio.AbstractEventLoop, asyncio.Future[float]] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    async def append(self, payload: bytes) -> float:
        """Append and sync ``payload``; the seconds the write and sync took."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[float] = loop.create_future()
        with self._ready:
            self._job = (payload, loop, done)
            self._ready.notify()
        return await done

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._ready:
                while self._job is None and not self._closed:
                    self._ready.wait()
                if self._job is None:
                    return
                (payload, loop, done), self._job = self._job, None
            try:
                seconds = timed_append(self.journal, payload)
            except Exception as error:
                loop.call_soon_threadsafe(_settle, done, error)
            else:
                loop.call_soon_threadsafe(_settle, done, seconds)


def timed_append(journal: Journal, payload: bytes) -> float:
    """Append and sync ``payload`` to ``journal``; the seconds it took."""
    started = time.perf_counter()
    journal.append(payload)
    return time.perf_counter() - started


def _settle(future: asyncio.Future[float], outcome: float | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Durability:
    """The write path of one data directory.

    ``collections()`` gives the current collections (a reload replaces them); ``reload()``
    rebuilds every record and index from the files.
    """

    def __init__(
        self,
        data_dir: Path,
        journal: Journal,
        collections: Callable[[], tuple[Collection[Any], ...]],
        reload: Callable[[], None],
    ) -> None:
        self.data_dir = data_dir
        self.journal = journal
        self._collections = collections
        self._reload = reload
        # (version the waiter needs on disk, its future)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._durable_version = 0
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._writer: JournalWriter | None = None
        # A running average of the seconds an append (write and fsync) takes.
        self._append_seconds = 0.0
        # The checkpoint being written in a thread, beside the flusher's appends.
        self._checkpointing: asyncio.Task[None] | None = None
        # False from a write the disk refused until it takes writes again.
        self.available = True
        self._available_listeners: list[Callable[[], None]] = []
        self._checkpoint_failing = False
        # Set when even reloading failed: memory no longer matches the files, so nothing is
        # written any more (a checkpoint would overwrite good files with partial records).
        self._broken: str | None = None

    def on_available(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when the disk takes writes again after refusing one."""
        self._available_listeners.append(listener)

    # ------------------------------------------------------------------ versions
    def _version(self) -> int:
        # Called several times per commit: map over attrgetter, not a generator expression.
        return sum(map(_version_of, self._collections()))

    def has_changes(self) -> bool:
        return any(c.changed for c in self._collections())

    def _take_changes(self) -> list[tuple[str, int, Any]]:
        # Parents before children: a torn journal end loses children first, and loading
        # drops orphans.
        return [change for c in self._collections() for change in c.take_changes()]

    # ------------------------------------------------------------------ commit
    def start(self) -> None:
        """Start the background flusher (inside a running event loop)."""
        if self._flusher is not None:
            return
        # The writer thread must win the GIL back from a busy event loop after each fsync;
        # at the default 5 ms switch interval every commit waited for it (measured: durable
        # publishing at half the in-memory rate although an fsync here takes 0.3 ms). The
        # thread takes the GIL 3-4 times per flush: at 0.5 ms, durable publishing was 0.70 of
        # the in-memory rate (wrk c=32), at 0.1 ms 0.72-0.91 and 10% more requests per second.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._wake = asyncio.Event()
        self._stopping = False
        self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    async def commit(self) -> None:
        """Wait until every change made so far is on disk (including changes that a flush
        already in progress is writing); ``StorageUnavailable`` if the disk refused them."""
        if self._broken is not None:
            raise StorageUnavailable(self._broken)
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

    def mark_dirty_soon(self) -> None:
        """Ask for a flush without waiting for it (background changes such as attempt results)."""
        if self._wake is not None and self.has_changes():
            self._wake.set()

    # ------------------------------------------------------------------ refusals
    def _refused(self, error: Exception, path: Path) -> StorageUnavailable:
        """The disk did not take the changes: fail every waiter, undo every change not on
        disk (by reloading what is), and note that writes are refused until a probe passes."""
        message = refusal(error, path)
        try:
            self._reload()
        except Exception as reload_error:
            also = refusal(reload_error, self.data_dir).removeprefix("storage unavailable: ")
            message = (
                f"{message}; reloading the data directory failed too ({also}): restart the emulator"
            )
            self._broken = message
            log.error("%s", message)
        self._refuse_waiters(message)
        # The reloaded records count from zero again; all of them are on disk.
        self._durable_version = 0
        if self.available:
            log.warning(
                "%s; refused changes were undone, writes answer 503 until the disk takes them",
                message,
            )
        self.available = False
        return StorageUnavailable(message)

    def _refuse_waiters(self, message: str) -> None:
        waiters, self._waiters = self._waiters, []
        for _, waiter in waiters:
            if not waiter.done():
                waiter.set_exception(StorageUnavailable(message))

    def _now_available(self) -> None:
        if not self.available:
            self.available = True
            log.warning("storage available again: writes are accepted")
            for listener in list(self._available_listeners):
                listener()
            self.mark_dirty_soon()  # background changes held back meanwhile

    async def _probe(self) -> None:
        try:
            await asyncio.to_thread(ensure_writable, self.data_dir)
        except OSError:
            return
        self._now_available()

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_jobs(self) -> tuple[Jobs, list[Path]]:
        """Start a checkpoint: a fresh journal file, and the segments to rewrite (encoded now:
        call it only when everything in memory is durable or about to be appended)."""
        jobs = [
            (collection, segment, payload)
            for collection in self._collections()
            for segment, payload in collection.take_dirty()
        ]
        return jobs, self.journal.rotate()

    @staticmethod
    def _finish_checkpoint(jobs: Jobs, covered: list[Path]) -> None:
        """Rewrite the segments, then drop the journal files they now cover."""
        touched: dict[Path, SegmentedDirectory] = {}
        for collection, segment, payload in jobs:
            directory = collection.directory
            assert directory is not None
            directory.write_payload(segment, payload)
            touched[directory.path] = directory
        for directory in touched.values():
            directory.sync()
        for file in covered:
            file.unlink(missing_ok=True)

    def _checkpoint_failed(self, jobs: Jobs, error: Exception) -> None:
        """The journal still holds everything: the segments are rewritten by a later one."""
        for collection, segment, _ in jobs:
            collection.dirty.add(segment)
        if not self._checkpoint_failing:
            log.warning(
                "checkpoint failed (%s); the journal keeps every change, retried later",
                refusal(error, self.data_dir).removeprefix("storage unavailable: "),
            )
        self._checkpoint_failing = True

    async def _checkpoint(self, jobs: Jobs, covered: list[Path]) -> None:
        try:
            await asyncio.to_thread(self._finish_checkpoint, jobs, covered)
        except Exception as error:
            self._checkpoint_failed(jobs, error)
        else:
            self._checkpoint_failing = False

    def _checkpoint_in_background(self) -> None:
        """Start a checkpoint unless one is running. Commits do not wait for it: rewriting
        and fsyncing dozens of segment files took 10-50 ms, which every request arriving
        meanwhile used to wait out (the light-load p99). The journal keeps every change until
        it finishes, so a crash meanwhile loses nothing."""
        if self._checkpointing is None or self._checkpointing.done():
            self._checkpointing = asyncio.get_running_loop().create_task(
                self._checkpoint(*self._checkpoint_jobs())
            )

    async def _checkpoint_done(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
            self._checkpointing = None

    async def _gather(self) -> None:
        """Let the requests the loop is handling right now join this group: without it a
        flush woken by the first of a burst of requests took that one alone, and the rest
        waited a whole fsync for the next (measured: groups of 1 and 31 alternating at c=32).
        Each pass runs every ready callback once; one that adds no change ends the wait."""
        version = self._version()
        for _ in range(GATHER_PASSES):
            await asyncio.sleep(0)
            now = self._version()
            if now == version:
                return
            version = now

    # ------------------------------------------------------------------ flushing
    async def _flush_loop(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            # Under load, requests have asked for the next flush while this one was writing:
            # no wait then, and no timer to arm and cancel (that was 1.4% of the loop's time).
            if not self._wake.is_set():
                idle = CHECKPOINT_IDLE_SECONDS if self.available else PROBE_SECONDS
                try:
                    async with deadline(idle):
                        await self._wake.wait()
                except TimeoutError:
                    if self._broken is not None:
                        continue
                    if not self.available:
                        await self._probe()
                    elif self.journal.size and not self.has_changes():
                        # Quiet for a while: fold the journal into the segment files.
                        self._checkpoint_in_background()
                    continue
            self._wake.clear()
            if not self.available and not self._waiters:
                continue  # background changes wait for the disk; a request's write tries it
            await self._flush_once()

    async def _flush_once(self) -> None:
        assert self._wake is not None
        if self._broken is not None:
            self._refuse_waiters(self._broken)
            return
        await self._gather()
        version = self._version()
        changes = self._take_changes()
        # Encoded together with the batch: the segments then hold exactly what is durable
        # once the batch is, never a change a request made while the append was running.
        checkpoint = (
            self._checkpoint_jobs()
            if changes
            and self.journal.size > CHECKPOINT_BYTES
            and (self._checkpointing is None or self._checkpointing.done())
            else None
        )
        path = self.journal.current
        try:
            if changes:
                await self._append(journal_lines(changes))
        except Exception as error:  # disk full, permissions: fail the requests, keep serving
            self._refused(error, path)
            return
        if changes:
            self._now_available()
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
        if checkpoint is not None:
            self._checkpointing = asyncio.get_running_loop().create_task(
                self._checkpoint(*checkpoint)
            )

    async def _append(self, payload: bytes) -> None:
        """Append a group, on the loop's thread while appends are fast, else in the writer's.

        Where an fsync takes 0.2-0.6 ms (an SSD), blocking the loop for it costs less than
        handing it to a thread: waking a thread that shares the core with a busy loop costs
        tens of microseconds each time, groups stayed small, and every request paid it
        (measured, wrk c=32: durable publish/echo 0.43 through the thread, 0.50 inline). Where
        one takes milliseconds (a spinning disk, a network file system), a blocked loop would
        stall every request and delivery meanwhile: the thread overlaps it with their work.
        """
        if self._append_seconds < INLINE_APPEND_SECONDS:
            seconds = timed_append(self.journal, payload)
        else:
            if self._writer is None:
                self._writer = JournalWriter(self.journal)
            seconds = await self._writer.append(payload)
        weight = APPEND_AVERAGE_WEIGHT
        self._append_seconds = (1 - weight) * self._append_seconds + weight * seconds

    def flush_now(self) -> None:
        """Journal every change synchronously (no event loop needed)."""
        if self._broken is not None:
            raise StorageUnavailable(self._broken)
        path = self.journal.current
        try:
            self._journal_now()
        except Exception as error:
            raise self._refused(error, path) from None
        self._now_available()
        if self.journal.size > CHECKPOINT_BYTES:
            jobs, covered = self._checkpoint_jobs()
            try:
                self._finish_checkpoint(jobs, covered)
            except Exception as error:
                self._checkpoint_failed(jobs, error)

    def checkpoint_now(self) -> None:
        """Rewrite every changed segment and drop the journal (a clean shutdown)."""
        self.flush_now()
        jobs, covered = self._checkpoint_jobs()
        try:
            self._finish_checkpoint(jobs, covered)
        except Exception as error:
            self._checkpoint_failed(jobs, error)

    def _journal_now(self) -> None:
        version = self._version()
        changes = self._take_changes()
        if changes:
            self.journal.append(journal_lines(changes))
        self._durable_version = version

    async def close(self) -> None:
        """Flush what is left, stop the flusher, fold the journal into the segments."""
        failure: StorageUnavailable | None = None
        if self._flusher is not None:
            try:
                await self.commit()
            except StorageUnavailable as error:
                failure = error
            # Not cancelled: a write it started in a thread would go on beside the final
            # checkpoint. It finishes what it is doing and returns.
            self._stopping = True
            assert self._wake is not None
            self._wake.set()
            await self._flusher
            self._flusher = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        await self._checkpoint_done()
        try:
            self.checkpoint_now()
        except StorageUnavailable as error:
            # Only background changes (attempt results) can be left: as after a crash, those
            # tries are made again on the next start.
            failure = error
        for _, waiter in self._waiters:  # made durable by the checkpoint just now
            if not waiter.done():
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(StorageUnavailable(str(failure)))
        self._waiters = []
        self.journal.close()


__all__ = ["CHECKPOINT_BYTES", "Durability", "refusal"]
