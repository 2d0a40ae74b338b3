"""RFC 3339 timestamps as production writes them: UTC, whole seconds, ``+00:00``."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone

# RFC 3339's date-time (ASCII digits; "T" or a space; fractions; an offset, which may be left out:
# a time without one is taken as UTC).
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def format_timestamp(unix_seconds: float) -> str:
    """``2022-10-29T03:20:14+00:00`` for a unix time (fractions are dropped)."""
    return _format_second(int(unix_seconds))


# Records made in the same second share the text: building a datetime for each was 4% of a
# publish. A few seconds, not thousands: with a fast clock (time_scale) every emulated second
# is new, and a 4,096-entry cache held texts a long run never asked for again.
@functools.lru_cache(maxsize=64)
def _format_second(second: int) -> str:
    return datetime.fromtimestamp(second, tz=timezone.utc).isoformat()


def format_optional(unix_seconds: float | None) -> str | None:
    """As ``format_timestamp``, passing None through."""
    return None if unix_seconds is None else format_timestamp(unix_seconds)


def parse_timestamp(text: str) -> float:
    """Unix seconds from an RFC 3339 / ISO 8601 date-time; a naive one is taken as UTC.

    Raises ValueError when the text does not parse.
    """
    value = text.strip()
    if not RFC3339.fullmatch(value):
        # fromisoformat alone would also take dates without a time, week dates ("2022-W01-1"),
        # basic forms ("20221029T032014Z") and a trailing NUL.
        raise ValueError("not an RFC 3339 date-time")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
