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
