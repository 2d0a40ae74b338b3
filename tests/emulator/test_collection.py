"""A collection's records by key and by segment, and what a checkpoint must write."""

from __future__ import annotations

from pathlib import Path

from emulator.collection import Collection
from emulator.models import Environment
from emulator.storage import SEGMENT_SIZE, SegmentedDirectory


def environments(tmp_path: Path) -> Collection[Environment]:
    collection: Collection[Environment] = Collection("environments", Environment.from_doc)
    collection.directory = SegmentedDirectory(tmp_path / "environments", durable=False)
    return collection


def add(collection: Collection[Environment], count: int) -> list[Environment]:
    records = []
    for _ in range(count):
        seq = collection.take_seq()
        record = Environment(key=f"env{seq}", api_key=f"k{seq}", seq=seq, created_at=0.0)
        collection.put(record)
        records.append(record)
    return records


def test_an_emptied_segment_is_forgotten_and_its_file_removed(tmp_path: Path) -> None:
    # A reset between rounds empties whole segments for good (seqs are never reused): their
    # empty dicts used to stay, one more per round, for as long as the process ran.
    collection = environments(tmp_path)
    records = add(collection, SEGMENT_SIZE + 3)
    collection.take_dirty()
    first_segment = [r for r in records if r.seq // SEGMENT_SIZE == 0]
    for record in first_segment:
        collection.drop(record)
    assert 0 not in collection.segments
    assert collection.take_dirty() == [(0, None)]  # None: no records, no file
    assert len(collection.by_key) == len(records) - len(first_segment)


def test_dropping_some_records_keeps_the_rest_of_their_segment(tmp_path: Path) -> None:
    collection = environments(tmp_path)
    first, second = add(collection, 2)
    collection.drop(first)
    assert collection.segments[0] == {second.seq: second}
    [(segment, payload)] = collection.take_dirty()
    assert segment == 0 and payload is not None and b"env2" in payload and b"env1" not in payload


def test_dropping_twice_or_after_a_replay_removed_it_is_harmless(tmp_path: Path) -> None:
    collection = environments(tmp_path)
    [record] = add(collection, 1)
    collection.replay(record.seq, None, "journal line 1")
    collection.drop(record)
    collection.drop(record)
    assert not collection.by_key and not collection.segments.get(0)
