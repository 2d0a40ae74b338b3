"""Crash-safe TinyDB files: ``AtomicJSONStorage``, segmented collection folders and the journal;
files damaged by hand are named, never skipped; an append the disk refuses leaves nothing."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tinydb import TinyDB

from emulator import storage
from emulator.datadir import DataDirError
from emulator.storage import (
    SEGMENT_SIZE,
    TABLE,
    AtomicJSONStorage,
    Journal,
    SegmentDecoder,
    SegmentedDirectory,
    journal_lines,
    segment_payload,
)

OLD = {TABLE: {"1": {"name": "old"}}}
NEW = {TABLE: {"1": {"name": "new"}, "2": {"name": "added"}}}


def stored(path: Path) -> Any:
    return json.loads(path.read_bytes())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------- AtomicJSONStorage
def test_write_then_read(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    assert storage.read() is None
    storage.write(OLD)
    assert storage.read() == OLD
    storage.write(NEW)
    assert storage.read() == NEW
    assert leftovers(tmp_path) == []


def test_empty_file_reads_as_empty_database(tmp_path: Path) -> None:
    (tmp_path / "db.json").write_bytes(b"  \n")
    assert AtomicJSONStorage(tmp_path / "db.json").read() is None
    with TinyDB(tmp_path / "db.json", storage=AtomicJSONStorage) as db:
        assert db.all() == []


def test_tinydb_works_through_the_storage(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.insert({"a": 1})
        db.insert({"a": 2})
    # The file is a plain TinyDB database: TinyDB's own JSONStorage opens it.
    with TinyDB(path) as db:
        assert [d["a"] for d in db.all()] == [1, 2]


def test_old_content_survives_an_unserializable_write(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write(OLD)
    with pytest.raises(TypeError):
        storage.write({TABLE: {"1": {"bad": object()}}})
    assert stored(path) == OLD
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_old_content_survives_a_failure_during_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write(OLD)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    if failing == "write":
        # The disk fills after half the bytes: a real partial write into the temp file.
        real_fdopen = os.fdopen

        def fdopen(fd: int, mode: str) -> Any:
            handle = real_fdopen(fd, mode)

            class Half:
                def __enter__(self) -> Half:
                    return self

                def __exit__(self, *exc: object) -> None:
                    handle.close()

                def write(self, data: bytes) -> None:
                    handle.write(data[: len(data) // 2])
                    handle.flush()
                    boom()

                def __getattr__(self, name: str) -> Any:
                    return getattr(handle, name)

            return Half()

        monkeypatch.setattr(os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError):
        storage.write(NEW)
    monkeypatch.undo()
    assert stored(path) == OLD
    assert leftovers(tmp_path) == []
    storage.write(NEW)
    assert stored(path) == NEW


def test_non_durable_storage_still_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    AtomicJSONStorage(path, durable=False).write(OLD)
    inode = path.stat().st_ino
    AtomicJSONStorage(path, durable=False).write(NEW)
    assert stored(path) == NEW
    assert path.stat().st_ino != inode  # a new file renamed over the old one, not rewritten


# --------------------------------------------------------------------------- segments
def docs(seqs: range) -> dict[int, dict[str, Any]]:
    return {seq: {"seq": seq, "key": f"k{seq}"} for seq in seqs}


def test_segment_files_are_tinydb_databases_keyed_by_seq(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(0, docs(range(1, 4)))
    folder.sync()
    path = folder.segment_path(0)
    assert path.name == "00000000.json"
    assert stored(path) == json.loads(segment_payload(docs(range(1, 4))))
    with TinyDB(path) as db:
        table = db.table(TABLE)
        assert len(table) == 3
        assert table.get(doc_id=2) == {"seq": 2, "key": "k2"}


def test_load_reads_every_segment_in_seq_order(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(1, docs(range(SEGMENT_SIZE, SEGMENT_SIZE + 3)))
    folder.write_segment(0, {3: docs(range(3, 4))[3], 1: docs(range(1, 2))[1]})
    loaded = [d["seq"] for d in SegmentedDirectory(tmp_path / "events").load()]
    assert loaded == [1, 3, SEGMENT_SIZE, SEGMENT_SIZE + 1, SEGMENT_SIZE + 2]


def test_an_emptied_segment_loses_its_file(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(0, docs(range(1, 3)))
    folder.write_segment(0, {})
    assert not folder.segment_path(0).exists()
    assert list(folder.load()) == []


def test_stale_temp_files_are_removed_on_open(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(0, docs(range(1, 3)))
    # What a crash between writing a temp file and renaming it leaves behind.
    torn = tmp_path / "events" / "00000000.json.x7k2p9.tmp"
    torn.write_bytes(segment_payload(docs(range(1, 9)))[:40])
    other = tmp_path / "events" / "00000001.json.abcd.tmp"
    other.write_bytes(b"")
    reopened = SegmentedDirectory(tmp_path / "events")
    assert leftovers(tmp_path / "events") == []
    assert [d["seq"] for d in reopened.load()] == [1, 2]


def test_directory_is_created(tmp_path: Path) -> None:
    SegmentedDirectory(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()


class Row(msgspec.Struct, forbid_unknown_fields=True):
    seq: int
    key: str


def row_of(doc: dict[str, Any]) -> Row:
    return msgspec.convert(doc, Row)


def test_a_plain_segment_decodes_straight_into_records(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(0, {seq: Row(seq, f"k{seq}") for seq in range(1, 4)})
    raw = folder.segment_path(0).read_bytes()
    rows = {1: Row(1, "k1"), 2: Row(2, "k2"), 3: Row(3, "k3")}
    assert SegmentDecoder(Row)(raw) == rows
    assert list(folder.load_records(row_of, SegmentDecoder(Row))) == [rows]


@pytest.mark.parametrize(
    "content",
    [
        b'{"_default": {"2": {"seq": 2, "key": "k2"}, "1": {"seq": 1, "key": "k1"}}}',
        b'{"_default": {"1": {"seq": 1, "key": "k1", "colour": "blue"}}}',
        b'{"_default": {"1": {"seq": 2, "key": "k2"}}}',
        b'{"_default": {"1": {"seq": "1", "key": "k1"}}}',
        b'{"_default": {"1": {"seq": 1, "key": "k1"}}, "other": {}}',
        b'{"_default": {"x": {"seq": 1, "key": "k1"}}}',
        b"",
        b"[1, 2]",
    ],
)
def test_any_other_file_is_left_to_the_document_by_document_path(content: bytes) -> None:
    """Out of order, an unknown or mistyped field, a doc id that is not the record's seq,
    another table, not a segment: the decoder declines, and the slower path sorts the
    records or names what is wrong."""
    assert SegmentDecoder(Row)(content) is None


def test_records_out_of_order_still_load_in_seq_order(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.segment_path(0).write_bytes(
        b'{"_default": {"2": {"seq": 2, "key": "k2"}, "1": {"seq": 1, "key": "k1"}}}'
    )
    loaded = list(folder.load_records(row_of, SegmentDecoder(Row)))
    assert [list(records.items()) for records in loaded] == [[(1, Row(1, "k1")), (2, Row(2, "k2"))]]


def test_a_record_the_decoder_refuses_is_named(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.segment_path(0).write_bytes(
        b'{"_default": {"1": {"seq": 1, "key": "k1"}, "2": {"seq": 2, "key": "k2", "x": 0}}}'
    )
    with pytest.raises(DataDirError, match=r"holds a record 2 that is not valid \(Validation"):
        list(folder.load_records(row_of, SegmentDecoder(Row)))


# --------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not json", "is not valid JSON"),
        (segment_payload(docs(range(1, 4)))[:-7], "is not valid JSON"),  # truncated by hand
        (b'{"other": {}}', "is not a segment"),
        (b"[1, 2]", "is not a segment"),
        (b'{"_default": {"x": {}}}', "is not a segment"),
    ],
)
def test_a_damaged_segment_is_named_not_skipped(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(0, docs(range(1, 3)))
    folder.segment_path(1).write_bytes(content)
    with pytest.raises(DataDirError) as error:
        list(folder.load())
    message = str(error.value)
    assert message.startswith(f"{folder.segment_path(1)} {problem}")
    assert "restore it from a backup, or move it out of the data directory" in message
    assert "\n" not in message


def test_a_record_the_loader_refuses_names_its_file(tmp_path: Path) -> None:
    folder = SegmentedDirectory(tmp_path / "events")
    folder.write_segment(0, docs(range(1, 3)))

    def needs_name(doc: dict[str, Any]) -> str:
        return str(doc["name"])

    with pytest.raises(DataDirError, match=r"00000000\.json holds a record 1 that is not valid"):
        list(folder.load_records(needs_name))


def journal_with(tmp_path: Path, content: bytes) -> Journal:
    (tmp_path / "journal-00000001.log").write_bytes(content)
    return Journal(tmp_path)


def test_a_torn_last_line_of_the_journal_is_skipped(tmp_path: Path) -> None:
    good = journal_lines([("events", 1, {"seq": 1}), ("events", 2, None)])
    journal = journal_with(tmp_path, good + b'{"c": "events", "s": 3, "d": {"se')
    assert [(c, s, d) for c, s, d, _ in journal.replay({"events"})] == [
        ("events", 1, {"seq": 1}),
        ("events", 2, None),
    ]


def test_garbage_in_the_middle_of_the_journal_stops_the_load(tmp_path: Path) -> None:
    good = journal_lines([("events", 1, {"seq": 1})])
    journal = journal_with(tmp_path, good + b"\x00\x00garbage\n" + good)
    with pytest.raises(DataDirError) as error:
        list(journal.replay({"events"}))
    assert str(error.value).startswith(f"{tmp_path / 'journal-00000001.log'} line 2 is not JSON")
    assert "and more lines follow" in str(error.value)


@pytest.mark.parametrize(
    "line",
    [b'{"c": "nope", "s": 1, "d": null}', b'{"c": "events", "s": "1", "d": null}', b"[1]"],
)
def test_a_journal_line_that_is_not_an_entry_stops_the_load(tmp_path: Path, line: bytes) -> None:
    journal = journal_with(tmp_path, line + b"\n")
    with pytest.raises(DataDirError, match="line 1 is not a journal entry"):
        list(journal.replay({"events"}))


# --------------------------------------------------------------------------- refused appends
def full_disk_after(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """The disk fills up: in the middle of the next write, or at its fsync."""

    def no_space(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "write":

        def half_then_full(fd: int, data: bytes) -> None:
            os.write(fd, data[: len(data) // 2])
            no_space()

        monkeypatch.setattr(storage, "write_all", half_then_full)
    else:
        monkeypatch.setattr(storage, "sync_file", no_space)


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_a_refused_append_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    journal = Journal(tmp_path)
    journal.append(journal_lines([("events", 1, {"seq": 1})]))
    full_disk_after(monkeypatch, where)
    with pytest.raises(OSError) as error:
        journal.append(journal_lines([("events", 2, {"seq": 2}), ("events", 3, {"seq": 3})]))
    assert error.value.errno == errno.ENOSPC
    assert error.value.filename == str(tmp_path / "journal-00000001.log")
    monkeypatch.undo()
    # Not a byte of the refused lines is replayed, and the next append goes on cleanly.
    journal.append(journal_lines([("events", 4, {"seq": 4})]))
    journal.close()
    assert [s for _, s, _, _ in Journal(tmp_path).replay({"events"})] == [1, 4]


def test_an_unwritable_directory_is_found_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_disk_after(monkeypatch, "write")
    with pytest.raises(OSError) as error:
        SegmentedDirectory(tmp_path / "events")
    assert error.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "events").iterdir()] == []  # the probe is gone
