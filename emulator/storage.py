"""Crash-safe TinyDB files, kept small by splitting each collection into segments.

TinyDB's own ``JSONStorage`` rewrites a file in place (a crash tears it) and its table API costs
O(table size) per insert. Here every file is a regular TinyDB database (``TinyDB(path)`` opens
it), written by ``AtomicJSONStorage`` (orjson, temp file, fsync, ``os.replace``), and each
collection is split into segments of ``SEGMENT_SIZE`` records by creation order, so a write
only ever rewrites the few small segments it touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

SEGMENT_SIZE = 512
TABLE = "_default"

Doc = dict[str, Any]


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicJSONStorage(Storage):
    """A TinyDB storage whose writes are all-or-nothing: readers see the old or the new file."""

    def __init__(self, path: str | Path, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        data: dict[str, dict[str, Any]] = orjson.loads(raw)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.write_bytes(orjson.dumps(data))

    def write_bytes(self, payload: bytes) -> None:
        """Replace the file with ``payload`` atomically (and durably unless told otherwise)."""
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                if self.durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def close(self) -> None:
        pass


def segment_payload(docs: Mapping[int, Any]) -> bytes:
    """The bytes of one segment file: a TinyDB database whose doc ids are the records' seqs.

    Documents may be dicts or dataclass records (orjson serializes both, field by field).
    """
    return orjson.dumps({TABLE: {str(seq): doc for seq, doc in docs.items()}})


class SegmentedDirectory:
    """One collection's folder of segment files: ``<dir>/<segment number>.json``."""

    def __init__(self, path: Path, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        path.mkdir(parents=True, exist_ok=True)
        # Temp files of a write that crashed before its rename.
        for stale in path.glob("*.tmp"):
            stale.unlink(missing_ok=True)

    def segment_path(self, segment: int) -> Path:
        return self.path / f"{segment:08d}.json"

    def load(self) -> Iterator[Doc]:
        """Every stored document, in seq order.

        Read through the TinyDB storage class but not ``Table.all()``, which copies every
        document twice: with 100,000 records that doubled the start-up time.
        """
        for file in sorted(self.path.glob("*.json")):
            tables = AtomicJSONStorage(file, durable=self.durable).read() or {}
            table = tables.get(TABLE, {})
            for doc_id in sorted(table, key=int):
                yield table[doc_id]

    def write_segment(self, segment: int, docs: Mapping[int, Any]) -> None:
        """Replace one segment with ``docs`` (an empty segment's file is removed)."""
        path = self.segment_path(segment)
        if not docs:
            path.unlink(missing_ok=True)
            return
        AtomicJSONStorage(path, durable=self.durable).write_bytes(segment_payload(docs))

    def sync(self) -> None:
        """Make the renames of this collection's files durable."""
        if self.durable:
            fsync_dir(self.path)


class Journal:
    """The commit path: append-only JSON lines, one fsync per group of changes.

    Rewriting segment files on every commit cost a temp file, two fsyncs and a rename per
    touched segment; a commit now appends the changed records here instead, and segments are
    rewritten later by a checkpoint, which then deletes the journal files it covers. Loading
    replays the journal over the segments. A crash mid-append leaves a torn last line, which
    replay skips: that group was never acknowledged.
    """

    PATTERN = "journal-*.log"

    def __init__(self, directory: Path, durable: bool = True) -> None:
        self.directory = directory
        self.durable = durable
        directory.mkdir(parents=True, exist_ok=True)
        existing = self.files()
        self._number = int(existing[-1].stem.split("-")[1]) + 1 if existing else 1
        self._handle: Any = None
        self.size = 0

    def files(self) -> list[Path]:
        """The journal files, oldest first."""
        return sorted(self.directory.glob(self.PATTERN))

    @property
    def current(self) -> Path:
        return self.directory / f"journal-{self._number:08d}.log"

    def replay(self) -> Iterator[tuple[str, int, Doc | None]]:
        """(collection, seq, document or None for a deletion), in the order written."""
        for file in self.files():
            for line in file.read_bytes().split(b"\n"):
                if not line:
                    continue
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    break  # the torn end of an append a crash cut short
                yield entry["c"], entry["s"], entry["d"]

    def append(self, payload: bytes) -> None:
        """Add ``payload`` (whole lines) and make it durable before returning."""
        if self._handle is None:
            self._handle = open(self.current, "ab")  # noqa: SIM115 - kept open between appends
            if self.durable:
                fsync_dir(self.directory)
        self._handle.write(payload)
        self._handle.flush()
        if self.durable:
            os.fsync(self._handle.fileno())
        self.size += len(payload)

    def rotate(self) -> list[Path]:
        """Start a new file; returns the older ones, to delete once a checkpoint covers them."""
        covered = self.files()
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._number += 1
        self.size = 0
        return covered

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def journal_lines(changes: list[tuple[str, int, Any]]) -> bytes:
    """Journal lines for (collection, seq, record or None) changes."""
    return b"".join(orjson.dumps({"c": c, "s": s, "d": d}) + b"\n" for c, s, d in changes)
