"""``SimplyQEnvironment``: what the ``simplyq`` fixture gives a test — an isolated environment
(its own API key) on an emulator, a client bound to it, the emulator's clock, waits and
sender-side assertions."""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from datetime import timedelta

import pytest

from emulator.client import DeliveryAttempt, SimplyQ

STATUS_NAMES = {"0": "success", "1": "pending", "2": "sending", "3": "fail"}
STATUS_CODES = {name: code for code, name in STATUS_NAMES.items()}


class DeliveryAssertionError(AssertionError):
    """A sender-side assertion failed; the message lists every attempt."""


def describe_attempts(attempts: list[DeliveryAttempt]) -> str:
    if not attempts:
        return "  (no attempts)"
    return "\n".join(
        f"  try {a['retry_count']}: {STATUS_NAMES.get(str(a['status']), a['status'])}, "
        f"HTTP {a['response_status_code']}, trigger {a['trigger_type']}, "
        f"at {a['attempted_at']}, response {str(a['response'])[:80]!r}"
        for a in attempts
    )


class EmulatorClock:
    """The emulator's clock, as a test sees it."""

    def __init__(self, client: SimplyQ) -> None:
        self._control = client.emulator

    def now(self) -> float:
        """Emulated time in unix seconds."""
        return float(self._control.clock()["unix"])

    def advance(self, by: float | str | timedelta) -> None:
        """Move time forward (seconds, ``"30m"`` or a timedelta); returns once every try that
        became due has run."""
        self._control.advance(by)

    def to_next_due(self) -> None:
        """Jump to the next scheduled try and run it."""
        self._control.advance_to_next_due()

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Advance through every scheduled retry until nothing is left to try."""
        self._control.run_until_idle(timeout=timeout)


class SimplyQEnvironment:
    """One test's isolated SimplyQ environment on an emulator."""

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        self.base_url = base_url
        self.api_key = api_key or f"sk_test_{uuid.uuid4().hex}"
        self._client: SimplyQ | None = None

    @property
    def client(self) -> SimplyQ:
        """A ``emulator.client.SimplyQ`` bound to this environment (created on first use)."""
        if self._client is None:
            self._client = SimplyQ(self.api_key, base_url=self.base_url)
        return self._client

    @property
    def clock(self) -> EmulatorClock:
        return EmulatorClock(self.client)

    @property
    def env(self) -> dict[str, str]:
        """Environment variables for the code under test."""
        return {"SIMPLYQ_API_KEY": self.api_key, "SIMPLYQ_BASE_URL": self.base_url}

    def setenv(self, target: pytest.MonkeyPatch | MutableMapping[str, str]) -> None:
        """Set ``SIMPLYQ_API_KEY`` and ``SIMPLYQ_BASE_URL`` via a monkeypatch (or in a dict)."""
        for name, value in self.env.items():
            if isinstance(target, pytest.MonkeyPatch):
                target.setenv(name, value)
            else:
                target[name] = value

    # ------------------------------------------------------------------ waits
    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every try due now has been made (no sleeping: the emulator answers when
        it is done)."""
        self.client.emulator.advance(0, timeout=timeout)

    def attempts(self, app: str, event: str, endpoint: str | None = None) -> list[DeliveryAttempt]:
        """The attempts of an event (to one endpoint), oldest first, all pages."""
        return [
            a
            for a in self.client.events.delivery_attempts(app, event, limit=150)
            if endpoint is None or a["endpoint_id"] == endpoint
        ]

    # ------------------------------------------------------------------ assertions
    def assert_delivered(
        self,
        app: str,
        event: str,
        endpoint: str,
        *,
        attempts: int | None = None,
        status: str = "success",
        settle: bool = True,
    ) -> list[DeliveryAttempt]:
        """Assert the last attempt of ``event`` to ``endpoint`` has ``status`` ("success",
        "fail", "pending") after ``attempts`` tries (any number when None)."""
        if status not in STATUS_CODES:
            raise ValueError(f"status must be one of {sorted(STATUS_CODES)}")
        if settle:
            self.settle()
        tries = self.attempts(app, event, endpoint)
        problems = []
        if not tries:
            problems.append("it was never attempted")
        elif str(tries[-1]["status"]) != STATUS_CODES[status]:
            last = STATUS_NAMES.get(str(tries[-1]["status"]), tries[-1]["status"])
            problems.append(f"the last attempt is {last}, not {status}")
        if attempts is not None and len(tries) != attempts:
            problems.append(f"it took {len(tries)} attempts, not {attempts}")
        if problems:
            raise DeliveryAssertionError(
                f"event {event!r} to endpoint {endpoint!r} of application {app!r}: "
                + "; ".join(problems)
                + "\n"
                + describe_attempts(tries)
            )
        return tries

    def assert_not_delivered(self, app: str, event: str, endpoint: str) -> None:
        """Assert ``event`` was never attempted to ``endpoint``."""
        self.settle()
        tries = self.attempts(app, event, endpoint)
        if tries:
            raise DeliveryAssertionError(
                f"event {event!r} was attempted to endpoint {endpoint!r} "
                f"{len(tries)} times, expected never:\n" + describe_attempts(tries)
            )

    def close(self) -> None:
        """Close the client (the fixture resets the environment itself)."""
        if self._client is not None:
            self._client.close()
            self._client = None
