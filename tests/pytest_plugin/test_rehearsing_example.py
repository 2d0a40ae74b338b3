"""docs/rehearsing.md's worked example runs as a test (so it cannot rot), and the same test with
a handler that is not idempotent fails, the same way for the same seed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pytest_plugin.conftest import RunInner

PAGE = Path(__file__).resolve().parents[2] / "docs" / "rehearsing.md"
NAIVE_HANDLER = """
def ship_orders(deliveries, shipped):
    for delivery in deliveries:
        order = delivery.json["order_id"]
        shipped[order] = shipped.get(order, 0) + 1
"""


def example() -> str:
    (block,) = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), re.MULTILINE | re.DOTALL)
    return str(block)


def test_the_worked_example_passes(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile(test_rehearsing=example())
    run_inner("-p", "no:randomly").assert_outcomes(passed=1)


def test_a_handler_that_is_not_idempotent_fails_the_same_way_each_run(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    source = re.sub(
        r"^def ship_orders.*?(?=^def test_)",
        NAIVE_HANDLER.lstrip() + "\n\n",
        example(),
        flags=re.MULTILINE | re.DOTALL,
    )
    assert "if order not in shipped" not in source
    pytester.makepyfile(test_naive=source)
    failures = []
    for _ in range(2):
        result = run_inner("-p", "no:randomly")
        result.assert_outcomes(failed=1)
        failures.append([line for line in result.outlines if line.startswith("E  ")])
    assert failures[0] == failures[1]
    assert any("assert {0: " in line for line in failures[0])
