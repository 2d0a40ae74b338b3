"""Crash-safe TinyDB files, kept small by splitting each collection into segments.

TinyDB's own ``JSONStorage`` rewrites a file in place (a crash tears it) and its table API costs
O(table size) per insert. Here every file is a regular TinyDB database (``TinyDB(path)`` opens
it), written by ``AtomicJSONStorage`` (orjson, temp file, fsync, ``os.replace``), and each
collection is split into segments of ``SEGMENT_SIZE`` records by creation order, so a write
only ever rewrites the few small segments it touched.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, TypeGuard, TypeVar

import msgspec
import orjson
from tinydb.storages import Storage

from emulator.datadir import DataDirError

SEGMENT_SIZE = 512
TABLE = "_default"

Doc = dict[str, Any]
T = TypeVar("T")


# The two calls every journal append goes through: the fault-injection seam of the tests.
def write_all(fd: int, data: bytes) -> None:
    """Write every byte (``os.write`` may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# fdatasync skips the timestamps but, for an append, still writes the new size: the data is
# all there after a crash, at ~0.1 ms less per append. macOS has no fdatasync.
_sync_data: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def sync_file(fd: int) -> None:
    _sync_data(fd)


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
        return parse_tables(raw)

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


def parse_tables(raw: bytes) -> dict[str, dict[str, Any]] | None:
    """A TinyDB file's tables (None for an empty file, as TinyDB reads it)."""
    if not raw.strip():
        return None
    data: dict[str, dict[str, Any]] = orjson.loads(raw)
    return data


def ensure_writable(directory: Path) -> None:
    """Create and remove a small file in ``directory``: a read-only or full data directory is
    found at start-up, not by the first request."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe.", suffix=".tmp", dir=directory)
        try:
            write_all(fd, b"probe")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as error:
        error.filename = str(directory)  # the directory is the problem, not the probe's name
        raise


def is_records_table(table: object) -> TypeGuard[dict[str, Doc]]:
    """A TinyDB table: documents by doc id (digits). One join checks every id at once; an
    empty id, which would vanish in it, is looked for apart."""
    if not isinstance(table, dict):
        return False
    return not table or ("" not in table and "".join(table).isdigit())


def corrupt(path: Path, what: str, advice: str) -> DataDirError:
    return DataDirError(f"{path} {what}; {advice}")


LOAD_ADVICE = (
    "restore it from a backup, or move it out of the data directory to start without its records"
)


def convert_segment(file: Path, raw: bytes, convert: Callable[[Doc], T]) -> list[T]:
    """One segment file's documents made records by ``convert``, one by one, in seq order;
    ``DataDirError`` naming the file, and the record, when it cannot be."""
    try:
        tables = parse_tables(raw) or {}
    except orjson.JSONDecodeError as error:
        what = f"is not valid JSON (cut short or edited?): {error}"
        raise corrupt(file, what, LOAD_ADVICE) from None
    table = tables.get(TABLE) if isinstance(tables, dict) else None
    if not is_records_table(table):
        raise corrupt(file, f"is not a segment (no {TABLE!r} table of records)", LOAD_ADVICE)
    docs: Iterable[Doc] = table.values()
    if not ascending(list(map(int, table))):
        docs = [table[doc_id] for doc_id in sorted(table, key=int)]
    try:
        return list(map(convert, docs))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise refused_record(file, table, convert, LOAD_ADVICE) from None


def refused_record(
    path: Path, table: dict[str, Doc], convert: Callable[[Doc], object], advice: str
) -> DataDirError:
    """The error naming the first record of ``table`` that ``convert`` refuses (loading
    converts a whole file at once, and finds which record it was only when one fails)."""
    for doc_id in sorted(table, key=int):
        try:
            convert(table[doc_id])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            problem = f"{type(error).__name__}: {error}"
            return corrupt(path, f"holds a record {doc_id} that is not valid ({problem})", advice)
    return corrupt(path, "holds a record that is not valid", advice)


# attrgetter: a key function called in C (loading calls it for every record).
seq_of: Callable[[Any], int] = operator.attrgetter("seq")

# Encodes dicts, dataclass and msgspec records alike, field by field (orjson knows no Struct).
_encoder = msgspec.json.Encoder()


def segment_payload(docs: Mapping[int, Any]) -> bytes:
    """The bytes of one segment file: a TinyDB database whose doc ids are the records' seqs.

    Documents may be dicts or records (dataclasses or ``msgspec.Struct``).
    """
    return _encoder.encode({TABLE: {str(seq): doc for seq, doc in docs.items()}})


class SegmentDecoder(Generic[T]):
    """Decodes a whole segment file straight into records of one ``msgspec.Struct`` type,
    in C: no parsed dict per record, no Python call per field."""

    def __init__(self, record_type: type[T]) -> None:
        self._decoder = msgspec.json.Decoder(dict[str, dict[int, record_type]])  # type: ignore[valid-type]

    def __call__(self, raw: bytes) -> dict[int, T] | None:
        """The file's records by seq, in seq order; None when it is anything but a plain
        valid segment: the document-by-document path then reads it, and names what is wrong."""
        try:
            tables: dict[str, dict[int, T]] = self._decoder.decode(raw)
        except msgspec.MsgspecError:
            return None
        records = tables.get(TABLE)
        if len(tables) != 1 or records is None:
            return None
        seqs = list(records)
        # Doc ids are the records' seqs, in order.
        if not ascending(seqs) or seqs != list(map(seq_of, records.values())):
            return None
        return records


def ascending(seqs: list[int]) -> bool:
    """Whether doc ids come in ascending order (TinyDB and ``segment_payload`` write them so;
    an edited file may not)."""
    return seqs == sorted(seqs)


class SegmentedDirectory:
    """One collection's folder of segment files: ``<dir>/<segment number>.json``."""

    def __init__(self, path: Path, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        path.mkdir(parents=True, exist_ok=True)
        # Temp files of a write that crashed before its rename.
        for stale in path.glob("*.tmp"):
            stale.unlink(missing_ok=True)
        ensure_writable(path)

    def segment_path(self, segment: int) -> Path:
        return self.path / f"{segment:08d}.json"

    def load(self) -> Iterator[Doc]:
        """Every stored document, in seq order."""
        documents = self.load_records(lambda doc: doc, record_seq=lambda doc: doc["seq"])
        return itertools.chain.from_iterable(records.values() for records in documents)

    def load_records(
        self,
        convert: Callable[[Doc], T],
        decode: SegmentDecoder[T] | None = None,
        record_seq: Callable[[T], int] = seq_of,
    ) -> Iterator[dict[int, T]]:
        """Each segment file's documents made records by ``convert``, by ``record_seq`` and in seq
        order (a dict per file, the files in order). A file that is not a whole segment, or
        holds a document ``convert`` refuses, raises ``DataDirError`` naming it: starting
        without its records would lose them silently.

        ``decode``, when given, reads a whole valid file at once (and ``convert`` must make
        the same records of its documents); any other file goes document by document. Not
        through TinyDB's ``Table.all()``, which copies every document twice.
        """
        for file in sorted(self.path.glob("*.json")):
            raw = file.read_bytes()
            records = decode(raw) if decode is not None else None
            if records is None:
                records = {record_seq(r): r for r in convert_segment(file, raw, convert)}
            yield records

    def write_segment(self, segment: int, docs: Mapping[int, Any]) -> None:
        """Replace one segment with ``docs`` (an empty segment's file is removed)."""
        self.write_payload(segment, segment_payload(docs) if docs else None)

    def write_payload(self, segment: int, payload: bytes | None) -> None:
        """Replace one segment's file with ``payload`` (None: remove it)."""
        path = self.segment_path(segment)
        if payload is None:
            path.unlink(missing_ok=True)
            return
        AtomicJSONStorage(path, durable=self.durable).write_bytes(payload)

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
        ensure_writable(directory)
        existing = self.files()
        self._use_file(int(existing[-1].stem.split("-")[1]) + 1 if existing else 1)
        self._fd: int | None = None
        self._end = 0
        self.size = 0

    def files(self) -> list[Path]:
        """The journal files, oldest first."""
        return sorted(self.directory.glob(self.PATTERN))

    def _use_file(self, number: int) -> None:
        """Append to file ``number`` from now on (``current``)."""
        self._number = number
        # An attribute, not a property: building the path on every flush was 1% of the loop's
        # time in durable publishing.
        self.current = self.directory / f"journal-{number:08d}.log"

    def replay(self, collections: Collection[str]) -> Iterator[tuple[str, int, Doc | None, str]]:
        """(collection, seq, document or None for a deletion, "file line N"), in the order
        written. A line that does not parse is skipped when it is its file's last: the torn
        end of an append that a crash cut short, never acknowledged. Anywhere else it is
        damage, and skipping it would drop acknowledged changes: ``DataDirError``."""
        advice = (
            "restore it from a backup, or move it out of the data directory to start from "
            "the last checkpoint (without the changes it holds)"
        )
        for file in self.files():
            lines = file.read_bytes().split(b"\n")
            last = max((n for n, line in enumerate(lines) if line.strip()), default=-1)
            for n, line in enumerate(lines):
                if not line.strip():
                    continue
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    if n == last:
                        break
                    raise corrupt(
                        file, f"line {n + 1} is not JSON ({error}) and more lines follow", advice
                    ) from None
                if (
                    not isinstance(entry, dict)
                    or entry.get("c") not in collections
                    or not isinstance(entry.get("s"), int)
                    or not isinstance(entry.get("d"), (dict, type(None)))
                ):
                    raise corrupt(file, f"line {n + 1} is not a journal entry", advice)
                yield entry["c"], entry["s"], entry["d"], f"{file} line {n + 1}"

    def append(self, payload: bytes) -> None:
        """Add ``payload`` (whole lines) and make it durable before returning.

        When that fails (disk full, I/O error) the file is cut back to where it ended, so that
        neither half a line nor the whole lines of a refused append are ever replayed.
        """
        if self._fd is None:
            self._fd = os.open(
                self.current, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
            )
            self._end = os.fstat(self._fd).st_size
            if self.durable:
                fsync_dir(self.directory)
        path = self.current
        try:
            write_all(self._fd, payload)
            if self.durable:
                sync_file(self._fd)
        except BaseException as error:
            self._cut_back()
            if isinstance(error, OSError) and error.filename is None:
                error.filename = str(path)
            raise
        self._end += len(payload)
        self.size += len(payload)

    def _cut_back(self) -> None:
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._end)
        except OSError:
            # The rest stays at the end of this file (a torn tail, skipped on replay); the
            # next append starts a new file instead of writing after it.
            self.close()
            self._use_file(self._number + 1)

    def rotate(self) -> list[Path]:
        """Start a new file; returns the older ones, to delete once a checkpoint covers them."""
        covered = self.files()
        self.close()
        self._use_file(self._number + 1)
        self.size = 0
        return covered

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def journal_lines(changes: list[tuple[str, int, Any]]) -> bytes:
    """Journal lines for (collection, seq, record or None) changes."""
    return _encoder.encode_lines([{"c": c, "s": s, "d": d} for c, s, d in changes])
