"""What the control API (``/_emulator/``) does, free of HTTP: health, reset, the clock, attempt
details and the change feed."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator import __version__
from emulator.bodies import Fields
from emulator.bus import Change, Subscription
from emulator.chaos import ChaosError, parse_chaos
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.delivery import DeliveryEngine
from emulator.errors import BadBody, FieldError, Invalid, NotFound
from emulator.models import AttemptStatus, Environment
from emulator.repository import Repository, environment_key
from emulator.timeouts import deadline
from emulator.timestamps import format_optional, format_timestamp

SETTLE_TIMEOUT = 10.0
MAX_SETTLE_TIMEOUT = 600.0
HEARTBEAT_SECONDS = 15.0
MAX_IDLE_STEPS = 10_000
# Timestamps are formatted with ``datetime`` (years up to 9999) and uids carry the creation
# second in 6 base62 digits (up to December 3769): the clock must stay well below, or every
# answer that shows a time, and every create, fails. Hence a floor on the time scale (at 1e-6, a
# real second is 11.6 emulated days) and a ceiling on where the clock may be moved (a retry is
# due at most 365 days after its failure, so it stays below both too).
MIN_TIME_SCALE = 1e-6
MAX_TIME_SCALE = 1000
MAX_CLOCK = 54_593_568_000.0  # 3700-01-01T00:00:00Z
MAX_ADVANCE = 100 * 365 * 86400
CLOCK_FLAGS = ("to_next_due", "run_until_idle", "settle")
CHAOS_SCOPE_FIELDS = frozenset({"api_key", "app", "endpoint", "off"})


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``2h``, ``1d`` or ``1h30m``; ValueError otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    if not value:
        raise ValueError("empty duration")
    try:
        return float(value)
    except ValueError:
        pass
    total, number = 0.0, ""
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise ValueError(f"not a duration: {text!r}")
    if number:
        raise ValueError(f"not a duration: {text!r}")
    return total


@dataclass(frozen=True)
class ClockChange:
    """A checked clock request: what to change, then how long to wait for due deliveries."""

    advance: float = 0.0
    time_scale: float | None = None
    to_next_due: bool = False
    run_until_idle: bool = False
    settle: bool = True
    timeout: float = SETTLE_TIMEOUT

    @property
    def moves_clock(self) -> bool:
        """True when the request changes the clock (not only waits for what is due)."""
        return bool(
            self.advance or self.time_scale is not None or self.to_next_due or self.run_until_idle
        )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_clock_change(body: Mapping[str, Any]) -> ClockChange:
    """A clock request body: a wrong JSON type is a 400, a bad value a 422 (every one found)."""
    advance = body.get("advance")
    if advance is not None and not (_is_number(advance) or isinstance(advance, str)):
        raise BadBody.wrong_type("advance", "seconds or a duration string", advance)
    scale = body.get("time_scale")
    if scale is not None and not _is_number(scale):
        raise BadBody.wrong_type("time_scale", "a number", scale)
    for name in CLOCK_FLAGS:
        flag = body.get(name)
        if flag is not None and not isinstance(flag, bool):
            raise BadBody.wrong_type(name, "true or false", flag)
    problems: list[FieldError] = []
    seconds = _advance_seconds(advance, problems)
    if scale is not None and not MIN_TIME_SCALE <= scale <= MAX_TIME_SCALE:
        problems.append(
            FieldError(
                "time_scale", f"time_scale must be from {MIN_TIME_SCALE:g} to {MAX_TIME_SCALE:g}"
            )
        )
    timeout = body.get("timeout")
    if timeout is not None and not (_is_number(timeout) and 0 < timeout <= MAX_SETTLE_TIMEOUT):
        problem = "timeout must be a number of seconds, more than 0 and at most 600"
        problems.append(FieldError("timeout", problem))
    if problems:
        raise Invalid(problems)
    return ClockChange(
        advance=seconds,
        time_scale=None if scale is None else float(scale),
        to_next_due=body.get("to_next_due") is True,
        run_until_idle=body.get("run_until_idle") is True,
        settle=body.get("settle") is not False,
        timeout=SETTLE_TIMEOUT if timeout is None else float(timeout),
    )


def _advance_seconds(advance: float | str | None, problems: list[FieldError]) -> float:
    if advance is None:
        return 0.0
    if isinstance(advance, str):
        try:
            seconds = parse_duration(advance)
        except ValueError:
            problems.append(
                FieldError("advance", "advance must be seconds or a duration like 1h30m")
            )
            return 0.0
    else:
        seconds = float(advance)
    if seconds < 0 or seconds != seconds or seconds > MAX_ADVANCE:
        problems.append(FieldError("advance", "advance must be between 0 and 100 years"))
        return 0.0
    return seconds


class Admin:
    """The emulator's own operations over its repository, clock and delivery engine."""

    def __init__(
        self,
        repository: Repository,
        clock: Clock,
        config: EmulatorConfig,
        delivery: DeliveryEngine,
    ) -> None:
        self.repo = repository
        self.clock = clock
        self.config = config
        self.delivery = delivery

    def clock_state(self, api_key: str | None = None) -> dict[str, Any]:
        """The emulated time, its scale and when the next delivery is due (of ``api_key``'s
        environment only, if given: the clock is everyone's, the deliveries are not)."""
        now = self.clock.now()
        due = self.delivery.next_due() if api_key is None else self._next_due_of(api_key)
        return {
            "now": format_timestamp(now),
            "unix": now,
            "time_scale": self.clock.time_scale,
            "next_due": format_optional(due),
            "next_due_unix": due,
        }

    def _next_due_of(self, api_key: str) -> float | None:
        env = environment_key(api_key)
        due = [
            a.scheduled_at
            for a in self.repo.attempts.by_key.values()
            if a.env == env and a.status == AttemptStatus.PENDING
        ]
        return min(due, default=None)

    def status(self) -> dict[str, Any]:
        """Only that the emulator is up, and its version (what anyone may know)."""
        return {"status": "ok", "version": __version__}

    def health(self, api_key: str | None = None) -> dict[str, Any]:
        """Version, storage, clock, how many of each thing are stored and deliveries made:
        of every environment, or of ``api_key``'s only."""
        return {
            **self.status(),
            "in_memory": self.config.in_memory,
            "data_dir": None if self.config.data_dir is None else str(self.config.data_dir),
            "clock": self.clock_state(api_key),
            **(self._counts() if api_key is None else self._counts_of(api_key)),
        }

    def _counts(self) -> dict[str, Any]:
        repo = self.repo
        return {
            "counts": {
                "environments": len(repo.environments.by_key),
                "applications": len(repo.applications.by_key),
                "endpoints": len(repo.endpoints.by_key),
                "events": len(repo.events.by_key),
                "attempts": len(repo.attempts.by_key),
            },
            "deliveries": self.delivery.delivered,
        }

    def _counts_of(self, api_key: str) -> dict[str, Any]:
        repo = self.repo
        env = repo.find_environment(api_key)
        apps = repo.apps_of_env.get(env.key, []) if env else []
        attempts = [a for a in repo.attempts.by_key.values() if a.env == env.key] if env else []
        return {
            "counts": {
                "environments": 1 if env else 0,
                "applications": len(apps),
                "endpoints": sum(len(repo.endpoints_of_app.get(a.key, ())) for a in apps),
                "events": sum(len(repo.events_of_app.get(a.key, ())) for a in apps),
                "attempts": len(attempts),
            },
            "deliveries": sum(1 for a in attempts if a.attempted_at is not None),
        }

    async def reset(self, api_key: str | None) -> None:
        """Forget everything, or only the environment of ``api_key`` (if it has one)."""
        if api_key is not None:
            env = self.repo.find_environment(api_key)
            if env is not None:
                self.delivery.chaos.forget(self._keys_of(env.key))
                self.repo.reset(env)
        else:
            self.delivery.chaos.clear_scopes()
            self.repo.reset()
        await self.repo.commit()

    def _keys_of(self, env_key: str) -> set[str]:
        apps = self.repo.apps_of_env.get(env_key, ())
        endpoints = (e for a in apps for e in self.repo.endpoints_of_app.get(a.key, ()))
        return {env_key, *(a.key for a in apps), *(e.key for e in endpoints)}

    # ------------------------------------------------------------------ chaos
    def set_chaos(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Set (or with ``"off": true`` clear) the delivery chaos of a scope: the endpoint
        ``endpoint`` of application ``app`` of ``api_key``'s environment, or that application,
        or that environment, or (no ``api_key``) every environment. Returns the scope and its
        settings, with the seed chosen when none was given."""
        settings_body = {k: v for k, v in body.items() if k not in CHAOS_SCOPE_FIELDS}
        fields = Fields(body)
        api_key, app_uid, endpoint_uid = (fields.text(n) for n in ("api_key", "app", "endpoint"))
        off = fields.boolean("off")
        fields.check()
        if app_uid is not None and api_key is None:
            raise Invalid.one("api_key", "an application's chaos needs the api_key it belongs to")
        if endpoint_uid is not None and app_uid is None:
            raise Invalid.one("app", "an endpoint's chaos needs the application it belongs to")
        try:
            settings = parse_chaos(settings_body, random.SystemRandom().randrange(2**31))
        except ChaosError as error:
            raise Invalid.one(error.field, error.problem) from None
        scope: tuple[str, str] | None = None
        if api_key is not None:
            env = self.repo.find_environment(api_key)
            env_key = env.key if env else environment_key(api_key)
            scope = ("env", env_key)
            if app_uid is not None:
                app = self.repo.app_by_uid.get((env_key, app_uid))
                if app is None:
                    raise NotFound(hint=f"no application `{app_uid}` for this API key")
                scope = ("app", app.key)
                if endpoint_uid is not None:
                    endpoint = self.repo.endpoint_by_uid.get((app.key, endpoint_uid))
                    if endpoint is None:
                        hint = f"application `{app_uid}` has no endpoint `{endpoint_uid}`"
                        raise NotFound(hint=hint)
                    scope = ("endpoint", endpoint.key)
        chosen = None if off or not settings.active else settings
        self.delivery.chaos.put(scope, chosen)
        return {
            "api_key": api_key,
            "app": app_uid,
            "endpoint": endpoint_uid,
            "settings": chosen.to_json() if chosen is not None else None,
        }

    def chaos_state(self, api_key: str | None = None) -> dict[str, Any]:
        """The emulator-wide chaos and every scope's (which wins: endpoint, application,
        environment, emulator-wide); only ``api_key``'s scopes when given."""
        chaos = self.delivery.chaos
        scopes = []
        for (kind, key), settings in chaos.scoped.items():
            described = self._describe_scope(kind, key)
            if api_key is None or described["api_key"] == api_key:
                scopes.append({**described, "settings": settings.to_json()})
        return {
            "default": chaos.default.to_json() if chaos.default else None,
            "scopes": scopes,
        }

    def _describe_scope(self, kind: str, key: str) -> dict[str, Any]:
        repo = self.repo
        endpoint = repo.endpoints.by_key.get(key) if kind == "endpoint" else None
        app = repo.applications.by_key.get(endpoint.app if endpoint else key)
        env_key = app.env if app else key
        env = repo.environments.by_key.get(env_key)
        return {
            "api_key": env.api_key if env else None,
            "app": app.uid if app and kind != "env" else None,
            "endpoint": endpoint.uid if endpoint else None,
        }

    def environments(self, api_key: str | None = None) -> list[dict[str, Any]]:
        """Every environment (API key) with its applications' uids, oldest first; only
        ``api_key``'s (if it has one) when given."""
        envs: Iterable[Environment] = self.repo.environments.by_key.values()
        if api_key is not None:
            envs = [e for e in envs if e.api_key == api_key]
        return [
            {
                "id": env.key,
                "api_key": env.api_key,
                "created_at": format_timestamp(env.created_at),
                "applications": [a.uid for a in self.repo.apps_of_env.get(env.key, ())],
            }
            for env in sorted(envs, key=lambda e: e.seq)
        ]

    def attempt_detail(self, attempt_id: str, api_key: str | None = None) -> dict[str, Any]:
        """An attempt with what only the emulator knows, its application and event payload
        (an attempt of another environment than ``api_key``'s, if given, is not found)."""
        attempt = self.repo.attempts.by_key.get(attempt_id)
        if attempt is None or (api_key is not None and attempt.env != environment_key(api_key)):
            raise NotFound(hint=f"no delivery attempt `{attempt_id}`")
        event = self.repo.events.by_key.get(attempt.event)
        app = self.repo.applications.by_key.get(attempt.app)
        return {
            **attempt.to_detail(),
            "app_id": app.uid if app else None,
            "payload": event.payload if event else None,
        }

    async def change_clock(self, change: ClockChange) -> bool:
        """Apply a clock request; returns whether everything due was tried in time."""
        if change.advance and self.clock.now() + change.advance > MAX_CLOCK:
            raise Invalid.one("advance", "advance would move the clock past the year 3700")
        if change.time_scale is not None:
            self.clock.set_time_scale(change.time_scale)
        if change.advance:
            self.clock.advance(change.advance)
        if change.to_next_due:
            await self.delivery.settle(change.timeout)
            due = self.delivery.next_due()
            if due is not None and self.clock.now() < due <= MAX_CLOCK:
                self.clock.advance(due - self.clock.now())
        if change.run_until_idle:
            return await self._run_until_idle(change.timeout)
        if not change.settle:
            return not self.delivery.busy()
        return await self.delivery.settle(change.timeout)

    async def _run_until_idle(self, timeout: float) -> bool:
        """Advance to each next due try and let it run, until nothing is scheduled."""
        deadline = time.monotonic() + timeout
        for _ in range(MAX_IDLE_STEPS):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.delivery.settle(remaining):
                return False
            due = self.delivery.next_due()
            if due is None:
                return True
            if due > MAX_CLOCK:
                return False  # the clock stops short of dates it could not show
            now = self.clock.now()
            if due > now:
                self.clock.advance(due - now)
        return False

    def changes(self, api_key: str | None) -> AsyncGenerator[Change | None, None]:
        """Every change from now on (only those of ``api_key``'s environment if given), and
        None whenever nothing happened for ``HEARTBEAT_SECONDS``. Subscribes at once, so
        nothing stored after this call is missed; ends when the server stops."""
        env_filter = None
        if api_key:
            env = self.repo.find_environment(api_key)
            env_filter = env.key if env else environment_key(api_key)
        return self._follow(self.repo.bus.subscribe(), env_filter)

    async def _follow(
        self, subscription: Subscription, env_filter: str | None
    ) -> AsyncGenerator[Change | None, None]:
        try:
            quiet = 0.0
            # Checks every second whether the server is stopping, so an open stream (a
            # dashboard) never holds up a shutdown.
            while not self.repo.bus.closed:
                try:
                    async with deadline(1.0):
                        change = await subscription.queue.get()
                except TimeoutError:
                    quiet += 1.0
                    if quiet >= HEARTBEAT_SECONDS:
                        quiet = 0.0
                        yield None
                    continue
                quiet = 0.0
                if env_filter is None or change.env == env_filter:
                    yield change
        finally:
            self.repo.bus.unsubscribe(subscription)
