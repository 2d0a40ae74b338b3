"""RFC 3339 timestamps as production writes them: UTC, whole seconds, ``+00:00``."""

from __future__ import annotations

from datetime import datetime, timezone


def format_timestamp(unix_seconds: float) -> str:
    """``2022-10-29T03:20:14+00:00`` for a unix time (fractions are dropped)."""
    return datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc).isoformat()


def format_optional(unix_seconds: float | None) -> str | None:
    """As ``format_timestamp``, passing None through."""
    return None if unix_seconds is None else format_timestamp(unix_seconds)


def parse_timestamp(text: str) -> float:
    """Unix seconds from an RFC 3339 / ISO 8601 date-time; a naive one is taken as UTC.

    Raises ValueError when the text does not parse.
    """
    value = text.strip()
    if not value or len(value) > 64:
        raise ValueError("not a date-time")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
