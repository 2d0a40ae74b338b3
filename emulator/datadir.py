"""One emulator per data directory: an exclusive lock held for the owning process's life, and
the one-line errors of a data directory the emulator cannot start on.

Two processes writing one directory each replay and rewrite the journal and segment files as
if they were alone, and one's acknowledged writes silently vanish. So whoever opens a data
directory first takes ``flock(LOCK_EX | LOCK_NB)`` on ``<dir>/.lock`` and keeps the file open;
a second one fails at once with ``DataDirInUse``. The kernel drops the lock when the owner's
last descriptor closes, even after ``kill -9``: a stale lock file is just a file. The file
holds the owner's PID and, once it serves, its URL, so that the loser can say whom to attach to.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path

import orjson

LOCK_FILE = ".lock"
# The owner writes its PID right after locking: a loser that reads in between waits this long.
OWNER_READ_SECONDS = 0.5


# What an OSError means for a data directory, in a few words, and what the user can do.
REASONS = {
    errno.ENOSPC: ("disk full", "free some space"),
    errno.EDQUOT: ("disk quota exceeded", "free some space"),
    errno.EROFS: ("read-only file system", "use a writable data directory"),
    errno.EACCES: ("permission denied", "make it writable for this user or use another one"),
    errno.EPERM: ("permission denied", "make it writable for this user or use another one"),
    errno.ENOTDIR: ("not a directory", "move that file away or use another data directory"),
    errno.EEXIST: ("not a directory", "move that file away or use another data directory"),
    errno.EIO: ("I/O error", "check the disk"),
}


def reason(error: OSError) -> str:
    """``disk full (No space left on device)``: what went wrong, briefly then as the OS says."""
    short, _ = REASONS.get(error.errno or 0, ("", ""))
    said = error.strerror or str(error)
    return f"{short} ({said})" if short and short.lower() != said.lower() else said


class DataDirError(Exception):
    """A data directory the emulator cannot start on: the message says which file, what is
    wrong and what to do, in one line."""

    @classmethod
    def from_os_error(cls, error: OSError, path: Path) -> DataDirError:
        where = error.filename or path
        _, advice = REASONS.get(error.errno or 0, ("", "check the data directory"))
        return cls(f"cannot use {where}: {reason(error)}; {advice}")


class DataDirInUse(DataDirError):
    """The data directory is locked by another running emulator (``pid``, ``url`` if known)."""

    def __init__(self, path: Path, pid: int | None, url: str | None) -> None:
        self.path = path
        self.pid = pid
        self.url = url
        owner = f"PID {pid}" if pid is not None else "an unknown process"
        where = f", serving {url}" if url else ", still starting" if pid is not None else ""
        super().__init__(f"data directory {path} is in use by another emulator ({owner}{where})")


class DataDirLock:
    """The lock on one data directory: ``acquire`` it, ``announce`` the URL, ``release`` it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, directory: Path) -> DataDirLock:
        """Create ``directory`` if needed and lock it; raises ``DataDirInUse`` if another
        process holds it (and ``OSError`` if the directory cannot be used at all)."""
        directory = directory.resolve()
        path = directory / LOCK_FILE
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise DataDirError.from_os_error(error, directory) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise DataDirError.from_os_error(error, path) from None
            pid, url = read_owner(path)
            raise DataDirInUse(directory, pid, url) from None
        lock = cls(path, fd)
        lock._write(None)
        return lock

    def announce(self, url: str) -> None:
        """Record the URL this process serves on, for a second process to show."""
        self._write(url)

    def _write(self, url: str | None) -> None:
        if self._fd is None:
            return
        # In place, never by rename: the lock belongs to this inode.
        payload = orjson.dumps({"pid": os.getpid(), "url": url}) + b"\n"
        # Only informative (the lock is the flock): a full disk must not stop the emulator.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, payload, 0)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Unlock (idempotent). The file stays: removing it could race with a new owner."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def read_owner(path: Path) -> tuple[int | None, str | None]:
    """The PID and URL an owner wrote into its lock file (None for what it has not written)."""
    deadline = time.monotonic() + OWNER_READ_SECONDS
    while True:
        with contextlib.suppress(OSError, orjson.JSONDecodeError, AttributeError):
            owner = orjson.loads(path.read_bytes())
            pid, url = owner.get("pid"), owner.get("url")
            if isinstance(pid, int):
                return pid, url if isinstance(url, str) else None
        if time.monotonic() > deadline:
            return None, None
        time.sleep(0.02)


__all__ = ["LOCK_FILE", "DataDirError", "DataDirInUse", "DataDirLock", "read_owner", "reason"]
