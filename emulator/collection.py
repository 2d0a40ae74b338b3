"""One kind of record in memory: by key, by segment file, and what changed since the last write.

A ``Collection`` knows nothing of files beyond its ``SegmentedDirectory``: the repository keeps
the indexes, ``durability`` writes what the collections say changed.
"""

from __future__ import annotations

import bisect
import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from emulator.datadir import DataDirError
from emulator.models import Doc
from emulator.storage import (
    SEGMENT_SIZE,
    SegmentDecoder,
    SegmentedDirectory,
    segment_payload,
    seq_of,
)


class Record(Protocol):
    key: str
    seq: int


R = TypeVar("R", bound=Record)


@dataclass
class Collection(Generic[R]):
    """One kind of record: all of them by key, and grouped by the segment file they live in.

    A flush serializes the records themselves (msgspec encodes dataclasses and Structs natively,
    holding the GIL, so it sees each record whole): no per-change copy, no second object per record.
    """

    name: str
    from_doc: Callable[[Doc], R]
    # Whole segment files straight into records, for the kinds stored by the hundred thousand.
    decode: SegmentDecoder[R] | None = None
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

    def add_loaded(self, records: dict[int, R]) -> None:
        """Add one segment file's records (by seq, in seq order), as loading reads them."""
        if not records:
            return
        self.by_key.update(zip(map(key_of, records.values()), records.values(), strict=True))
        seqs = list(records)
        first, last = seqs[0] // SEGMENT_SIZE, seqs[-1] // SEGMENT_SIZE
        if first == last and first not in self.segments:
            self.segments[first] = records  # the file's own dict: one record per seq
        else:  # a file holding records of other segments than its own (edited by hand?)
            for seq, record in records.items():
                self.segments[seq // SEGMENT_SIZE][seq] = record
        self.next_seq = max(self.next_seq, seqs[-1] + 1)

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
        records = self.segments.get(segment)
        if records is not None:
            records.pop(record.seq, None)
            if not records:  # a reset empties segments for good: seqs are never reused
                del self.segments[segment]
        if self.directory is not None:
            self.dirty.add(segment)
            self.changed[record.seq] = None
            self.version += 1

    def take_changes(self) -> list[tuple[str, int, R | None]]:
        changes = [(self.name, seq, record) for seq, record in self.changed.items()]
        self.changed.clear()
        return changes

    def replay(self, seq: int, doc: Doc | None, where: str) -> None:
        """Apply one journal entry over what the segment files held."""
        segment = seq // SEGMENT_SIZE
        old = self.segments.get(segment, {}).pop(seq, None)
        if old is not None:
            self.by_key.pop(old.key, None)
        if doc is not None:
            try:
                record = self.from_doc(doc)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise DataDirError(
                    f"{where} is not a valid {self.name} record ({type(error).__name__}: "
                    f"{error}); restore the file from a backup, or move it out of the data "
                    "directory to start from the last checkpoint"
                ) from None
            self.by_key[record.key] = record
            self.segments[segment][seq] = record
            self.next_seq = max(self.next_seq, seq + 1)
        self.dirty.add(segment)  # the next checkpoint writes it, then drops the journal

    def take_dirty(self) -> list[tuple[int, bytes | None]]:
        """The dirty segments' files as they must be now (None: no records, no file).

        Encoded here, on the loop's thread, at the moment the caller chose: a checkpoint must
        write exactly what is durable, not what a request changed while it was writing.
        """
        jobs = []
        for segment in sorted(self.dirty):
            docs = self.segments.get(segment)
            jobs.append((segment, segment_payload(docs) if docs else None))
        self.dirty.clear()
        return jobs


# attrgetter: a key function called in C (loading calls it for every record).
key_of: Callable[[Record], str] = operator.attrgetter("key")


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


__all__ = ["Collection", "Record", "insert_sorted", "remove_sorted", "seq_of"]
