"""Retry schedules for failed webhook deliveries, as SimplyQ applies them.

Pure functions: given an endpoint's retry policy and the try that just failed,
say how long to wait before the next try, or that the delivery gives up.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_EXPONENTIAL_BACKOFF_WITH_DEADLINE = "base_exponential_backoff_with_deadline"
EXPONENTIAL_BACKOFF = "exponential_backoff"
EXPONENTIAL_BACKOFF_WITH_DEADLINE = "exponential_backoff_with_deadline"
FIXED_WAIT = "fixed_wait"
FIXED_WAIT_WITH_DEADLINE = "fixed_wait_with_deadline"
DEFAULT_STRATEGY_TYPE = BASE_EXPONENTIAL_BACKOFF_WITH_DEADLINE
STRATEGY_TYPES: frozenset[str] = frozenset(
    {
        BASE_EXPONENTIAL_BACKOFF_WITH_DEADLINE,
        EXPONENTIAL_BACKOFF,
        EXPONENTIAL_BACKOFF_WITH_DEADLINE,
        FIXED_WAIT,
        FIXED_WAIT_WITH_DEADLINE,
    }
)

# The default strategy: 6 retries (7 tries in all), 38,610 s of waiting.
DEFAULT_SCHEDULE: tuple[int, ...] = (30, 180, 600, 1800, 7200, 28800)
DEFAULT_MAX_RETRIES = 3
MAX_EXPONENTIAL_DELAY = 3600


@dataclass(frozen=True)
class RetryPolicy:
    """An endpoint's retry strategy; zero values mean "use the default"."""

    type: str = DEFAULT_STRATEGY_TYPE
    max_retries: int = 0
    retry_delay: int = 0
    deadline: int = 0


def next_retry_delay(
    policy: RetryPolicy, failed_retry_count: int, *, first_try_at: float, failed_at: float
) -> float | None:
    """Return the seconds to wait after ``failed_at`` before the next try, or None to give up.

    ``failed_retry_count`` is the retry count of the try that just failed
    (0 for the delivery's first try).  ``first_try_at`` is when the first try
    started; the ``*_with_deadline`` strategies give up when the next try would
    start more than ``policy.deadline`` seconds after it (0 means no deadline).
    """
    if policy.type not in STRATEGY_TYPES:
        raise ValueError(f"unknown retry strategy type: {policy.type!r}")
    if failed_retry_count < 0:
        raise ValueError(f"failed_retry_count must be >= 0, got {failed_retry_count}")
    retry = failed_retry_count + 1
    if policy.type == BASE_EXPONENTIAL_BACKOFF_WITH_DEADLINE:
        return float(DEFAULT_SCHEDULE[retry - 1]) if retry <= len(DEFAULT_SCHEDULE) else None
    max_retries = policy.max_retries if policy.max_retries > 0 else DEFAULT_MAX_RETRIES
    if retry > max_retries:
        return None
    if policy.type in (EXPONENTIAL_BACKOFF, EXPONENTIAL_BACKOFF_WITH_DEADLINE):
        # Capping the exponent first avoids building huge integers for large counts.
        delay = float(min(2 ** min(retry, 12), MAX_EXPONENTIAL_DELAY))
    else:
        delay = float(max(policy.retry_delay, 0))
    if (
        policy.type.endswith("_with_deadline")
        and policy.deadline > 0
        and failed_at + delay - first_try_at > policy.deadline
    ):
        return None
    return delay


def planned_delays(policy: RetryPolicy, try_duration: float = 0.0) -> list[float]:
    """Return every delay the strategy would apply if all tries fail.

    Each try is assumed to last ``try_duration`` seconds; the first starts at 0.
    """
    delays: list[float] = []
    started_at = 0.0
    while True:
        failed_at = started_at + try_duration
        delay = next_retry_delay(policy, len(delays), first_try_at=0.0, failed_at=failed_at)
        if delay is None:
            return delays
        delays.append(delay)
        started_at = failed_at + delay
