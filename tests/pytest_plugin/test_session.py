"""The session's emulator and the data directory's lock: a kept data directory that another
emulator owns stops the run in one line saying how to use that emulator; per-worker directories
never collide."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emulator.datadir import DataDirLock
from pytest_plugin.session import SimplyQServer
from pytest_plugin.settings import Settings
from tests.pytest_plugin.conftest import RunInner

OWNER_URL = "http://127.0.0.1:4321"


def test_a_data_dir_in_use_stops_the_run_clearly(
    pytester: pytest.Pytester, run_inner: RunInner, tmp_path: Path
) -> None:
    kept = tmp_path / "kept"
    owner = DataDirLock.acquire(kept / "main")  # as a `serve` on that folder would
    owner.announce(OWNER_URL)
    try:
        pytester.makepyfile("def test_a(simplyq): pass\ndef test_b(simplyq): pass")
        result = run_inner("--simplyq-data-dir", str(kept))
    finally:
        owner.release()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        [
            f"*simplyq: data directory {kept / 'main'} is in use by another emulator "
            f"(PID {os.getpid()}, serving {OWNER_URL}); run the tests against it with "
            f"--simplyq-url {OWNER_URL}, or choose another --simplyq-data-dir*"
        ]
    )
    result.assert_outcomes()
    assert "Traceback" not in result.stdout.str()


def test_each_worker_has_its_own_directory_and_lock(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = SimplyQServer(settings, worker="gw0").start()
    try:
        second = SimplyQServer(settings, worker="gw1").start()
        second.stop()
        with pytest.raises(ConnectionError, match=f"--simplyq-url {first.url}"):
            SimplyQServer(settings, worker="gw0").start()
    finally:
        first.stop()
    SimplyQServer(settings, worker="gw0").start().stop()  # free again
