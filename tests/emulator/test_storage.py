"""Crash-safe TinyDB files: ``AtomicJSONStorage`` and segmented collection folders."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

from emulator.storage import (
    SEGMENT_SIZE,
    TABLE,
    AtomicJSONStorage,
    SegmentedDirectory,
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
