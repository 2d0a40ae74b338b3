"""Prints what the hardening tests did (cases, inputs, rounds, events) after the run."""

from __future__ import annotations

import pytest

from tests.hardening import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not tally.COUNTS and not tally.NOTES:
        return
    terminalreporter.section("hardening")
    for name, count in sorted(tally.COUNTS.items()):
        terminalreporter.write_line(f"{name}: {count}")
    for name, text in sorted(tally.NOTES.items()):
        terminalreporter.write_line(f"{name}: {text}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes more than a minute (still part of every run, CI included)"
    )
