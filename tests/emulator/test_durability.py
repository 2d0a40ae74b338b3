"""A write the disk refuses (full, read-only, I/O error) is answered 503 and leaves nothing
behind, what was acknowledged before stays, and the emulator takes writes again as soon as the
disk does. The disk fails where the storage writes (``emulator.storage``'s write and fsync
calls, a segment file's replacement), over real HTTP to a real server on real files."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator import durability, storage
from emulator.storage import SegmentedDirectory
from tests.emulator.delivery_helpers import Env, Receiver, Reply, running_emulator, wait_until
from tests.filesystems import fill, tmpfs

NO_SPACE = "storage unavailable: disk full (No space left on device) writing "
KEY = "sk_test_durability"
JOURNAL = re.compile(r"journal-\d{8}\.log$")


class Disk:
    """The storage's write calls, failing with ENOSPC while ``full`` (after writing half of
    what they were given, as a disk that fills up in the middle of a write). Its fsync also
    records which thread ran it, takes ``delay`` seconds more, and, while ``hold``, waits
    until ``release`` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.refused = 0
        self.delay = 0.0
        self.hold = False
        self.holding, self.release = threading.Event(), threading.Event()
        self.threads: list[str] = []
        real_write, real_sync = storage.write_all, storage.sync_file

        def write_all(fd: int, data: bytes) -> None:
            if self.full:
                os.write(fd, data[: len(data) // 2])
                self._no_space()
            real_write(fd, data)

        def sync_file(fd: int) -> None:
            self.threads.append(threading.current_thread().name)
            if self.hold:
                self.holding.set()
                self.release.wait(10)
            time.sleep(self.delay)
            if self.full:
                self._no_space()
            real_sync(fd)

        monkeypatch.setattr(storage, "write_all", write_all)
        monkeypatch.setattr(storage, "sync_file", sync_file)

    def _no_space(self) -> None:
        self.refused += 1
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(monkeypatch)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[Env]:
    """An emulator on ``data_dir`` and a client of it (one API key across restarts)."""
    with (
        running_emulator(data_dir=data_dir) as server,
        contextlib.closing(Env(server.url, KEY)) as env,
    ):
        yield env


def app_uids(env: Env) -> list[str]:
    return [app["uid"] for app in env._list("/v1/application")]


def create(env: Env, uid: str) -> Any:
    return env.http.post("/v1/application", json={"uid": uid, "name": uid})


def assert_refused(response: Any, data_dir: Path) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert set(body) == {"error", "code"} and body["code"] == 503
    assert body["error"].startswith(NO_SPACE + str(data_dir)), body
    assert JOURNAL.search(body["error"]), body


def test_a_write_the_disk_refuses_is_a_503_and_is_not_kept(disk: Disk, data_dir: Path) -> None:
    with serving(data_dir) as env:
        assert create(env, "before").status_code == 201
        disk.full = True
        assert_refused(create(env, "refused"), data_dir)
        # Not visible afterwards, not even while the server runs.
        assert env.http.get("/v1/application/refused").status_code == 404
        assert app_uids(env) == ["before"]
        disk.full = False
        assert create(env, "after").status_code == 201
        assert app_uids(env) == ["before", "after"]
    assert disk.refused >= 1
    with serving(data_dir) as env:
        assert app_uids(env) == ["before", "after"]


def test_every_request_of_a_refused_group_commit_is_refused(disk: Disk, data_dir: Path) -> None:
    with serving(data_dir) as env:
        assert create(env, "kept").status_code == 201
        disk.full = True
        answers: list[int] = []

        def one(n: int) -> None:
            with contextlib.closing(Env(env.base_url, KEY)) as mine:
                answers.append(create(mine, f"app-{n}").status_code)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert answers == [503] * 8
        assert app_uids(env) == ["kept"]
        disk.full = False
        # The next write succeeds, and changes the same records the refused ones touched.
        assert create(env, "app-0").status_code == 201
    with serving(data_dir) as env:
        assert app_uids(env) == ["kept", "app-0"]


def test_a_checkpoint_the_disk_refuses_loses_nothing(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    def no_space(self: SegmentedDirectory, segment: int, payload: bytes | None) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with serving(data_dir) as env:
        assert create(env, "a1").status_code == 201
        monkeypatch.setattr(SegmentedDirectory, "write_payload", no_space)
        assert create(env, "a2").status_code == 201  # the journal took it: acknowledged
    # The stop's checkpoint failed: the journal is kept and holds both.
    assert list(data_dir.glob("journal-*.log"))
    monkeypatch.undo()
    with serving(data_dir) as env:
        assert app_uids(env) == ["a1", "a2"]
    assert not list(data_dir.glob("journal-*.log"))  # folded in by this clean stop


def test_deliveries_wait_for_the_disk_and_then_resume(disk: Disk, data_dir: Path) -> None:
    with Receiver(script=[Reply(500)]) as receiver, serving(data_dir) as env:
        env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 3, "retry_delay": 10})
        env.endpoint("app", "ep", receiver.hook())
        event = env.publish("app")
        env.settle()  # the first try failed (500); the retry is due in 10 s
        assert [a["status"] for a in env.event_attempts("app", event["uid"])] == ["3", "1"]

        disk.full = True
        answer = env.http.post("/_emulator/clock", json={"advance": 10, "settle": False})
        assert answer.status_code == 200
        # The retry's "sending" mark (and, if the request got out first, its result) cannot
        # be written: which of the two the disk refuses first depends on the machine's speed.
        wait_until(lambda: disk.refused, what="the refused result")
        # Undone: the retry is pending again, and not sent again and again meanwhile.
        wait_until(
            lambda: [a["status"] for a in env.event_attempts("app", event["uid"])] == ["3", "1"],
            what="the undone result",
        )
        sent_while_full = len(receiver.received())
        assert sent_while_full in (1, 2)
        threading.Event().wait(1.5)
        assert len(receiver.received()) == sent_while_full

        disk.full = False  # the flusher's probe notices within a second: the retry is sent again
        receiver.wait_for(sent_while_full + 1)
        wait_until(
            lambda: [a["status"] for a in env.event_attempts("app", event["uid"])] == ["3", "0"],
            what="the retry's success",
        )
    with serving(data_dir) as env:
        assert [a["status"] for a in env.event_attempts("app", event["uid"])] == ["3", "0"]


# --------------------------------------------------------------------------- a real small disk
def events_of(env: Env, app: str) -> list[str]:
    return [event["uid"] for event in env._list(f"/v1/application/{app}/event")]


def publish(env: Env, uid: str, size: int) -> Any:
    body = {"uid": uid, "event_type": "big", "payload": {"blob": "x" * size}}
    return env.http.post("/v1/application/shop/event", json=body)


def test_a_real_disk_that_fills_up(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", 4096) as mount:
        data_dir = mount / "data"
        with serving(data_dir) as env:
            assert create(env, "shop").status_code == 201
            assert publish(env, "e1", 1000).status_code == 201
            ballast = fill(mount)
            refused = publish(env, "e2", 200_000)  # far more than the pages left
            assert_refused(refused, data_dir)
            assert events_of(env, "shop") == ["e1"]
            ballast.unlink()
            assert publish(env, "e3", 200_000).status_code == 201
        with serving(data_dir) as env:
            assert events_of(env, "shop") == ["e1", "e3"]


def test_when_even_reloading_fails_nothing_more_is_written(
    disk: Disk, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    def unreadable(self: SegmentedDirectory, *args: Any) -> Any:
        raise OSError(errno.EIO, "Input/output error", str(self.path))

    with serving(data_dir) as env:
        assert create(env, "kept").status_code == 201
        disk.full = True
        monkeypatch.setattr(SegmentedDirectory, "load_records", unreadable)
        refused = create(env, "refused")
        assert refused.status_code == 503
        assert "reloading the data directory failed too (I/O error" in refused.json()["error"]
        assert refused.json()["error"].endswith("restart the emulator")
        disk.full = False
        # Memory no longer matches the files: every write is refused, and the stop writes
        # nothing over the good files.
        assert create(env, "later").status_code == 503
    monkeypatch.undo()
    with serving(data_dir) as env:
        assert app_uids(env) == ["kept"]


def test_requests_do_not_wait_for_a_checkpoint_in_progress(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """A checkpoint rewrites segment files in the background: a publish meanwhile is answered
    (its change fsynced in the journal) while the checkpoint is still writing, and after it
    everything is in the files."""
    monkeypatch.setattr(durability, "CHECKPOINT_BYTES", 1)  # every group starts a checkpoint
    release, writing, written = threading.Event(), threading.Event(), threading.Event()
    finish = durability.Durability._finish_checkpoint

    def held(jobs: durability.Jobs, covered: list[Path]) -> None:
        writing.set()
        release.wait(10)
        finish(jobs, covered)
        written.set()

    monkeypatch.setattr(durability.Durability, "_finish_checkpoint", staticmethod(held))
    with serving(data_dir) as env:
        assert create(env, "first").status_code == 201
        assert create(env, "second").status_code == 201  # its group starts the checkpoint
        assert writing.wait(10)
        try:
            assert create(env, "during").status_code == 201
            assert not written.is_set()  # answered while the checkpoint was still held
        finally:
            release.set()
    monkeypatch.undo()
    assert not list(data_dir.glob("journal-*.log"))  # the stop's checkpoint covered them all
    with serving(data_dir) as env:
        assert sorted(app_uids(env)) == ["during", "first", "second"]


def test_fast_appends_run_on_the_loop_and_slow_ones_beside_it(disk: Disk, data_dir: Path) -> None:
    """Where an fsync is quick the loop does it itself (cheaper than waking a thread); where
    the disk is slow, appends move to the journal writer's thread, so that reads are answered
    while a write waits for the disk."""
    with serving(data_dir) as env:
        assert create(env, "fast").status_code == 201
        assert disk.threads and "journal-writer" not in disk.threads
        disk.delay = 0.01  # ten times what moves appends off the loop
        for n in range(4):
            assert create(env, f"slow-{n}").status_code == 201
        assert disk.threads[-1] == "journal-writer"
        disk.delay, disk.hold = 0.0, True
        answers: list[int] = []
        writer = threading.Thread(target=lambda: answers.append(create(env, "held").status_code))
        writer.start()
        try:
            assert disk.holding.wait(10)
            with contextlib.closing(Env(str(env.http.base_url), KEY)) as reader:
                assert reader.http.get("/v1/application/fast").status_code == 200
            assert answers == []  # the write still waits for its fsync
        finally:
            disk.release.set()
            writer.join(10)
        assert answers == [201]
