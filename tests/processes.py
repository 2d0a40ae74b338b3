"""The emulator as a real process (``python -m emulator serve``), the way a user runs it.

``Served`` starts it on a free port chosen by the emulator itself (``--port 0``, read back from
the banner), waits (bounded) until it answers, and stops it with Ctrl-C (SIGINT) or SIGKILL.
Everything it prints goes to a log file the test can read.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT = 15.0
BANNER = re.compile(r"Base URL:\s+(http://\S+)")


class Served:
    """One ``simplyq-emulator serve`` process."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log_path = log
        self._log = log.open("ab")
        self._start = log.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.url = ""

    def output(self) -> str:
        """What this process printed so far."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._start)
            return handle.read().decode("utf-8", "replace")

    def wait_ready(self) -> Served:
        """Read the base URL from the banner, then poll the health route (bounded)."""
        deadline = time.monotonic() + START_TIMEOUT
        while not self.url:
            if self.process.poll() is not None:
                raise AssertionError(f"the emulator exited during start:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no banner within {START_TIMEOUT} s:\n{self.output()}")
            found = BANNER.search(self.output())
            if found:
                self.url = found.group(1)
            else:
                time.sleep(0.02)
        with httpx.Client(base_url=self.url, timeout=1.0) as probe:
            while time.monotonic() < deadline:
                try:
                    if probe.get("/_emulator/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        raise AssertionError("the emulator did not answer within the start timeout")

    def wait_exit(self, timeout: float = START_TIMEOUT) -> int:
        """Wait (bounded) for a process that should end by itself; returns its exit code."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {timeout} s:\n{self.output()}") from None
        self._log.close()
        return code

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> int:
        """Ctrl-C: a clean shutdown; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self._log.close()
        return code
