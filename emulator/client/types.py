"""The JSON the API returns, typed, and the numeric codes delivery attempts carry.

Results are plain dicts with the wire's snake_case keys; these ``TypedDict``\\ s only describe
them. ``AttemptStatus``/``TriggerType`` and their ``*_NAMES`` belong to the client, not the
server: the SDK imports nothing server-side, and tests pin them to the server's values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import IntEnum
from typing import Any, Final, TypedDict


class AttemptStatus(IntEnum):
    """A delivery attempt's ``status`` (the wire sends it as a string: ``"3"``)."""

    SUCCESS = 0
    PENDING = 1
    SENDING = 2
    FAIL = 3


class TriggerType(IntEnum):
    """Who started a delivery attempt: the system (publish, retries) or a person (retry,
    recover); the wire sends it as a string."""

    SYSTEM = 0
    MANUAL = 1


ATTEMPT_STATUS_NAMES: Final[dict[int, str]] = {
    0: "success",
    1: "pending",
    2: "sending",
    3: "failed",
}
"""What to show for an attempt's ``status``: ``ATTEMPT_STATUS_NAMES[int(attempt["status"])]``."""

TRIGGER_TYPE_NAMES: Final[dict[int, str]] = {0: "system", 1: "manual"}
"""What to show for an attempt's ``trigger_type``."""


def readable_code(code: object, names: Mapping[int, str]) -> str:
    """A numeric code of the API (``"0"`` or ``0``) with its name: ``success (0)``; a code
    without a name comes back as it is."""
    try:
        name = names[int(str(code))]
    except (KeyError, ValueError):
        return str(code)
    return f"{name} ({code})"


class RetryStrategy(TypedDict):
    """An application's retry strategy, as the API returns it."""

    type: str
    max_retries: int
    retry_delay: int
    deadline: int


class Application(TypedDict):
    """An application (``GET /v1/application/{app_id}``)."""

    uid: str
    name: str
    rate_limit: int
    retry_strategy: RetryStrategy
    created_at: str
    updated_at: str


class EndpointHeaders(TypedDict):
    """An endpoint's public headers and whether it has sensitive ones (never shown)."""

    headers: dict[str, str]
    sensitive: bool


class Endpoint(TypedDict):
    """An endpoint of an application; its secret is never part of it."""

    uid: str
    url: str
    version: str
    description: str | None
    filter_types: list[str]
    topics: list[str]
    active: bool
    rate_limit: int | None
    headers: EndpointHeaders
    created_at: str
    updated_at: str


class Event(TypedDict):
    """A published event."""

    uid: str
    event_type: str
    version: str
    topics: list[str]
    payload: dict[str, Any]
    retention_period: int
    created_at: str


class DeliveryAttempt(TypedDict):
    """One HTTP try of delivering an event to an endpoint.

    ``status`` ("0" success, "1" pending, "2" sending, "3" fail) and ``trigger_type``
    ("0" system, "1" manual) are strings, as production sends them; see
    ``ATTEMPT_STATUS_NAMES`` and ``TRIGGER_TYPE_NAMES``.
    """

    id: str
    event_id: str
    endpoint_id: str
    response: str | None
    response_status_code: int
    status: str
    trigger_type: str
    retry_count: int
    attempted_at: str | None


class AttemptDetail(DeliveryAttempt):
    """An attempt as the control API shows it: the wire form plus what only the emulator
    knows (sensitive request header values are redacted)."""

    scheduled_at: str
    endpoint_url: str | None
    request_headers: dict[str, str] | None
    response_headers: dict[str, str] | None
    duration_ms: float | None
    chaos: dict[str, Any] | None  # what delivery chaos injected into this try, if anything
    app_id: str | None
    payload: dict[str, Any] | None


class ClockState(TypedDict):
    """The emulator clock: now, its speed and when the next try is due (emulated time)."""

    now: str
    unix: float
    time_scale: float
    next_due: str | None
    next_due_unix: float | None


class ClockUpdate(ClockState):
    """The clock after a change; ``settled`` says whether everything due ran in time."""

    settled: bool


class Health(TypedDict):
    """``GET /_emulator/health``."""

    status: str
    version: str
    in_memory: bool
    data_dir: str | None
    clock: ClockState
    counts: dict[str, int]
    deliveries: int


class EmulatorEnvironment(TypedDict):
    """One API key's environment (``GET /_emulator/environments``)."""

    id: str
    api_key: str
    created_at: str
    applications: list[str]


class Change(TypedDict):
    """One stored change from the stream: ``kind`` (application, endpoint, event, attempt),
    ``action`` (created, updated, deleted), the environment id and the record's data."""

    id: int
    kind: str
    action: str
    env: str
    data: dict[str, Any]


class ListParams(TypedDict, total=False):
    """Query parameters of the list operations (None values are left out).

    ``before``/``after`` take a datetime (naive ones are UTC) or an RFC 3339 string;
    ``event_types``/``topics`` are sent as repeated keys; ``status`` (0-3) and
    ``response_status_code`` (0, 200, 300, 400, 500) filter delivery attempts.
    """

    limit: int | None
    starting_after: str | None
    ending_before: str | None
    before: datetime | str | None
    after: datetime | str | None
    event_types: Sequence[str] | None
    topics: Sequence[str] | None
    status: int | None
    response_status_code: int | None


class PageBody(TypedDict):
    """A list answer: one page of items and whether more follow."""

    # Not generic: generic TypedDicts need Python 3.11.
    data: list[Any]
    has_more: bool
