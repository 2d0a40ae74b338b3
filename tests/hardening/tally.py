"""Counts the hardening tests report at the end of the run (``conftest.py`` prints them).

Each test adds what it did: schemathesis cases run, hostile inputs tried, crash rounds
survived, events checked, and whether "nothing lost" was verified.
"""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()
NOTES: dict[str, str] = {}


def add(name: str, amount: int = 1) -> None:
    COUNTS[name] += amount


def note(name: str, text: str) -> None:
    NOTES[name] = text
