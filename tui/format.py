"""How values look on screen: times, durations, status marks. Pure functions."""

from __future__ import annotations

from datetime import datetime, tzinfo

from tui.records import DeliveryState

MARKS: dict[DeliveryState, tuple[str, str]] = {
    DeliveryState.DELIVERED: ("✓", "green"),
    DeliveryState.FAILED: ("✗", "red"),
    DeliveryState.RETRYING: ("↻", "yellow"),
    DeliveryState.SENDING: ("…", "cyan"),
    DeliveryState.QUEUED: ("•", "dim"),
}
"""Glyph and colour of each delivery state."""


def clock_time(unix: float | None, tz: tzinfo | None) -> str:
    """``12:00:01`` (local time unless ``tz`` is given); "-" for None."""
    if unix is None:
        return "-"
    return datetime.fromtimestamp(unix, tz=tz).strftime("%H:%M:%S")


def full_time(unix: float | None, tz: tzinfo | None) -> str:
    """``2024-05-01 12:00:01 +0000``; "-" for None."""
    if unix is None:
        return "-"
    return datetime.fromtimestamp(unix, tz=tz).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")


def duration(seconds: float) -> str:
    """``45s``, ``3m 20s``, ``2h 30m``, ``3d 4h``; negative values get a minus sign."""
    sign = "-" if seconds < 0 else ""
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h" if hours else f"{days}d"
    elif hours:
        text = f"{hours}h {minutes}m" if minutes else f"{hours}h"
    elif minutes:
        text = f"{minutes}m {secs}s" if secs else f"{minutes}m"
    else:
        text = f"{secs}s"
    return sign + text


def latency(ms: float | None) -> str:
    """``12 ms``, ``1.4 s``; "-" when unknown."""
    if ms is None:
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms"


def http_code(code: int) -> str:
    """The HTTP status, or "-" when no answer came (0)."""
    return str(code) if code else "-"


def code_style(code: int) -> str:
    """A colour for an HTTP status."""
    if not code:
        return "dim"
    if 200 <= code < 300:
        return "green"
    if code >= 500:
        return "red"
    return "yellow"


def percent(rate: float | None) -> str:
    """``95%`` or ``--`` when nothing was delivered yet."""
    return "--" if rate is None else f"{rate * 100:.0f}%"


def short(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
