"""An application's retry schedule in words, from the ``retry_strategy`` of its API record.

The emulator's rules (the same as SimplyQ's): the default strategy retries after 30 s, 3 min,
10 min, 30 min, 2 h and 8 h, whatever the other fields say; the exponential ones wait
min(2^n s, 1 h) before retry n and the fixed ones ``retry_delay`` seconds, ``max_retries``
times (0: 3); the ``*_with_deadline`` ones stop once the next try would start more than
``deadline`` seconds (0: no deadline) after the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui.format import duration

DEFAULT_TYPE = "base_exponential_backoff_with_deadline"
DEFAULT_SCHEDULE = (30, 180, 600, 1800, 7200, 28800)
DEFAULT_MAX_RETRIES = 3
MAX_EXPONENTIAL_DELAY = 3600
EXPONENTIAL = ("exponential_backoff", "exponential_backoff_with_deadline")
FIXED = ("fixed_wait", "fixed_wait_with_deadline")
SHOWN = 6
"""Waits listed before the rest is summed up."""


def planned_delays(strategy: Mapping[str, Any]) -> list[int]:
    """The wait before each retry when every try fails at once; ValueError: unknown type."""
    kind = strategy.get("type") or DEFAULT_TYPE
    if kind == DEFAULT_TYPE:
        return list(DEFAULT_SCHEDULE)
    if kind not in EXPONENTIAL + FIXED:
        raise ValueError(f"unknown retry strategy {kind!r}")
    max_retries = int(strategy.get("max_retries") or 0) or DEFAULT_MAX_RETRIES
    deadline = int(strategy.get("deadline") or 0) if kind.endswith("_with_deadline") else 0
    fixed = max(0, int(strategy.get("retry_delay") or 0))
    delays: list[int] = []
    waited = 0
    for retry in range(1, max_retries + 1):
        delay = min(2 ** min(retry, 12), MAX_EXPONENTIAL_DELAY) if kind in EXPONENTIAL else fixed
        if deadline and waited + delay > deadline:
            break
        delays.append(delay)
        waited += delay
    return delays


def describe_retry(strategy: Mapping[str, Any] | None) -> str:
    """``default schedule 30s, 3m, 10m, 30m, 2h, 8h``, ``fixed wait 10s, 3 retries``, ...; "" when
    the strategy is not known (yet)."""
    if strategy is None:
        return ""
    kind = str(strategy.get("type") or DEFAULT_TYPE)
    try:
        delays = planned_delays(strategy)
    except ValueError:
        return f"{kind} (unknown strategy)"
    if kind == DEFAULT_TYPE:
        return "default schedule " + ", ".join(duration(d) for d in delays)
    name = "exponential backoff" if kind in EXPONENTIAL else "fixed wait"
    deadline = int(strategy.get("deadline") or 0) if kind.endswith("_with_deadline") else 0
    limit = f" (deadline {duration(deadline)})" if deadline else ""
    if not delays:
        return f"none{limit}"
    if kind in FIXED:
        retries = "1 retry" if len(delays) == 1 else f"{len(delays)} retries"
        return f"{name} {duration(delays[0])}, {retries}{limit}"
    shown = ", ".join(duration(d) for d in delays[:SHOWN])
    if len(delays) > SHOWN:
        shown += f", … ({len(delays)} retries)"
    return f"{name} {shown}{limit}"
