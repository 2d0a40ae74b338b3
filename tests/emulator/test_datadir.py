"""One emulator per data directory: a second one is refused in one line naming the owner, and
the lock never outlives its process (not even a SIGKILLed one). A data directory the emulator
cannot use (a file, read-only, damaged by hand) stops the start in one line: which file, what
is wrong, what to do; its records are never silently dropped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from emulator.config import EmulatorConfig
from emulator.datadir import LOCK_FILE, DataDirInUse, DataDirLock
from emulator.server import EmulatorServer
from tests.emulator.helpers import local_client
from tests.filesystems import fill, remount, tmpfs
from tests.processes import Served

KEY = "sk_test_lock"


@pytest.fixture
def children() -> Iterator[list[Served]]:
    """Every child a test starts; all are killed afterwards, whatever happens."""
    started: list[Served] = []
    yield started
    for child in started:
        child.kill()


def serve(children: list[Served], log: Path, data_dir: Path) -> Served:
    child = Served(log, "--data-dir", str(data_dir), "--api-key", KEY)
    children.append(child)
    return child


def create_apps(child: Served, *uids: str) -> None:
    with local_client(child.url, KEY) as api:
        for uid in uids:
            response = api.post("/v1/application", json={"uid": uid, "name": uid})
            assert response.status_code == 201, response.text


def stored_apps(child: Served) -> list[str]:
    with local_client(child.url, KEY) as api:
        response = api.get("/v1/application", params={"limit": 150})
    assert response.status_code == 200, response.text
    return [app["uid"] for app in response.json()["data"]]


def test_a_second_lock_names_the_owner_until_it_is_released(tmp_path: Path) -> None:
    lock = DataDirLock.acquire(tmp_path / "data")
    lock.announce("http://127.0.0.1:4321")
    with pytest.raises(DataDirInUse) as refused:
        DataDirLock.acquire(tmp_path / "data")
    assert refused.value.pid == os.getpid()
    assert refused.value.url == "http://127.0.0.1:4321"
    assert str(refused.value) == (
        f"data directory {(tmp_path / 'data').resolve()} is in use by another emulator "
        f"(PID {os.getpid()}, serving http://127.0.0.1:4321)"
    )
    lock.release()
    lock.release()  # idempotent
    DataDirLock.acquire(tmp_path / "data").release()


def test_an_emulator_in_a_thread_holds_the_lock_while_it_runs(tmp_path: Path) -> None:
    config = EmulatorConfig(data_dir=tmp_path / "data")
    with EmulatorServer(config) as first:
        with pytest.raises(DataDirInUse) as refused:
            EmulatorServer(config).start()
        assert refused.value.url == first.url
        # The refused start read nothing and broke nothing: the owner still answers.
        assert httpx.get(first.url + "/_emulator/health").status_code == 200
    with EmulatorServer(config):  # released by the stop
        pass


def test_a_second_serve_on_the_same_directory_is_refused_and_nothing_is_lost(
    tmp_path: Path, children: list[Served]
) -> None:
    data_dir = tmp_path / "data"
    first = serve(children, tmp_path / "first.log", data_dir).wait_ready()
    create_apps(first, "a1", "a2", "a3")

    second = serve(children, tmp_path / "second.log", data_dir)
    assert second.wait_exit() == 1
    lines = second.output().strip().splitlines()
    assert len(lines) == 1, lines
    assert f"PID {first.process.pid}" in lines[0] and str(data_dir.resolve()) in lines[0]
    assert f"simplyq-emulator tui --url {first.url}" in lines[0]
    assert f"--simplyq-url {first.url}" in lines[0]

    # The owner keeps serving, and every write it acknowledged is there after a restart.
    create_apps(first, "a4", "a5", "a6")
    assert first.stop() == 0
    third = serve(children, tmp_path / "third.log", data_dir).wait_ready()
    assert stored_apps(third) == ["a1", "a2", "a3", "a4", "a5", "a6"]
    assert third.stop() == 0


def test_the_dashboard_is_refused_the_same_way(tmp_path: Path, children: list[Served]) -> None:
    data_dir = tmp_path / "data"
    owner = serve(children, tmp_path / "owner.log", data_dir).wait_ready()
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "dashboard", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert done.returncode == 1
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"PID {owner.process.pid}" in lines[0]
    assert f"simplyq-emulator tui --url {owner.url}" in lines[0]


def test_an_owner_still_starting_is_named_without_a_url(
    tmp_path: Path, children: list[Served]
) -> None:
    lock = DataDirLock.acquire(tmp_path / "data")  # locked, not serving yet
    try:
        loser = serve(children, tmp_path / "serve.log", tmp_path / "data")
        assert loser.wait_exit() == 1
    finally:
        lock.release()
    (line,) = loser.output().strip().splitlines()
    assert f"(PID {os.getpid()}, still starting); wait for it, stop it, or choose another" in line


def test_a_killed_owner_leaves_no_stale_lock(tmp_path: Path, children: list[Served]) -> None:
    data_dir = tmp_path / "data"
    first = serve(children, tmp_path / "first.log", data_dir).wait_ready()
    create_apps(first, "a1", "a2", "a3")
    first.kill()

    second = serve(children, tmp_path / "second.log", data_dir).wait_ready()
    assert stored_apps(second) == ["a1", "a2", "a3"]
    owner = orjson.loads((data_dir / LOCK_FILE).read_bytes())
    assert owner == {"pid": second.process.pid, "url": second.url}
    assert second.stop() == 0


# --------------------------------------------------------------------------- unusable directories
def refused_start(children: list[Served], log: Path, data_dir: Path) -> str:
    """Start ``serve`` on ``data_dir``, expecting it to refuse: its one line of output."""
    child = serve(children, log, data_dir)
    assert child.wait_exit() == 1
    lines = child.output().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("simplyq-emulator: cannot start: "), lines
    return lines[0]


def stored_data(tmp_path: Path, children: list[Served], *, kill: bool = False) -> Path:
    """A data directory with applications a1..a3, stopped cleanly (all in segment files) or
    killed (still in the journal)."""
    data_dir = tmp_path / "data"
    child = serve(children, tmp_path / "setup.log", data_dir).wait_ready()
    create_apps(child, "a1", "a2", "a3")
    if kill:
        child.kill()
    else:
        assert child.stop() == 0
    return data_dir


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path, children: list[Served]) -> None:
    (tmp_path / "data").write_text("not a folder")
    line = refused_start(children, tmp_path / "serve.log", tmp_path / "data")
    assert f"cannot use {tmp_path / 'data'}: not a directory" in line
    assert "move that file away or use another data directory" in line


def test_a_read_only_data_dir_is_refused(tmp_path: Path, children: list[Served]) -> None:
    with tmpfs(tmp_path / "disk", 1024) as mount:
        (mount / "data").mkdir()
        remount(mount, read_only=True)
        line = refused_start(children, tmp_path / "serve.log", mount / "data")
        remount(mount, read_only=False)
    assert f"cannot use {mount / 'data'}" in line
    assert "Read-only file system; use a writable data directory" in line


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda raw: b"{ this is not json", "is not valid JSON"),
        (lambda raw: raw[: len(raw) // 2], "is not valid JSON"),
        (lambda raw: b'{"something": "else"}', "is not a segment"),
    ],
    ids=["garbage", "truncated", "not-a-segment"],
)
def test_a_damaged_segment_file_is_refused_not_skipped(
    tmp_path: Path, children: list[Served], damage: Any, problem: str
) -> None:
    data_dir = stored_data(tmp_path, children)
    segment = data_dir / "applications" / "00000000.json"
    segment.write_bytes(damage(segment.read_bytes()))
    line = refused_start(children, tmp_path / "serve.log", data_dir)
    assert f"{segment.resolve()} {problem}" in line or f"{segment} {problem}" in line
    assert "restore it from a backup" in line


def test_garbage_in_the_middle_of_the_journal_is_refused(
    tmp_path: Path, children: list[Served]
) -> None:
    data_dir = stored_data(tmp_path, children, kill=True)
    (journal,) = data_dir.glob("journal-*.log")
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 3
    journal.write_bytes(lines[0] + b"#garbage#\n" + b"".join(lines[1:]))
    line = refused_start(children, tmp_path / "serve.log", data_dir)
    assert f"{journal} line 2 is not JSON" in line and "more lines follow" in line


def test_a_torn_last_journal_line_is_tolerated(tmp_path: Path, children: list[Served]) -> None:
    data_dir = stored_data(tmp_path, children, kill=True)
    (journal,) = data_dir.glob("journal-*.log")
    with journal.open("ab") as tail:
        tail.write(b'{"c":"applications","s":9,"d":{"ke')  # what a kill mid-append leaves
    child = serve(children, tmp_path / "serve.log", data_dir).wait_ready()
    assert stored_apps(child) == ["a1", "a2", "a3"]
    assert child.stop() == 0


def test_a_full_disk_is_refused_at_the_start(tmp_path: Path, children: list[Served]) -> None:
    with tmpfs(tmp_path / "disk", 1024) as mount:
        fill(mount)
        line = refused_start(children, tmp_path / "serve.log", mount / "data")
    assert f"cannot use {mount / 'data'}" in line
    assert "disk full (No space left on device); free some space" in line
