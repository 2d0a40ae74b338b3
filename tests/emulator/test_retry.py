from __future__ import annotations

import pytest

from emulator.retry import (
    DEFAULT_SCHEDULE,
    DEFAULT_STRATEGY_TYPE,
    EXPONENTIAL_BACKOFF,
    EXPONENTIAL_BACKOFF_WITH_DEADLINE,
    FIXED_WAIT,
    FIXED_WAIT_WITH_DEADLINE,
    STRATEGY_TYPES,
    RetryPolicy,
    next_retry_delay,
    planned_delays,
)


def test_strategy_names() -> None:
    assert DEFAULT_STRATEGY_TYPE == "base_exponential_backoff_with_deadline"
    assert sorted(STRATEGY_TYPES) == [
        "base_exponential_backoff_with_deadline",
        "exponential_backoff",
        "exponential_backoff_with_deadline",
        "fixed_wait",
        "fixed_wait_with_deadline",
    ]
    assert isinstance(STRATEGY_TYPES, frozenset)
    assert RetryPolicy() == RetryPolicy(DEFAULT_STRATEGY_TYPE, 0, 0, 0)


def test_default_schedule_seven_tries() -> None:
    delays = planned_delays(RetryPolicy())
    assert delays == [30, 180, 600, 1800, 7200, 28800]
    assert len(delays) + 1 == 7
    assert sum(delays) == sum(DEFAULT_SCHEDULE) == 38_610 == 10 * 3600 + 43 * 60 + 30


def test_default_schedule_ignores_max_retries_delay_and_deadline() -> None:
    policy = RetryPolicy(DEFAULT_STRATEGY_TYPE, max_retries=1, retry_delay=5, deadline=10)
    assert planned_delays(policy, try_duration=15) == list(DEFAULT_SCHEDULE)


def test_default_schedule_step_by_step() -> None:
    policy = RetryPolicy()
    assert next_retry_delay(policy, 0, first_try_at=0, failed_at=1) == 30
    assert next_retry_delay(policy, 5, first_try_at=0, failed_at=1) == 28800
    assert next_retry_delay(policy, 6, first_try_at=0, failed_at=1) is None


def test_exponential_backoff_defaults_to_three_retries() -> None:
    assert planned_delays(RetryPolicy(EXPONENTIAL_BACKOFF)) == [2, 4, 8]
    assert planned_delays(RetryPolicy(EXPONENTIAL_BACKOFF, max_retries=-1)) == [2, 4, 8]


def test_exponential_backoff_caps_at_one_hour() -> None:
    delays = planned_delays(RetryPolicy(EXPONENTIAL_BACKOFF, max_retries=14))
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600]


def test_exponential_backoff_large_retry_count() -> None:
    policy = RetryPolicy(EXPONENTIAL_BACKOFF, max_retries=10**9)
    assert next_retry_delay(policy, 10**6, first_try_at=0, failed_at=0) == 3600


def test_exponential_backoff_ignores_deadline() -> None:
    policy = RetryPolicy(EXPONENTIAL_BACKOFF, max_retries=5, deadline=1)
    assert planned_delays(policy, try_duration=100) == [2, 4, 8, 16, 32]


def test_exponential_backoff_with_deadline_cut_off() -> None:
    policy = RetryPolicy(EXPONENTIAL_BACKOFF_WITH_DEADLINE, max_retries=10, deadline=60)
    # Tries start at 0, 2, 6, 14, 30; the next would start at 62 > 60.
    assert planned_delays(policy) == [2, 4, 8, 16]
    # A try that fails exactly on the deadline boundary is still retried.
    assert next_retry_delay(policy, 0, first_try_at=100, failed_at=158) == 2
    assert next_retry_delay(policy, 0, first_try_at=100, failed_at=158.5) is None


def test_exponential_backoff_with_deadline_counts_try_duration() -> None:
    policy = RetryPolicy(EXPONENTIAL_BACKOFF_WITH_DEADLINE, max_retries=10, deadline=60)
    # Tries start at 0, 12, 26, 44; the next would start at 72 > 60.
    assert planned_delays(policy, try_duration=10) == [2, 4, 8]


def test_with_deadline_zero_means_no_deadline() -> None:
    policy = RetryPolicy(EXPONENTIAL_BACKOFF_WITH_DEADLINE)
    assert planned_delays(policy, try_duration=10**6) == [2, 4, 8]
    fixed = RetryPolicy(FIXED_WAIT_WITH_DEADLINE, retry_delay=10**6)
    assert planned_delays(fixed) == [10**6] * 3


def test_fixed_wait() -> None:
    assert planned_delays(RetryPolicy(FIXED_WAIT, retry_delay=60)) == [60, 60, 60]
    assert planned_delays(RetryPolicy(FIXED_WAIT, max_retries=5, retry_delay=7)) == [7] * 5


def test_fixed_wait_zero_delay_retries_at_once() -> None:
    assert planned_delays(RetryPolicy(FIXED_WAIT, max_retries=2)) == [0, 0]
    assert next_retry_delay(RetryPolicy(FIXED_WAIT), 2, first_try_at=0, failed_at=5) == 0
    assert next_retry_delay(RetryPolicy(FIXED_WAIT), 3, first_try_at=0, failed_at=5) is None


def test_fixed_wait_ignores_deadline() -> None:
    policy = RetryPolicy(FIXED_WAIT, max_retries=4, retry_delay=100, deadline=50)
    assert planned_delays(policy) == [100] * 4


def test_fixed_wait_with_deadline_cut_off() -> None:
    policy = RetryPolicy(FIXED_WAIT_WITH_DEADLINE, max_retries=10, retry_delay=60, deadline=200)
    # Tries start at 0, 60, 120, 180; the next would start at 240 > 200.
    assert planned_delays(policy) == [60, 60, 60]
    # The retry landing exactly on the deadline is allowed.
    exact = RetryPolicy(FIXED_WAIT_WITH_DEADLINE, max_retries=10, retry_delay=50, deadline=200)
    assert planned_delays(exact) == [50, 50, 50, 50]


def test_delays_are_floats() -> None:
    delay = next_retry_delay(RetryPolicy(FIXED_WAIT, retry_delay=3), 0, first_try_at=0, failed_at=0)
    assert isinstance(delay, float)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="unknown retry strategy"):
        next_retry_delay(RetryPolicy("linear"), 0, first_try_at=0, failed_at=0)
    with pytest.raises(ValueError, match="failed_retry_count"):
        next_retry_delay(RetryPolicy(), -1, first_try_at=0, failed_at=0)
