"""Delivery chaos: what at-least-once delivery does to a handler, on purpose and reproducibly.

Pure: the settings (``ChaosSettings``, read from a request body or a ``--chaos`` text), which
scope's settings apply to an attempt (``ChaosScopes``), and what to inject into one attempt
(``decide``), drawn from ``random.Random`` seeded with the settings' seed and the attempt's
place (its application, endpoint, the event's position among the application's events, and
how many tries of that pair came before). The same seed and the same sequence of publishes
give the same injections, whatever the timing.

What each setting does to a try:

- ``duplicate`` (probability): the request is sent twice, same body, same signature headers;
- ``lost_ack`` (probability): a 2xx answer is recorded as a timeout, so the delivery is retried;
- ``reorder`` (seconds, ``true`` = 2): the try is held a random time within that window, so
  deliveries published close together arrive out of order;
- ``latency`` and ``jitter`` (seconds): extra wait before the try, fixed plus random;
- ``burst`` (seconds, ``true`` = 60): automatic retries wait for the next multiple of it, so
  retries queued in the meantime are released together.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_REORDER_WINDOW = 2.0
DEFAULT_BURST_WINDOW = 60.0
MAX_SECONDS = 3600.0
PROBABILITIES = ("duplicate", "lost_ack")
DURATIONS = ("reorder", "latency", "jitter", "burst")
SWITCHES = {"reorder": DEFAULT_REORDER_WINDOW, "burst": DEFAULT_BURST_WINDOW}
MAX_SEED = 2**63 - 1


class ChaosError(ValueError):
    """A chaos setting that cannot be used (``field`` names it)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class ChaosSettings:
    """What to inject into the tries of one scope; all zero is off."""

    duplicate: float = 0.0
    lost_ack: float = 0.0
    reorder: float = 0.0
    latency: float = 0.0
    jitter: float = 0.0
    burst: float = 0.0
    seed: int = 0

    @property
    def active(self) -> bool:
        """True when anything is injected at all."""
        return any(getattr(self, name) for name in (*PROBABILITIES, *DURATIONS))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_chaos(body: Mapping[str, Any], default_seed: int) -> ChaosSettings:
    """Settings from a JSON object (``{"duplicate": 0.2, "reorder": true, "seed": 7}``); an
    unknown key, a wrong type or a value out of range is a ``ChaosError``. Without ``seed``,
    ``default_seed`` (the caller picks one and shows it, so the run can be repeated)."""
    known = {*PROBABILITIES, *DURATIONS, "seed"}
    for name in body:
        if name not in known:
            raise ChaosError(name, f"unknown chaos setting; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for name in PROBABILITIES:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ChaosError(name, "must be a probability from 0 to 1")
        values[name] = float(value)
    for name in DURATIONS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            if name not in SWITCHES:
                raise ChaosError(name, "must be a number of seconds")
            value = SWITCHES[name] if value else 0.0
        if not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
            raise ChaosError(name, f"must be seconds from 0 to {MAX_SECONDS:g}")
        values[name] = float(value)
    seed = body.get("seed", default_seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ChaosError("seed", "must be a whole number from 0 to 2**63-1")
    return ChaosSettings(**values, seed=seed)


def parse_chaos_spec(text: str) -> dict[str, Any]:
    """The JSON form of a command-line spec: ``duplicate=0.2,reorder,lost_ack=0.1,seed=7``
    (a duration may end in ``s``; a bare ``reorder`` or ``burst`` turns it on)."""
    body: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, has_value, raw = (s.strip() for s in part.partition("="))
        if not has_value:
            if name not in SWITCHES:
                raise ChaosError(name, "needs a value, e.g. duplicate=0.2")
            body[name] = True
            continue
        number = raw[:-1] if name in DURATIONS and raw.endswith("s") else raw
        try:
            body[name] = int(number) if name == "seed" else float(number)
        except ValueError:
            raise ChaosError(name, f"not a number: {raw!r}") from None
    return body


@dataclass(frozen=True)
class Injection:
    """What chaos does to one try."""

    delay: float = 0.0  # emulated seconds added before the try
    duplicate: bool = False
    lost_ack: bool = False
    burst_until: float | None = None  # a retry held until then

    def to_record(self, seed: int, due: float) -> dict[str, Any] | None:
        """What the attempt record keeps of it (filled in by the send), None if nothing."""
        record: dict[str, Any] = {}
        if self.delay:
            record["delay_seconds"] = round(self.delay, 6)
        if self.burst_until is not None:
            record["burst"] = {"due": due, "released_at": self.burst_until}
        if self.duplicate:
            record["duplicate"] = {"status_code": None}
        if self.lost_ack:
            record["lost_ack"] = {"status_code": None}
        return {"seed": seed, **record} if record else None


def decide(settings: ChaosSettings, place: str, *, due: float, is_retry: bool) -> Injection:
    """What to inject into the try at ``place`` (see the module), due at ``due``."""
    rng = random.Random(f"{settings.seed}|{place}")
    # Always four draws, in this order: turning one setting on leaves the others' draws alone.
    duplicate, lost_ack, jitter, hold = (rng.random() for _ in range(4))
    delay = settings.latency + jitter * settings.jitter + hold * settings.reorder
    burst_until = None
    if is_retry and settings.burst:
        burst_until = math.ceil((due + delay) / settings.burst) * settings.burst
    return Injection(
        delay=delay,
        duplicate=duplicate < settings.duplicate,
        lost_ack=lost_ack < settings.lost_ack,
        burst_until=burst_until,
    )


class ChaosScopes:
    """Which settings apply where: an endpoint's, else its application's, else its
    environment's, else the emulator-wide default. Kept in memory (not across a restart)."""

    def __init__(self, default: ChaosSettings | None = None) -> None:
        self.default = default if default is not None and default.active else None
        self.scoped: dict[tuple[str, str], ChaosSettings] = {}

    @property
    def any(self) -> bool:
        """True when some scope has chaos on (else the engine skips every check)."""
        return self.default is not None or bool(self.scoped)

    def put(self, scope: tuple[str, str] | None, settings: ChaosSettings | None) -> None:
        """Set (or with None or inactive settings, clear) a scope's chaos; scope None is the
        emulator-wide default; else ``("env" | "app" | "endpoint", key)``."""
        active = settings if settings is not None and settings.active else None
        if scope is None:
            self.default = active
        elif active is None:
            self.scoped.pop(scope, None)
        else:
            self.scoped[scope] = active

    def for_attempt(self, env: str, app: str, endpoint: str) -> ChaosSettings | None:
        for scope in (("endpoint", endpoint), ("app", app), ("env", env)):
            found = self.scoped.get(scope)
            if found is not None:
                return found
        return self.default

    def clear_scopes(self) -> None:
        """Drop every scope's chaos (the emulator-wide one stays)."""
        self.scoped.clear()

    def forget(self, keys: set[str]) -> None:
        """Drop the scopes of deleted environments, applications or endpoints."""
        for scope in [s for s in self.scoped if s[1] in keys]:
            del self.scoped[scope]
