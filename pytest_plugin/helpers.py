"""``SimplyQEnvironment``: what the ``simplyq`` fixture gives a test — an isolated environment
(its own API key) on an emulator, a client bound to it, the emulator's clock, waits and
sender-side assertions whose failure messages list every attempt."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.client import ClockUpdate, DeliveryAttempt, SimplyQ

if TYPE_CHECKING:
    import httpx
    import pytest

STATUS_NAMES = {"0": "success", "1": "pending", "2": "sending", "3": "fail"}
STATUSES = ("success", "fail", "pending")
SUCCESS, PENDING, SENDING, FAIL = "0", "1", "2", "3"
DEFAULT_WAIT = 10.0
# Attempts asked for per page (the largest page the API gives).
PAGE = 150


class DeliveryAssertionError(AssertionError):
    """A sender-side assertion or wait failed; the message lists every attempt."""


# ====================================================================== describing attempts
def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_gap(seconds: float) -> str:
    """``30 s``, ``3 min``, ``2 h 5 min 30 s``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs or not (hours or minutes) else "")
    return " ".join(p for p in parts if p)


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 try``, ``3 tries``."""
    if count == 1:
        return f"1 {one}"
    return f"{count} {many or (one[:-1] + 'ies' if one.endswith('y') else one + 's')}"


def made(attempts: Sequence[DeliveryAttempt]) -> list[DeliveryAttempt]:
    """The tries that were really made (not the one scheduled next)."""
    return [a for a in attempts if str(a["status"]) in (SUCCESS, FAIL)]


def describe_attempts(attempts: Sequence[DeliveryAttempt]) -> str:
    """One line per attempt, oldest first, with the time since the previous try."""
    if not attempts:
        return "  (no attempts)"
    lines = []
    previous: datetime | None = None
    for number, attempt in enumerate(attempts, 1):
        status = STATUS_NAMES.get(str(attempt["status"]), str(attempt["status"]))
        manual = ", manual retry" if str(attempt["trigger_type"]) == "1" else ""
        if status == "pending":
            lines.append(f"  try {number}: scheduled, not made yet{manual}")
            continue
        if status == "sending":
            lines.append(f"  try {number}: being sent now{manual}")
            continue
        at = _parse_time(attempt["attempted_at"])
        gap = f" (+{format_gap((at - previous).total_seconds())})" if at and previous else ""
        previous = at or previous
        code = attempt["response_status_code"]
        answer = f"HTTP {code}" if code else "no HTTP answer"
        response = str(attempt["response"] or "")
        shown = response if len(response) <= 80 else response[:77] + "..."
        lines.append(
            f"  try {number}: {status}, {answer}, at {attempt['attempted_at']}{gap}{manual}, "
            f"response {shown!r}"
        )
    return "\n".join(lines)


def final(attempts: Sequence[DeliveryAttempt]) -> bool:
    """True when a delivery is over: the last try succeeded, or failed with no retry left."""
    if not attempts:
        return False
    if any(str(a["status"]) in (PENDING, SENDING) for a in attempts):
        return False
    return str(attempts[-1]["status"]) in (SUCCESS, FAIL)


def _over(attempts: Sequence[DeliveryAttempt]) -> bool:
    """True when there are attempts and the delivery to each endpoint is final."""
    per_endpoint: dict[str, list[DeliveryAttempt]] = {}
    for attempt in attempts:
        per_endpoint.setdefault(attempt["endpoint_id"], []).append(attempt)
    return bool(per_endpoint) and all(final(tries) for tries in per_endpoint.values())


# ====================================================================== the clock
class EmulatorClock:
    """The emulator's clock, as a test sees it. It is shared by every environment of the
    emulator and only moves forward."""

    def __init__(self, client: SimplyQ) -> None:
        self._control = client.emulator

    def now(self) -> float:
        """Emulated time in unix seconds (a handler under test checks timestamps against it)."""
        return float(self._control.clock()["unix"])

    def advance(self, by: float | str | timedelta, *, timeout: float = DEFAULT_WAIT) -> None:
        """Move time forward (seconds, ``"30m"``, ``"1h30m"`` or a timedelta) from the moment the
        tries due now have run (so right after a publish, ``advance("30s")`` reaches the first
        retry); returns once every try that became due has run."""
        self.settle(timeout)
        update = self._control.advance(by, timeout=timeout)
        _check(update, timeout, f"advancing the clock by {by!r}")

    def to_next_due(self, *, timeout: float = DEFAULT_WAIT) -> None:
        """Jump to the next scheduled try (after the tries due now) and run it."""
        update = self._control.advance_to_next_due(timeout=timeout)
        _check(update, timeout, "jumping to the next due try")

    def run_until_idle(self, timeout: float = DEFAULT_WAIT) -> None:
        """Walk every scheduled retry, from due try to due try, until nothing is left to try
        (the full default schedule is 10 h 43 min 30 s of emulated time)."""
        update = self._control.run_until_idle(timeout=timeout)
        _check(update, timeout, "running until idle")

    def settle(self, timeout: float = DEFAULT_WAIT) -> None:
        """Wait until every try due now has run, without moving the clock."""
        update = self._control.settle(timeout=timeout)
        _check(update, timeout, "settling")


def _check(update: ClockUpdate, timeout: float, what: str) -> None:
    if not update["settled"]:
        raise DeliveryAssertionError(
            f"simplyq: deliveries were still running {timeout:g} s after {what} "
            f"(next try due at {update['next_due']}); an endpoint answering slowly?"
        )


# ====================================================================== the environment
class SimplyQEnvironment:
    """One test's isolated SimplyQ environment on an emulator.

    ``api_key`` and ``base_url`` are what the code under test needs (``env``/``setenv`` give
    them as ``SIMPLYQ_API_KEY``/``SIMPLYQ_BASE_URL``); ``client`` is a ``SimplyQ`` client bound
    to the environment and ``clock`` the emulator's clock.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key or f"sk_test_{uuid.uuid4().hex}"
        self._transport = transport
        self._client: SimplyQ | None = None
        self._clock: EmulatorClock | None = None

    @property
    def client(self) -> SimplyQ:
        """A ``emulator.client.SimplyQ`` bound to this environment (made on first use)."""
        if self._client is None:
            self._client = SimplyQ(self.api_key, base_url=self.base_url, transport=self._transport)
        return self._client

    @property
    def clock(self) -> EmulatorClock:
        """The emulator's clock: ``advance("30m")``, ``run_until_idle()``, ``now()``."""
        if self._clock is None:
            self._clock = EmulatorClock(self.client)
        return self._clock

    @property
    def env(self) -> dict[str, str]:
        """Environment variables for the code under test."""
        return {"SIMPLYQ_API_KEY": self.api_key, "SIMPLYQ_BASE_URL": self.base_url}

    def setenv(self, target: pytest.MonkeyPatch | MutableMapping[str, str]) -> None:
        """Set ``SIMPLYQ_API_KEY`` and ``SIMPLYQ_BASE_URL`` with a ``monkeypatch`` (undone after
        the test), or in a dict such as a subprocess's ``env``."""
        for name, value in self.env.items():
            if isinstance(target, MutableMapping):
                target[name] = value
            else:
                target.setenv(name, value)

    # ------------------------------------------------------------------ state
    def seed(self, source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """Create the applications and endpoints (fixed secrets included) of a seed file (a
        path, JSON or YAML) or document in this environment, whatever API keys it names;
        idempotent. Returns the counts ``created``/``updated``/``unchanged``."""
        from emulator.seed import SeedError, load_seed_document

        if isinstance(source, Mapping):
            document: object = source
        else:
            try:
                document = load_seed_document(Path(source))
            except SeedError as error:
                raise ValueError(f"simplyq: {error}") from None
        if not isinstance(document, Mapping):
            raise ValueError(f"simplyq: a seed document is a JSON object, not {document!r:.60}")
        answer: dict[str, Any] = self.client.emulator.seed(document, api_key=self.api_key)
        return answer

    def chaos(
        self,
        *,
        app: str | None = None,
        endpoint: str | None = None,
        **settings: float | bool | int,
    ) -> dict[str, Any]:
        """Turn on delivery chaos for this environment (or one ``app``, or one of its
        ``endpoint``): ``duplicate=0.2``, ``lost_ack=0.1`` (probabilities), ``reorder=True``
        (or seconds), ``latency``/``jitter``/``burst`` (seconds), ``seed=7`` to repeat a run.
        Called with no setting, turns it off. Returns the settings, with the seed used; each
        attempt's detail (``client.emulator.attempt_detail``) says what was injected."""
        if app is None and endpoint is not None:
            raise ValueError("simplyq.chaos: an endpoint is named with its app")
        answer: dict[str, Any] = self.client.emulator.set_chaos(
            api_key=self.api_key, app=app, endpoint=endpoint, off=not settings, **settings
        )
        return answer

    # ------------------------------------------------------------------ waits
    def settle(self, timeout: float = DEFAULT_WAIT) -> None:
        """Wait until every try due now has been made. No sleeping: the emulator answers when
        it is done."""
        self.clock.settle(timeout)

    def attempts(self, app: str, event: str, endpoint: str | None = None) -> list[DeliveryAttempt]:
        """The attempts of an event (to one endpoint), oldest first, the scheduled next try
        included (status ``"1"``, no ``attempted_at``)."""
        return [
            a
            for a in self.client.events.delivery_attempts(app, event, limit=PAGE)
            if endpoint is None or a["endpoint_id"] == endpoint
        ]

    def wait_for_final(
        self, app: str, event: str, endpoint: str | None = None, timeout: float = DEFAULT_WAIT
    ) -> list[DeliveryAttempt]:
        """Wait until the event's delivery (to ``endpoint``, or to each endpoint) is over —
        succeeded, or failed with no retry left — as the clock runs by itself (e.g. with
        ``--simplyq-time-scale 0.001``). Waits on the emulator's change stream, not by
        sleeping; returns the attempts."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            # Subscribe before looking, so no change in between is missed. The stream's idle
            # timeout is also its connect timeout: never make it too short to connect.
            with self.client.emulator.stream(timeout=max(remaining, 0.25)) as changes:
                tries = self.attempts(app, event, endpoint)
                if _over(tries):
                    return tries
                if remaining <= 0:
                    where = f"to endpoint {endpoint!r}" if endpoint else "to its endpoints"
                    raise DeliveryAssertionError(
                        f"event {event!r} of application {app!r}: the delivery {where} was "
                        f"not over within {timeout:g} s\n" + describe_attempts(tries)
                    )
                for change in changes:
                    if change["kind"] == "attempt" and change["data"].get("event_id") == event:
                        break

    # ------------------------------------------------------------------ assertions
    def assert_delivered(
        self,
        app: str,
        event: str,
        endpoint: str,
        *,
        attempts: int | None = None,
        status: str = "success",
        status_codes: Sequence[int] | None = None,
        settle: bool = True,
    ) -> list[DeliveryAttempt]:
        """Assert how the delivery of ``event`` to ``endpoint`` stands (after waiting for the
        tries due now, unless ``settle=False``) and return its attempts.

        ``status``: ``"success"`` (the last try succeeded), ``"fail"`` (the last try failed and
        no retry is left) or ``"pending"`` (a retry is scheduled). ``attempts``: how many tries
        were made. ``status_codes``: the HTTP status of each try made (0: no answer).
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if settle:
            self.settle()
        everything = self.attempts(app, event, endpoint)
        tries = made(everything)
        scheduled = len(everything) > len(tries)
        problems = []
        if not tries and status != "pending":
            problems.append("it was never tried")
        elif status == "success" and str(tries[-1]["status"]) != SUCCESS:
            problems.append("the last try failed" + (", a retry is scheduled" if scheduled else ""))
        elif status == "fail" and str(tries[-1]["status"]) != FAIL:
            problems.append("the last try succeeded")
        elif status == "fail" and scheduled:
            problems.append("it has not given up yet: a retry is scheduled")
        elif status == "pending" and not scheduled:
            problems.append("no retry is scheduled")
        if attempts is not None and len(tries) != attempts:
            problems.append(f"{plural(len(tries), 'try was', 'tries were')} made, not {attempts}")
        codes = [a["response_status_code"] for a in tries]
        if status_codes is not None and codes != list(status_codes):
            problems.append(f"the tries were answered {codes}, not {list(status_codes)}")
        if problems:
            after = "" if attempts is None else f" after {plural(attempts, 'try')}"
            expected = status + after
            raise DeliveryAssertionError(
                f"event {event!r} to endpoint {endpoint!r} of application {app!r}: expected "
                f"{expected}, but " + "; ".join(problems) + "\n" + describe_attempts(everything)
            )
        return everything

    def assert_not_delivered(self, app: str, event: str, endpoint: str) -> None:
        """Assert ``event`` was never tried to ``endpoint`` (after the tries due now)."""
        self.settle()
        tries = self.attempts(app, event, endpoint)
        if tries:
            raise DeliveryAssertionError(
                f"event {event!r} to endpoint {endpoint!r} of application {app!r}: expected "
                f"no attempt, but there {'is' if len(tries) == 1 else 'are'} {len(tries)}\n"
                + describe_attempts(tries)
            )

    def close(self) -> None:
        """Close the client (the fixture resets the environment itself)."""
        if self._client is not None:
            self._client.close()
            self._client = None
            self._clock = None

    def __repr__(self) -> str:
        return f"SimplyQEnvironment(base_url={self.base_url!r}, api_key={self.api_key!r})"
