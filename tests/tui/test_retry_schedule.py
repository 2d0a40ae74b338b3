"""The retry schedule the dashboard shows for an application, checked against the emulator's
own rules (``emulator.retry``), which decide when the tries really happen."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.retry import STRATEGY_TYPES, RetryPolicy
from emulator.retry import planned_delays as emulator_delays
from tui.retry_schedule import describe_retry, planned_delays


def strategy(type: str, max_retries: int = 0, retry_delay: int = 0, deadline: int = 0) -> Any:
    return {
        "type": type,
        "max_retries": max_retries,
        "retry_delay": retry_delay,
        "deadline": deadline,
    }


@pytest.mark.parametrize("kind", sorted(STRATEGY_TYPES))
@pytest.mark.parametrize(
    ("max_retries", "retry_delay", "deadline"),
    [(0, 0, 0), (5, 10, 0), (20, 7, 60), (15, 0, 100), (2, 3600, 3000), (1000, 1, 0)],
)
def test_the_schedule_is_the_one_the_emulator_applies(
    kind: str, max_retries: int, retry_delay: int, deadline: int
) -> None:
    policy = RetryPolicy(kind, max_retries, retry_delay, deadline)
    expected = [int(d) for d in emulator_delays(policy)]
    assert planned_delays(strategy(kind, max_retries, retry_delay, deadline)) == expected


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            strategy("base_exponential_backoff_with_deadline"),
            "default schedule 30s, 3m, 10m, 30m, 2h, 8h",
        ),
        (
            # The default strategy ignores the other fields.
            strategy("base_exponential_backoff_with_deadline", 1, 5, 10),
            "default schedule 30s, 3m, 10m, 30m, 2h, 8h",
        ),
        ({"type": ""}, "default schedule 30s, 3m, 10m, 30m, 2h, 8h"),
        (strategy("exponential_backoff"), "exponential backoff 2s, 4s, 8s"),
        (
            strategy("exponential_backoff", max_retries=14),
            "exponential backoff 2s, 4s, 8s, 16s, 32s, 1m 4s, … (14 retries)",
        ),
        (
            strategy("exponential_backoff_with_deadline", max_retries=10, deadline=60),
            "exponential backoff 2s, 4s, 8s, 16s (deadline 1m)",
        ),
        (strategy("fixed_wait", retry_delay=10), "fixed wait 10s, 3 retries"),
        (strategy("fixed_wait", max_retries=5), "fixed wait 0s, 5 retries"),
        (strategy("fixed_wait", max_retries=1, retry_delay=90), "fixed wait 1m 30s, 1 retry"),
        (
            strategy("fixed_wait_with_deadline", 10, retry_delay=300, deadline=1000),
            "fixed wait 5m, 3 retries (deadline 16m 40s)",
        ),
        (
            strategy("fixed_wait_with_deadline", retry_delay=600, deadline=60),
            "none (deadline 1m)",
        ),
        (strategy("sometimes"), "sometimes (unknown strategy)"),
        (None, ""),
    ],
)
def test_the_schedule_in_words(given: Any, shown: str) -> None:
    assert describe_retry(given) == shown
