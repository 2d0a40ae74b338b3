"""``client.emulator``: the emulator's own ``/_emulator/`` API (not part of SimplyQ).

Health, reset, the clock (read it, settle, advance, walk every retry, change its speed), the
environments, an attempt's full detail, and the change stream. Written once like the API
resources (see ``_base``): awaited on ``AsyncSimplyQ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from emulator.client._base import Resource, X, operation, streaming
from emulator.client._requests import Request, parse_data, parse_json, parse_nothing, segment
from emulator.client.stream import StreamRequest
from emulator.client.types import (
    AttemptDetail,
    ClockState,
    ClockUpdate,
    EmulatorEnvironment,
    Health,
)

# What the control API waits by default for due deliveries to finish (control.SETTLE_TIMEOUT).
SERVER_SETTLE_TIMEOUT = 10.0


def _seconds(value: float | str | timedelta) -> float | str:
    """An ``advance`` value: seconds, a duration text such as ``"1h30m"``, or a timedelta."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected seconds, a duration like '30m' or a timedelta, got {value!r}")
    return value


class EmulatorControl(Resource[X]):
    """``client.emulator``: the emulator's own ``/_emulator/`` API (not part of SimplyQ).

    The clock is the emulator's, shared by every environment: moving it moves everyone's.
    On an emulator started with ``--api-key``, a client with one of those keys reaches its own
    environment only (health, the clock's next due try, environments, attempts, the stream) and
    may read the clock and ``settle``; what reaches every environment (``reset(all=True)``,
    moving or rescaling the clock, ``stream(all_environments=True)``, every environment's list)
    needs a client made with the emulator's admin key (``serve --admin-key``). Refusals raise
    ``PermissionDeniedError`` (403).
    """

    def _clock_request(self, body: dict[str, Any], timeout: float | None) -> Request[ClockUpdate]:
        if timeout is not None:
            body["timeout"] = timeout
        # The HTTP timeout must outlast the server's own wait.
        budget = max(self._executor.timeout, (timeout or SERVER_SETTLE_TIMEOUT) + 5.0)
        return Request("POST", "/_emulator/clock", parse_json, json=body, timeout=budget)

    @operation
    def health(self) -> Request[Health]:
        """Version, storage, clock and record counts (with ``--api-key``: of this key's
        environment; without a key, only ``status`` and ``version``)."""
        return Request("GET", "/_emulator/health", parse_json)

    @operation
    def reset(self, api_key: str | None = None, *, all: bool = False) -> Request[None]:
        """Delete the data of this client's environment (or of ``api_key``'s); with
        ``all=True``, of every environment."""
        if all and api_key is not None:
            raise ValueError("give either api_key or all=True, not both")
        body = {} if all else {"api_key": api_key or self._executor.api_key}
        return Request("POST", "/_emulator/reset", parse_nothing, json=body)

    @operation
    def clock(self) -> Request[ClockState]:
        """The emulator clock."""
        return Request("GET", "/_emulator/clock", parse_json)

    @operation
    def settle(self, *, timeout: float | None = None) -> Request[ClockUpdate]:
        """Wait (up to ``timeout`` s, server default 10) until every try due now has run,
        without moving the clock; ``settled`` is False on timeout."""
        return self._clock_request({}, timeout)

    @operation
    def advance(
        self, by: float | str | timedelta, *, timeout: float | None = None
    ) -> Request[ClockUpdate]:
        """Move emulated time forward (seconds, ``"30m"``, ``"1h30m"`` or a timedelta) and wait
        up to ``timeout`` seconds (server default 10) for what became due to be tried."""
        return self._clock_request({"advance": _seconds(by)}, timeout)

    @operation
    def advance_to_next_due(self, *, timeout: float | None = None) -> Request[ClockUpdate]:
        """Jump to when the next try is due and wait for it to run."""
        return self._clock_request({"to_next_due": True}, timeout)

    @operation
    def run_until_idle(self, timeout: float = SERVER_SETTLE_TIMEOUT) -> Request[ClockUpdate]:
        """Advance from due try to due try until nothing is scheduled (every retry walked);
        ``settled`` is False when that took longer than ``timeout`` real seconds."""
        return self._clock_request({"run_until_idle": True}, timeout)

    @operation
    def set_time_scale(self, time_scale: float) -> Request[ClockUpdate]:
        """Real seconds per emulated second (0.001: a 30 s retry delay takes 30 ms)."""
        return self._clock_request({"time_scale": time_scale}, None)

    @operation
    def environments(self) -> Request[list[EmulatorEnvironment]]:
        """Every environment (API key) the emulator knows (with ``--api-key``, a configured
        key sees its own only)."""
        return Request("GET", "/_emulator/environments", parse_data)

    @operation
    def seed(self, document: Mapping[str, Any], *, api_key: str | None = None) -> Request[Any]:
        """Apply a seed document (what ``serve --seed`` reads): create what is missing, update
        what differs, leave the rest. With ``api_key``, its applications go into that
        environment instead of the ones it names. Answers the counts and each change."""
        params = (("api_key", api_key),) if api_key else ()
        return Request("POST", "/_emulator/seed", parse_json, params, json=dict(document))

    @operation
    def chaos(self) -> Request[Any]:
        """The delivery chaos in force: emulator-wide (``default``) and per scope."""
        return Request("GET", "/_emulator/chaos", parse_json)

    @operation
    def set_chaos(
        self,
        /,
        *,
        api_key: str | None = None,
        app: str | None = None,
        endpoint: str | None = None,
        off: bool = False,
        **settings: float | bool | int,
    ) -> Request[Any]:
        """Set the delivery chaos (``duplicate``, ``lost_ack``: probabilities; ``reorder``,
        ``latency``, ``jitter``, ``burst``: seconds; ``seed``) of an endpoint, an application,
        an environment (``api_key``) or, with none of them, every environment; ``off=True``
        clears it. Answers the settings with the seed used."""
        body: dict[str, Any] = dict(settings)
        for name, value in (("api_key", api_key), ("app", app), ("endpoint", endpoint)):
            if value is not None:
                body[name] = value
        if off:
            body["off"] = True
        return Request("POST", "/_emulator/chaos", parse_json, json=body)

    @operation
    def attempt_detail(self, attempt_id: str) -> Request[AttemptDetail]:
        """An attempt with what was sent and received (any environment; with ``--api-key``,
        a configured key's own only)."""
        return Request("GET", f"/_emulator/attempts/{segment(attempt_id)}", parse_json)

    @streaming
    def stream(
        self, timeout: float | None = None, *, all_environments: bool = False
    ) -> StreamRequest:
        """This environment's changes as they happen (with ``all_environments=True``, every
        environment's); see ``ChangeStream``. On an emulator started with ``--api-key`` the
        client's key must be one of those, and ``all_environments`` needs the admin key."""
        return StreamRequest(timeout, all_environments)
