"""Which endpoints an event is delivered to.

All comparisons are case-sensitive, as in SimplyQ production.
"""

from __future__ import annotations

from collections.abc import Sequence

LATEST = "latest"


def routes_to(
    *,
    active: bool,
    filter_types: Sequence[str] | None,
    endpoint_topics: Sequence[str] | None,
    endpoint_version: str | None,
    event_type: str,
    event_version: str | None,
    event_topics: Sequence[str] | None,
) -> bool:
    """Return True when an event should be delivered to an endpoint.

    The endpoint must be active; its event-type filter (if any) must contain
    the event type; its topics (if any) must share at least one topic with the
    event (an event without topics never reaches an endpoint with topics); and
    its version must be unset/"latest" or equal the event's version (an event
    without a version counts as "latest").
    """
    if not active:
        return False
    if filter_types and event_type not in filter_types:
        return False
    if endpoint_topics and not set(endpoint_topics).intersection(event_topics or ()):
        return False
    if endpoint_version and endpoint_version != LATEST:
        return endpoint_version == (event_version or LATEST)
    return True
