"""Real small file systems for disk-fault tests: a tmpfs of a few MiB that fills up for real,
and can be remounted read-only. Mounting needs root (or CAP_SYS_ADMIN); where it is not
allowed the test is skipped, saying why."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

COMMAND_TIMEOUT = 10.0


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mount", *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
    )


@contextlib.contextmanager
def tmpfs(path: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB mounted on ``path`` (created), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    try:
        mounted = _mount("-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path))
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot run mount: {error}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        # Lazy: a file a failed test left open must not keep the mount (and the test) hanging.
        subprocess.run(["umount", "-l", str(path)], timeout=COMMAND_TIMEOUT, check=False)


def remount(path: Path, *, read_only: bool) -> None:
    """Make the tmpfs on ``path`` read-only, or writable again."""
    done = _mount("-o", f"remount,{'ro' if read_only else 'rw'}", str(path))
    assert done.returncode == 0, done.stderr


def fill(directory: Path) -> Path:
    """Write a file into ``directory`` until its file system is full; returns it."""
    ballast = directory / "ballast"
    chunk = b"\0" * 65536
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError:
                chunk = chunk[: len(chunk) // 2]
                if not chunk:
                    return ballast
    finally:
        os.close(fd)
