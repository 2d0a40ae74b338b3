"""A typed Python client of the SimplyQ API and of the emulator's control API.

SimplyQ shipped clients for other languages; this is the Python one it never shipped. It is
shaped like the official Ruby client (``client.applications.create(...)``,
``client.endpoints.list(app)``, ``client.events.retry(app, endpoint, event)``) and stays thin:
request bodies are plain dicts with the wire's snake_case keys, and results are the JSON the
API returned, typed with ``TypedDict``\\ s.

    with SimplyQ("sk_test_1", base_url=server.url) as client:
        client.applications.create({"uid": "app-1", "name": "My app"})
        client.endpoints.create("app-1", {"uid": "ep-1", "url": "http://127.0.0.1:9000/hook"})
        client.events.create("app-1", {"event_type": "user.created", "payload": {"id": 1}})
        client.emulator.run_until_idle()
        for attempt in client.events.list("app-1"):  # follows every page
            ...

``AsyncSimplyQ`` is the same over ``httpx.AsyncClient``: every method is awaited, list pages
are iterated with ``async for``. Receivers check deliveries with ``construct_event`` or
``verify_signature``.

Structure: each operation is described once, as a ``_Request`` (method, path, query, body and
how to read the answer), by the ``_*Requests`` base classes. The sync and async resource
classes only hand those descriptions to an executor (``_SyncExecutor``/``_AsyncExecutor``),
which share everything except the I/O call itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeAlias, TypedDict, TypeVar
from urllib.parse import quote

import httpx

from emulator import __version__
from emulator.models import AttemptStatus, TriggerType
from emulator.signing import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify,
)

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "APIConnectionError",
    "APITimeoutError",
    "Application",
    "AsyncChangeStream",
    "AsyncEmulatorControl",
    "AsyncPage",
    "AsyncSimplyQ",
    "AttemptDetail",
    "AttemptStatus",
    "AuthenticationError",
    "BadRequestError",
    "Change",
    "ChangeStream",
    "ClockState",
    "ConflictError",
    "DeliveryAttempt",
    "EmulatorControl",
    "EmulatorEnvironment",
    "Endpoint",
    "EndpointHeaders",
    "Event",
    "FieldError",
    "Health",
    "ListParams",
    "NotFoundError",
    "Page",
    "RateLimitError",
    "RetryStrategy",
    "SimplyQ",
    "SimplyQError",
    "TriggerType",
    "ValidationError",
    "WebhookHeaders",
    "WebhookVerificationError",
    "construct_event",
    "verify_signature",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
DEFAULT_TIMEOUT = 10.0
# Auto-paging stops with an error past this many pages: a server that always answers
# ``has_more: true`` must not make a loop run forever.
MAX_PAGES = 10_000
# What the control API waits by default for due deliveries to finish (control.SETTLE_TIMEOUT).
SERVER_SETTLE_TIMEOUT = 10.0
USER_AGENT = f"simplyq-python/{__version__} (simplyq-emulator)"

T = TypeVar("T")


# ====================================================================== wire types
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
    ("0" system, "1" manual) are strings, as production sends them.
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


class _PageBody(TypedDict):
    # Not generic: generic TypedDicts need Python 3.11.
    data: list[Any]
    has_more: bool


# ====================================================================== errors
class FieldError(NamedTuple):
    """One entry of a 422 answer: the field and what is wrong with it."""

    field: str
    error: str


class SimplyQError(Exception):
    """Base of every error of this client.

    ``status_code`` is the HTTP status (None when no answer came), ``message`` the server's
    ``error`` text (or a summary), ``body`` the parsed JSON body (text when not JSON, None when
    empty), ``errors`` the field errors of a 422 and ``field`` the field a 400 names, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: object = None,
        errors: Sequence[FieldError] = (),
        field: str | None = None,
        headers: httpx.Headers | None = None,
        request: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.body = body
        self.errors: list[FieldError] = list(errors)
        self.field = field
        self.headers = headers if headers is not None else httpx.Headers()
        self.request = request
        shown = message if status_code is None else f"{status_code}: {message}"
        super().__init__(f"{shown} ({request})" if request else shown)


class APIConnectionError(SimplyQError):
    """The emulator could not be reached (not running, wrong URL, connection dropped)."""


class APITimeoutError(APIConnectionError):
    """The emulator did not answer within the client's timeout."""


class BadRequestError(SimplyQError):
    """400: the body is not JSON or has a field of the wrong JSON type (see ``field``)."""


class AuthenticationError(SimplyQError):
    """401: the API key is missing, empty, or not one the emulator was started with."""


class NotFoundError(SimplyQError):
    """404: the resource or one of its parents does not exist."""


class ConflictError(SimplyQError):
    """409: a rename to a uid that is already taken."""


class ValidationError(SimplyQError):
    """422: invalid values; ``errors`` lists ``(field, error)`` pairs, one per bad field."""


class RateLimitError(SimplyQError):
    """429: too many requests for this API key in the current second."""


_ERROR_CLASSES: dict[int, type[SimplyQError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def _error_from(response: httpx.Response, request: str) -> SimplyQError:
    """The exception for an answer with an error status."""
    body: object = None
    if response.content:
        try:
            body = response.json()
        except ValueError:
            body = response.text
    message, field, errors = "", None, []
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        for entry in body.get("errors") or ():
            if isinstance(entry, dict):
                errors.append(FieldError(str(entry.get("field")), str(entry.get("error"))))
    elif isinstance(body, str):
        message = body.strip()[:500]
    # The emulator names a 400's field in its hint header: "field `since`: ...".
    hint = response.headers.get("x-emulator-hint", "")
    if response.status_code == 400 and hint.startswith("field `"):
        field = hint[len("field `") :].partition("`")[0] or None
    if not message:
        if errors:
            message = "; ".join(f"{e.field}: {e.error}" for e in errors)
        elif response.status_code == 401:
            message = "unauthorized: the API key is missing or not accepted"
        else:
            message = response.reason_phrase or "error"
    cls = _ERROR_CLASSES.get(response.status_code, SimplyQError)
    return cls(
        message,
        status_code=response.status_code,
        body=body,
        errors=errors,
        field=field,
        headers=response.headers,
        request=request,
    )


# ====================================================================== request descriptions
def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise SimplyQError(
            f"expected a JSON answer, got {response.text[:200]!r}",
            status_code=response.status_code,
            body=response.text,
        ) from None


def _nothing(response: httpx.Response) -> None:
    return None


def _secret_key(response: httpx.Response) -> str:
    key = _json(response).get("key")
    if not isinstance(key, str):
        raise SimplyQError("the secret answer has no key", status_code=response.status_code)
    return key


def _unwrap_data(response: httpx.Response) -> Any:
    return _json(response)["data"]


@dataclass(frozen=True)
class _Request(Generic[T]):
    """One HTTP call, described without doing it: what to send and how to read the answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    json: object = None  # None: no body
    timeout: float | None = None  # None: the client's

    def describe(self) -> str:
        return f"{self.method} {self.path}"


def _segment(value: str) -> str:
    """A path segment, percent-encoded (uids are letters, digits, ``-``, ``_`` and ``.``)."""
    if not isinstance(value, str):
        raise TypeError(f"ids are strings, got {type(value).__name__}")
    if not value:
        raise ValueError("an id cannot be empty")
    if value in {".", ".."}:
        # Valid uids, but URL normalisation would drop them as dot segments.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def _path(*parts: str) -> str:
    """``/v1/application/{app}/...`` with each odd part (an id) encoded."""
    return "/v1/" + "/".join(p if i % 2 == 0 else _segment(p) for i, p in enumerate(parts))


def _format_time(value: object) -> str:
    """RFC 3339 for a datetime (naive ones are taken as UTC); strings pass through."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or an RFC 3339 string, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def _format_int(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    return str(int(value)) if isinstance(value, int) else value


_LIST_PARAMS = frozenset(ListParams.__annotations__)
_CURSORS = ("starting_after", "ending_before")


def _encode_params(params: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """List parameters as query pairs: arrays as repeated keys, datetimes as RFC 3339."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if name not in _LIST_PARAMS:
            raise TypeError(f"unknown list parameter {name!r}; known: {sorted(_LIST_PARAMS)}")
        if value is None:
            continue
        if name in {"event_types", "topics"}:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, Sequence) or not all(isinstance(i, str) for i in items):
                raise TypeError(f"{name} must be a sequence of strings, got {value!r}")
            pairs.extend((name, item) for item in items)
        elif name in {"before", "after"}:
            pairs.append((name, _format_time(value)))
        elif name in {"limit", "status", "response_status_code"}:
            pairs.append((name, _format_int(name, value)))
        else:
            pairs.append((name, str(value)))
    return tuple(pairs)


@dataclass(frozen=True)
class _Listing(Generic[T]):
    """A list operation and where its pages are: the first request and how to get the next.

    Paging forward (the default) follows ``starting_after`` = the last item's cursor field;
    a listing that started with ``ending_before`` pages backward from the first item.
    """

    path: str
    params: Mapping[str, object]
    cursor_field: str  # "uid", or "id" for delivery attempts
    pages_fetched: int = 0

    @property
    def backward(self) -> bool:
        return self.params.get("ending_before") is not None

    def request(self) -> _Request[_PageBody]:
        return _Request("GET", self.path, _json, _encode_params(self.params))

    def following(self, data: Sequence[T], has_more: bool, max_pages: int) -> _Listing[T] | None:
        """The listing of the next page, or None when this was the last one."""
        if not has_more or not data:
            return None
        item: Any = data[0] if self.backward else data[-1]
        cursor = item[self.cursor_field]
        direction = "ending_before" if self.backward else "starting_after"
        if cursor == self.params.get(direction):
            raise SimplyQError(f"pagination of {self.path} did not advance past {cursor!r}")
        if self.pages_fetched + 1 >= max_pages:
            raise SimplyQError(f"pagination of {self.path} did not end after {max_pages} pages")
        params = {k: v for k, v in self.params.items() if k not in _CURSORS}
        params[direction] = cursor
        return replace(self, params=params, pages_fetched=self.pages_fetched + 1)


class _BasePage(Generic[T]):
    """One page of a list: ``data``, ``has_more`` and the whole answer as ``raw``."""

    def __init__(self, listing: _Listing[T], body: _PageBody, max_pages: int) -> None:
        self.data: list[T] = list(body["data"])
        self.has_more: bool = bool(body["has_more"])
        # The application list also carries "done" (= not has_more).
        self.raw: dict[str, Any] = dict(body)
        self._listing = listing
        self._max_pages = max_pages

    def _in_order(self) -> list[T]:
        # Paging backward goes from newer to older pages: yield newest first throughout.
        return list(reversed(self.data)) if self._listing.backward else self.data

    def _next_listing(self) -> _Listing[T] | None:
        return self._listing.following(self.data, self.has_more, self._max_pages)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data=<{len(self.data)} items>, has_more={self.has_more})"


# ---------------------------------------------------------------------- resources (requests)
def _body(data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict, got {type(data).__name__}")
    return dict(data)


class _ApplicationRequests:
    """``/v1/application``: the requests, shared by the sync and async resources."""

    @staticmethod
    def _list(params: Mapping[str, object]) -> _Listing[Application]:
        return _Listing("/v1/application", dict(params), "uid")

    @staticmethod
    def _create(data: Mapping[str, Any]) -> _Request[Application]:
        return _Request("POST", "/v1/application", _json, json=_body(data))

    @staticmethod
    def _retrieve(app: str) -> _Request[Application]:
        return _Request("GET", _path("application", app), _json)

    @staticmethod
    def _update(app: str, data: Mapping[str, Any]) -> _Request[Application]:
        return _Request("PUT", _path("application", app), _json, json=_body(data))

    @staticmethod
    def _delete(app: str) -> _Request[None]:
        return _Request("DELETE", _path("application", app), _nothing)


class _EndpointRequests:
    """``/v1/application/{app}/endpoint``: the requests."""

    @staticmethod
    def _list(app: str, params: Mapping[str, object]) -> _Listing[Endpoint]:
        return _Listing(_path("application", app, "endpoint"), dict(params), "uid")

    @staticmethod
    def _create(app: str, data: Mapping[str, Any]) -> _Request[Endpoint]:
        return _Request("POST", _path("application", app, "endpoint"), _json, json=_body(data))

    @staticmethod
    def _retrieve(app: str, endpoint: str) -> _Request[Endpoint]:
        return _Request("GET", _path("application", app, "endpoint", endpoint), _json)

    @staticmethod
    def _update(app: str, endpoint: str, data: Mapping[str, Any]) -> _Request[Endpoint]:
        path = _path("application", app, "endpoint", endpoint)
        return _Request("PUT", path, _json, json=_body(data))

    @staticmethod
    def _delete(app: str, endpoint: str) -> _Request[None]:
        return _Request("DELETE", _path("application", app, "endpoint", endpoint), _nothing)

    @staticmethod
    def _recover(app: str, endpoint: str, since: datetime | str) -> _Request[None]:
        path = _path("application", app, "endpoint", endpoint, "recover")
        return _Request("POST", path, _nothing, json={"since": _format_time(since)})

    @staticmethod
    def _retrieve_secret(app: str, endpoint: str) -> _Request[str]:
        return _Request(
            "GET", _path("application", app, "endpoint", endpoint, "secret"), _secret_key
        )

    @staticmethod
    def _rotate_secret(app: str, endpoint: str, key: str | None) -> _Request[None]:
        path = _path("application", app, "endpoint", endpoint, "secret")
        return _Request("POST", path, _nothing, json={} if key is None else {"key": key})

    @staticmethod
    def _events(app: str, endpoint: str, params: Mapping[str, object]) -> _Listing[Event]:
        path = _path("application", app, "endpoint", endpoint, "event")
        return _Listing(path, dict(params), "uid")

    @staticmethod
    def _delivery_attempts(
        app: str, endpoint: str, params: Mapping[str, object]
    ) -> _Listing[DeliveryAttempt]:
        path = _path("application", app, "endpoint", endpoint, "delivery_attempt")
        return _Listing(path, dict(params), "id")


class _EventRequests:
    """``/v1/application/{app}/event``: the requests."""

    @staticmethod
    def _list(app: str, params: Mapping[str, object]) -> _Listing[Event]:
        return _Listing(_path("application", app, "event"), dict(params), "uid")

    @staticmethod
    def _create(app: str, data: Mapping[str, Any]) -> _Request[Event]:
        return _Request("POST", _path("application", app, "event"), _json, json=_body(data))

    @staticmethod
    def _retrieve(app: str, event: str) -> _Request[Event]:
        return _Request("GET", _path("application", app, "event", event), _json)

    @staticmethod
    def _delivery_attempts(
        app: str, event: str, params: Mapping[str, object]
    ) -> _Listing[DeliveryAttempt]:
        path = _path("application", app, "event", event, "delivery_attempt")
        return _Listing(path, dict(params), "id")

    @staticmethod
    def _delivery_attempt(app: str, event: str, attempt: str) -> _Request[DeliveryAttempt]:
        path = _path("application", app, "event", event, "delivery_attempt", attempt)
        return _Request("GET", path, _json)

    @staticmethod
    def _endpoints(app: str, event: str, params: Mapping[str, object]) -> _Listing[Endpoint]:
        path = _path("application", app, "event", event, "endpoint")
        return _Listing(path, dict(params), "uid")

    @staticmethod
    def _retry(app: str, endpoint: str, event: str) -> _Request[None]:
        path = _path("application", app, "endpoint", endpoint, "event", event)
        return _Request("POST", path, _nothing)


def _seconds(value: float | str | timedelta) -> float | str:
    """An ``advance`` value: seconds, a duration text such as ``"1h30m"``, or a timedelta."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected seconds, a duration like '30m' or a timedelta, got {value!r}")
    return value


def _wait_budget(timeout: float | None, client_timeout: float) -> float:
    """An HTTP timeout that outlasts the server's own wait."""
    return max(client_timeout, (timeout or SERVER_SETTLE_TIMEOUT) + 5.0)


class _ControlRequests:
    """``/_emulator/``: the requests of the control API."""

    _api_key: str
    _client_timeout: float

    def _clock_request(self, body: dict[str, Any], timeout: float | None) -> _Request[ClockUpdate]:
        if timeout is not None:
            body["timeout"] = timeout
        return _Request(
            "POST",
            "/_emulator/clock",
            _json,
            json=body,
            timeout=_wait_budget(timeout, self._client_timeout),
        )

    def _health(self) -> _Request[Health]:
        return _Request("GET", "/_emulator/health", _json)

    def _reset(self, api_key: str | None, everything: bool) -> _Request[None]:
        if everything and api_key is not None:
            raise ValueError("give either api_key or all=True, not both")
        body = {} if everything else {"api_key": api_key or self._api_key}
        return _Request("POST", "/_emulator/reset", _nothing, json=body)

    def _clock(self) -> _Request[ClockState]:
        return _Request("GET", "/_emulator/clock", _json)

    def _settle(self, timeout: float | None) -> _Request[ClockUpdate]:
        return self._clock_request({}, timeout)

    def _advance(self, by: float | str | timedelta, timeout: float | None) -> _Request[ClockUpdate]:
        return self._clock_request({"advance": _seconds(by)}, timeout)

    def _advance_to_next_due(self, timeout: float | None) -> _Request[ClockUpdate]:
        return self._clock_request({"to_next_due": True}, timeout)

    def _run_until_idle(self, timeout: float) -> _Request[ClockUpdate]:
        return self._clock_request({"run_until_idle": True}, timeout)

    def _set_time_scale(self, time_scale: float) -> _Request[ClockUpdate]:
        return self._clock_request({"time_scale": time_scale}, None)

    def _environments(self) -> _Request[list[EmulatorEnvironment]]:
        return _Request("GET", "/_emulator/environments", _unwrap_data)

    def _attempt_detail(self, attempt_id: str) -> _Request[AttemptDetail]:
        return _Request("GET", f"/_emulator/attempts/{_segment(attempt_id)}", _json)


# ====================================================================== server-sent events
class _ChangeParser:
    """Turns the stream's lines into changes (the subset of SSE the emulator sends)."""

    def __init__(self) -> None:
        self._id = ""
        self._data: list[str] = []

    def feed(self, line: str) -> Change | None:
        """Take one line; returns a change when the line ends one."""
        if line == "":
            data, self._data = self._data, []
            if not data:
                return None
            parsed = json.loads("\n".join(data))
            change: Change = {
                "id": int(self._id) if self._id.isdigit() else 0,
                "kind": parsed["kind"],
                "action": parsed["action"],
                "env": parsed["env"],
                "data": parsed["data"],
            }
            return change
        if line.startswith(":"):
            return None  # a comment: the greeting or a keep-alive ping
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


class _StreamState:
    """What the sync and async streams share: the request, parsing and the idle timeout."""

    def __init__(self, executor: _Executor, idle_timeout: float | None) -> None:
        self._executor = executor
        self._idle_timeout = idle_timeout
        self._parser = _ChangeParser()
        self._last_change = time.monotonic()
        self._done = False

    def _build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        timeout = httpx.Timeout(self._executor.timeout, read=self._idle_timeout)
        return http.build_request(
            "GET",
            "/_emulator/stream",
            params={"api_key": self._executor.api_key},
            headers={"Accept": "text/event-stream"},
            timeout=timeout,
        )

    def _take(self, line: str) -> Change | None:
        """Parse one line; raises ``_Idle`` when no change came within the timeout."""
        change = self._parser.feed(line)
        now = time.monotonic()
        if change is not None:
            self._last_change = now
        elif self._idle_timeout is not None and now - self._last_change >= self._idle_timeout:
            raise _Idle()
        return change


class _Idle(Exception):
    """No change arrived within the stream's timeout."""


_STREAM_REQUEST = "GET /_emulator/stream"


class ChangeStream(_StreamState):
    """The emulator's changes for this client's API key, as an iterator of ``Change`` dicts.

    It connects on ``with`` (or on the first ``next``): use ``with`` to be sure the stream is
    subscribed before you cause the changes you wait for. Iteration ends when no change came
    for ``timeout`` seconds (None: never; keep-alive pings every 15 s are not changes, so a
    longer timeout can overrun by up to one ping interval) or after ``close()``.
    """

    def __init__(self, executor: _SyncExecutor, timeout: float | None) -> None:
        super().__init__(executor, timeout)
        self._sync = executor
        self._response: httpx.Response | None = None
        self._lines: Iterator[str] | None = None

    def connect(self) -> Self:
        """Open the stream (once); returns when the emulator has subscribed it."""
        if self._response is None and not self._done:
            request = self._build(self._sync.http)
            try:
                response = self._sync.http.send(request, stream=True)
            except httpx.TransportError as error:
                raise self._executor.connection_error(error, _STREAM_REQUEST) from error
            if response.status_code >= 400:
                response.read()
                response.close()
                raise _error_from(response, _STREAM_REQUEST)
            self._response, self._lines = response, response.iter_lines()
        return self

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Change:
        self.connect()
        while not self._done and self._lines is not None:
            try:
                line = next(self._lines)
                change = self._take(line)
            except (StopIteration, httpx.TransportError, _Idle):
                # The end of the stream, the idle timeout, or the emulator going away.
                break
            if change is not None:
                return change
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Disconnect; iteration ends."""
        self._done = True
        if self._response is not None:
            self._response.close()
            self._response = None

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChangeStream(_StreamState):
    """Async twin of ``ChangeStream``: ``async with`` / ``async for`` / ``aclose()``."""

    def __init__(self, executor: _AsyncExecutor, timeout: float | None) -> None:
        super().__init__(executor, timeout)
        self._async = executor
        self._response: httpx.Response | None = None
        self._lines: AsyncIterator[str] | None = None

    async def connect(self) -> Self:
        """Open the stream (once); returns when the emulator has subscribed it."""
        if self._response is None and not self._done:
            request = self._build(self._async.http)
            try:
                response = await self._async.http.send(request, stream=True)
            except httpx.TransportError as error:
                raise self._executor.connection_error(error, _STREAM_REQUEST) from error
            if response.status_code >= 400:
                await response.aread()
                await response.aclose()
                raise _error_from(response, _STREAM_REQUEST)
            self._response, self._lines = response, response.aiter_lines()
        return self

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Change:
        await self.connect()
        while not self._done and self._lines is not None:
            try:
                line = await self._lines.__anext__()
                change = self._take(line)
            except (StopAsyncIteration, httpx.TransportError, _Idle):
                break
            if change is not None:
                return change
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Disconnect; iteration ends."""
        self._done = True
        if self._response is not None:
            await self._response.aclose()
            self._response = None

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# ====================================================================== executors
def _normalize_base_url(base_url: str) -> str:
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class _Executor:
    """Settings and answer handling shared by the sync and async executors."""

    def __init__(self, api_key: str, base_url: str, timeout: float, max_pages: int) -> None:
        if not isinstance(api_key, str):
            raise TypeError("api_key must be a string")
        self.api_key = api_key
        self.base_url = _normalize_base_url(base_url)
        self.timeout = timeout
        self.max_pages = max_pages

    def client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "headers": {
                "Authorization": f"Bearer {self.api_key}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            "timeout": httpx.Timeout(self.timeout),
            "trust_env": False,
        }

    @staticmethod
    def request_options(request: _Request[Any]) -> dict[str, Any]:
        options: dict[str, Any] = {"params": request.params}
        if request.json is not None:
            options["json"] = request.json
        if request.timeout is not None:
            options["timeout"] = request.timeout
        return options

    def connection_error(self, error: httpx.TransportError, request: str) -> APIConnectionError:
        if isinstance(error, httpx.TimeoutException):
            return APITimeoutError(
                f"the SimplyQ emulator at {self.base_url} did not answer in time "
                f"({type(error).__name__})",
                request=request,
            )
        return APIConnectionError(
            f"cannot reach the SimplyQ emulator at {self.base_url} "
            f"({type(error).__name__}: {error}); is it running? "
            "Start it with `simplyq-emulator serve`",
            request=request,
        )

    @staticmethod
    def answer(request: _Request[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise _error_from(response, request.describe())
        return request.parse(response)


class _SyncExecutor(_Executor):
    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: float,
        max_pages: int,
        transport: httpx.BaseTransport | None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_pages)
        self.http = httpx.Client(transport=transport, **self.client_options())

    def run(self, request: _Request[T]) -> T:
        try:
            response = self.http.request(
                request.method, request.path, **self.request_options(request)
            )
        except httpx.TransportError as error:
            raise self.connection_error(error, request.describe()) from error
        return self.answer(request, response)

    def page(self, listing: _Listing[T]) -> Page[T]:
        return Page(self, listing, self.run(listing.request()))


class _AsyncExecutor(_Executor):
    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: float,
        max_pages: int,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_pages)
        self.http = httpx.AsyncClient(transport=transport, **self.client_options())

    async def run(self, request: _Request[T]) -> T:
        try:
            response = await self.http.request(
                request.method, request.path, **self.request_options(request)
            )
        except httpx.TransportError as error:
            raise self.connection_error(error, request.describe()) from error
        return self.answer(request, response)

    async def page(self, listing: _Listing[T]) -> AsyncPage[T]:
        return AsyncPage(self, listing, await self.run(listing.request()))


# ====================================================================== pages
class Page(_BasePage[T]):
    """One page of a list. Iterating it yields the items of this page and of every following
    one (``for event in client.events.list(app)``); ``data`` and ``has_more`` are this page's.

    Each next page starts after the previous page's last item, and the API rejects a cursor
    that no longer exists (422): to delete what you list, collect it first
    (``for app in list(client.applications.list()): ...``).
    """

    def __init__(self, executor: _SyncExecutor, listing: _Listing[T], body: _PageBody):
        super().__init__(listing, body, executor.max_pages)
        self._executor = executor

    def next_page(self) -> Page[T] | None:
        """The following page (older ones when listing with ``ending_before``), or None."""
        listing = self._next_listing()
        return None if listing is None else self._executor.page(listing)

    def auto_paging_iter(self) -> Iterator[T]:
        """Every item of this page and the following pages, fetching them as needed."""
        page: Page[T] | None = self
        while page is not None:
            yield from page._in_order()
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        return self.auto_paging_iter()


class AsyncPage(_BasePage[T]):
    """Async twin of ``Page``: ``async for item in await client.events.list(app)``."""

    def __init__(self, executor: _AsyncExecutor, listing: _Listing[T], body: _PageBody):
        super().__init__(listing, body, executor.max_pages)
        self._executor = executor

    async def next_page(self) -> AsyncPage[T] | None:
        """The following page, or None."""
        listing = self._next_listing()
        return None if listing is None else await self._executor.page(listing)

    async def auto_paging_iter(self) -> AsyncIterator[T]:
        """Every item of this page and the following pages, fetching them as needed."""
        page: AsyncPage[T] | None = self
        while page is not None:
            for item in page._in_order():
                yield item
            page = await page.next_page()

    def __aiter__(self) -> AsyncIterator[T]:
        return self.auto_paging_iter()


# ====================================================================== sync resources
class Applications(_ApplicationRequests):
    """``client.applications``."""

    def __init__(self, executor: _SyncExecutor) -> None:
        self._x = executor

    def list(self, **params: Unpack[ListParams]) -> Page[Application]:
        """List applications, oldest first (GetApplications)."""
        return self._x.page(self._list(params))

    def create(self, data: Mapping[str, Any]) -> Application:
        """Create an application: ``{"name": ..., "uid"?, "rate_limit"?, "retry_strategy"?}``."""
        return self._x.run(self._create(data))

    def retrieve(self, app: str) -> Application:
        """Get an application by uid."""
        return self._x.run(self._retrieve(app))

    def update(self, app: str, data: Mapping[str, Any]) -> Application:
        """Update an application (``name`` is required; a new ``uid`` renames it)."""
        return self._x.run(self._update(app, data))

    def delete(self, app: str) -> None:
        """Delete an application and everything under it."""
        self._x.run(self._delete(app))


class Endpoints(_EndpointRequests):
    """``client.endpoints``."""

    def __init__(self, executor: _SyncExecutor) -> None:
        self._x = executor

    def list(self, app: str, **params: Unpack[ListParams]) -> Page[Endpoint]:
        """List an application's endpoints (GetEndpoints)."""
        return self._x.page(self._list(app, params))

    def create(self, app: str, data: Mapping[str, Any]) -> Endpoint:
        """Create an endpoint: ``{"url": ..., "uid"?, "filter_types"?, "topics"?, ...}``."""
        return self._x.run(self._create(app, data))

    def retrieve(self, app: str, endpoint: str) -> Endpoint:
        """Get an endpoint by uid."""
        return self._x.run(self._retrieve(app, endpoint))

    def update(self, app: str, endpoint: str, data: Mapping[str, Any]) -> Endpoint:
        """Update an endpoint: only the fields given non-null change."""
        return self._x.run(self._update(app, endpoint, data))

    def delete(self, app: str, endpoint: str) -> None:
        """Delete an endpoint, its attempts and its pending tries."""
        self._x.run(self._delete(app, endpoint))

    def recover(self, app: str, endpoint: str, since: datetime | str) -> None:
        """Redeliver every event whose latest attempt to the endpoint failed at or after
        ``since`` (a datetime, naive = UTC, or an RFC 3339 string)."""
        self._x.run(self._recover(app, endpoint, since))

    def retrieve_secret(self, app: str, endpoint: str) -> str:
        """The endpoint's current signing secret."""
        return self._x.run(self._retrieve_secret(app, endpoint))

    def rotate_secret(self, app: str, endpoint: str, key: str | None = None) -> None:
        """Replace the secret with ``key`` (or a generated one); the old one stays valid for
        the grace period."""
        self._x.run(self._rotate_secret(app, endpoint, key))

    def events(self, app: str, endpoint: str, **params: Unpack[ListParams]) -> Page[Event]:
        """The events routed to the endpoint (GetAttemptedEndpoints)."""
        return self._x.page(self._events(app, endpoint, params))

    def delivery_attempts(
        self, app: str, endpoint: str, **params: Unpack[ListParams]
    ) -> Page[DeliveryAttempt]:
        """The endpoint's delivery attempts (GetEndpointDeliveryAttempts)."""
        return self._x.page(self._delivery_attempts(app, endpoint, params))


class Events(_EventRequests):
    """``client.events``."""

    def __init__(self, executor: _SyncExecutor) -> None:
        self._x = executor

    def list(self, app: str, **params: Unpack[ListParams]) -> Page[Event]:
        """List an application's events (GetEvents)."""
        return self._x.page(self._list(app, params))

    def create(self, app: str, data: Mapping[str, Any]) -> Event:
        """Publish an event: ``{"event_type": ..., "payload": {...}, "uid"?, "topics"?, ...}``."""
        return self._x.run(self._create(app, data))

    def retrieve(self, app: str, event: str) -> Event:
        """Get an event by uid."""
        return self._x.run(self._retrieve(app, event))

    def delivery_attempts(
        self, app: str, event: str, **params: Unpack[ListParams]
    ) -> Page[DeliveryAttempt]:
        """The event's delivery attempts, to every endpoint (GetEventDeliveryAttempts)."""
        return self._x.page(self._delivery_attempts(app, event, params))

    def delivery_attempt(self, app: str, event: str, attempt_id: str) -> DeliveryAttempt:
        """One delivery attempt of the event (GetDeliveryAttempt)."""
        return self._x.run(self._delivery_attempt(app, event, attempt_id))

    def endpoints(self, app: str, event: str, **params: Unpack[ListParams]) -> Page[Endpoint]:
        """The existing endpoints the event was routed to (GetEventEndpoints)."""
        return self._x.page(self._endpoints(app, event, params))

    def retry(self, app: str, endpoint: str, event: str) -> None:
        """Deliver the event to the endpoint again, whatever its status (PostEventRetry).

        The argument order is the Ruby client's: application, endpoint, event."""
        self._x.run(self._retry(app, endpoint, event))


class EmulatorControl(_ControlRequests):
    """``client.emulator``: the emulator's own ``/_emulator/`` API (not part of SimplyQ).

    The clock is the emulator's, shared by every environment: moving it moves everyone's.
    """

    def __init__(self, executor: _SyncExecutor) -> None:
        self._x = executor
        self._api_key = executor.api_key
        self._client_timeout = executor.timeout

    def health(self) -> Health:
        """Version, storage, clock and record counts."""
        return self._x.run(self._health())

    def reset(self, api_key: str | None = None, *, all: bool = False) -> None:
        """Delete the data of this client's environment (or of ``api_key``'s); with
        ``all=True``, of every environment."""
        self._x.run(self._reset(api_key, all))

    def clock(self) -> ClockState:
        """The emulator clock."""
        return self._x.run(self._clock())

    def settle(self, *, timeout: float | None = None) -> ClockUpdate:
        """Wait (up to ``timeout`` s, server default 10) until every try due now has run,
        without moving the clock; ``settled`` is False on timeout."""
        return self._x.run(self._settle(timeout))

    def advance(self, by: float | str | timedelta, *, timeout: float | None = None) -> ClockUpdate:
        """Move emulated time forward (seconds, ``"30m"``, ``"1h30m"`` or a timedelta) and wait
        up to ``timeout`` seconds (server default 10) for what became due to be tried."""
        return self._x.run(self._advance(by, timeout))

    def advance_to_next_due(self, *, timeout: float | None = None) -> ClockUpdate:
        """Jump to when the next try is due and wait for it to run."""
        return self._x.run(self._advance_to_next_due(timeout))

    def run_until_idle(self, timeout: float = SERVER_SETTLE_TIMEOUT) -> ClockUpdate:
        """Advance from due try to due try until nothing is scheduled (every retry walked);
        ``settled`` is False when that took longer than ``timeout`` real seconds."""
        return self._x.run(self._run_until_idle(timeout))

    def set_time_scale(self, time_scale: float) -> ClockUpdate:
        """Real seconds per emulated second (0.001: a 30 s retry delay takes 30 ms)."""
        return self._x.run(self._set_time_scale(time_scale))

    def environments(self) -> list[EmulatorEnvironment]:
        """Every environment (API key) the emulator knows."""
        return self._x.run(self._environments())

    def attempt_detail(self, attempt_id: str) -> AttemptDetail:
        """An attempt with what was sent and received (any environment)."""
        return self._x.run(self._attempt_detail(attempt_id))

    def stream(self, timeout: float | None = None) -> ChangeStream:
        """This environment's changes as they happen; see ``ChangeStream``."""
        return ChangeStream(self._x, timeout)


class SimplyQ:
    """The SimplyQ API client (sync).

    ``base_url`` is the server root (a trailing ``/v1`` is dropped); ``transport`` lets tests
    plug in an ``httpx`` transport; ``max_pages`` bounds auto-paging.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._executor = _SyncExecutor(api_key, base_url, timeout, max_pages, transport)
        self.applications = Applications(self._executor)
        self.endpoints = Endpoints(self._executor)
        self.events = Events(self._executor)
        self.emulator = EmulatorControl(self._executor)

    @property
    def api_key(self) -> str:
        """The API key (environment) this client uses."""
        return self._executor.api_key

    @property
    def base_url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:8765``."""
        return self._executor.base_url

    def close(self) -> None:
        """Close the connections."""
        self._executor.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SimplyQ(base_url={self.base_url!r})"


# ====================================================================== async resources
class AsyncApplications(_ApplicationRequests):
    """``client.applications`` of ``AsyncSimplyQ``; see ``Applications``."""

    def __init__(self, executor: _AsyncExecutor) -> None:
        self._x = executor

    async def list(self, **params: Unpack[ListParams]) -> AsyncPage[Application]:
        """List applications."""
        return await self._x.page(self._list(params))

    async def create(self, data: Mapping[str, Any]) -> Application:
        """Create an application."""
        return await self._x.run(self._create(data))

    async def retrieve(self, app: str) -> Application:
        """Get an application."""
        return await self._x.run(self._retrieve(app))

    async def update(self, app: str, data: Mapping[str, Any]) -> Application:
        """Update an application."""
        return await self._x.run(self._update(app, data))

    async def delete(self, app: str) -> None:
        """Delete an application."""
        await self._x.run(self._delete(app))


class AsyncEndpoints(_EndpointRequests):
    """``client.endpoints`` of ``AsyncSimplyQ``; see ``Endpoints``."""

    def __init__(self, executor: _AsyncExecutor) -> None:
        self._x = executor

    async def list(self, app: str, **params: Unpack[ListParams]) -> AsyncPage[Endpoint]:
        """List endpoints."""
        return await self._x.page(self._list(app, params))

    async def create(self, app: str, data: Mapping[str, Any]) -> Endpoint:
        """Create an endpoint."""
        return await self._x.run(self._create(app, data))

    async def retrieve(self, app: str, endpoint: str) -> Endpoint:
        """Get an endpoint."""
        return await self._x.run(self._retrieve(app, endpoint))

    async def update(self, app: str, endpoint: str, data: Mapping[str, Any]) -> Endpoint:
        """Update an endpoint."""
        return await self._x.run(self._update(app, endpoint, data))

    async def delete(self, app: str, endpoint: str) -> None:
        """Delete an endpoint."""
        await self._x.run(self._delete(app, endpoint))

    async def recover(self, app: str, endpoint: str, since: datetime | str) -> None:
        """Redeliver the events that failed since ``since``."""
        await self._x.run(self._recover(app, endpoint, since))

    async def retrieve_secret(self, app: str, endpoint: str) -> str:
        """The endpoint's current signing secret."""
        return await self._x.run(self._retrieve_secret(app, endpoint))

    async def rotate_secret(self, app: str, endpoint: str, key: str | None = None) -> None:
        """Replace the endpoint's secret."""
        await self._x.run(self._rotate_secret(app, endpoint, key))

    async def events(
        self, app: str, endpoint: str, **params: Unpack[ListParams]
    ) -> AsyncPage[Event]:
        """The events routed to the endpoint."""
        return await self._x.page(self._events(app, endpoint, params))

    async def delivery_attempts(
        self, app: str, endpoint: str, **params: Unpack[ListParams]
    ) -> AsyncPage[DeliveryAttempt]:
        """The endpoint's delivery attempts."""
        return await self._x.page(self._delivery_attempts(app, endpoint, params))


class AsyncEvents(_EventRequests):
    """``client.events`` of ``AsyncSimplyQ``; see ``Events``."""

    def __init__(self, executor: _AsyncExecutor) -> None:
        self._x = executor

    async def list(self, app: str, **params: Unpack[ListParams]) -> AsyncPage[Event]:
        """List events."""
        return await self._x.page(self._list(app, params))

    async def create(self, app: str, data: Mapping[str, Any]) -> Event:
        """Publish an event."""
        return await self._x.run(self._create(app, data))

    async def retrieve(self, app: str, event: str) -> Event:
        """Get an event."""
        return await self._x.run(self._retrieve(app, event))

    async def delivery_attempts(
        self, app: str, event: str, **params: Unpack[ListParams]
    ) -> AsyncPage[DeliveryAttempt]:
        """The event's delivery attempts."""
        return await self._x.page(self._delivery_attempts(app, event, params))

    async def delivery_attempt(self, app: str, event: str, attempt_id: str) -> DeliveryAttempt:
        """One delivery attempt of the event."""
        return await self._x.run(self._delivery_attempt(app, event, attempt_id))

    async def endpoints(
        self, app: str, event: str, **params: Unpack[ListParams]
    ) -> AsyncPage[Endpoint]:
        """The endpoints the event was routed to."""
        return await self._x.page(self._endpoints(app, event, params))

    async def retry(self, app: str, endpoint: str, event: str) -> None:
        """Deliver the event to the endpoint again (application, endpoint, event)."""
        await self._x.run(self._retry(app, endpoint, event))


class AsyncEmulatorControl(_ControlRequests):
    """``client.emulator`` of ``AsyncSimplyQ``; see ``EmulatorControl``."""

    def __init__(self, executor: _AsyncExecutor) -> None:
        self._x = executor
        self._api_key = executor.api_key
        self._client_timeout = executor.timeout

    async def health(self) -> Health:
        """Version, storage, clock and record counts."""
        return await self._x.run(self._health())

    async def reset(self, api_key: str | None = None, *, all: bool = False) -> None:
        """Delete this environment's data (or ``api_key``'s, or with ``all=True`` all)."""
        await self._x.run(self._reset(api_key, all))

    async def clock(self) -> ClockState:
        """The emulator clock."""
        return await self._x.run(self._clock())

    async def settle(self, *, timeout: float | None = None) -> ClockUpdate:
        """Wait until every try due now has run, without moving the clock."""
        return await self._x.run(self._settle(timeout))

    async def advance(
        self, by: float | str | timedelta, *, timeout: float | None = None
    ) -> ClockUpdate:
        """Move emulated time forward and wait for what became due."""
        return await self._x.run(self._advance(by, timeout))

    async def advance_to_next_due(self, *, timeout: float | None = None) -> ClockUpdate:
        """Jump to the next due try and wait for it."""
        return await self._x.run(self._advance_to_next_due(timeout))

    async def run_until_idle(self, timeout: float = SERVER_SETTLE_TIMEOUT) -> ClockUpdate:
        """Walk every scheduled try until nothing is left."""
        return await self._x.run(self._run_until_idle(timeout))

    async def set_time_scale(self, time_scale: float) -> ClockUpdate:
        """Real seconds per emulated second."""
        return await self._x.run(self._set_time_scale(time_scale))

    async def environments(self) -> list[EmulatorEnvironment]:
        """Every environment the emulator knows."""
        return await self._x.run(self._environments())

    async def attempt_detail(self, attempt_id: str) -> AttemptDetail:
        """An attempt with what was sent and received."""
        return await self._x.run(self._attempt_detail(attempt_id))

    def stream(self, timeout: float | None = None) -> AsyncChangeStream:
        """This environment's changes; ``async with``/``async for``, see ``ChangeStream``."""
        return AsyncChangeStream(self._x, timeout)


class AsyncSimplyQ:
    """The SimplyQ API client over ``httpx.AsyncClient``; same shape as ``SimplyQ``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._executor = _AsyncExecutor(api_key, base_url, timeout, max_pages, transport)
        self.applications = AsyncApplications(self._executor)
        self.endpoints = AsyncEndpoints(self._executor)
        self.events = AsyncEvents(self._executor)
        self.emulator = AsyncEmulatorControl(self._executor)

    @property
    def api_key(self) -> str:
        """The API key (environment) this client uses."""
        return self._executor.api_key

    @property
    def base_url(self) -> str:
        """The server root."""
        return self._executor.base_url

    async def aclose(self) -> None:
        """Close the connections."""
        await self._executor.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncSimplyQ(base_url={self.base_url!r})"


# ====================================================================== receivers
WebhookHeaders: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Received headers: a mapping (httpx, Starlette, Django) or ``(name, value)`` pairs
(werkzeug/Flask ``request.headers``). Names are matched case-insensitively."""


def _header_mapping(headers: WebhookHeaders) -> Mapping[str, str]:
    return headers if isinstance(headers, Mapping) else dict(headers)


def verify_signature(
    secret: str | Sequence[str],
    headers: WebhookHeaders,
    body: bytes,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a delivery's ``X-Simplyq-Signature`` and ``X-Simplyq-Timestamp`` headers and
    return its timestamp (``emulator.signing.verify``).

    Passes when any signature matches any of the given secrets (several during a rotation)
    and, unless ``tolerance`` is None, the timestamp is within ``tolerance`` seconds of ``now``
    (default: the current time). Raises ``WebhookVerificationError`` otherwise.
    """
    return verify(secret, _header_mapping(headers), body, tolerance=tolerance, now=now)


def construct_event(
    body: bytes | str,
    headers: WebhookHeaders,
    secret: str | Sequence[str],
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a received delivery and return its JSON payload.

    ``body`` must be the raw bytes received (the signature covers exactly them); ``secret`` may
    be several (during a rotation). ``tolerance`` is the accepted timestamp age in seconds;
    None skips that check, e.g. for a stored payload replayed later. Raises
    ``WebhookVerificationError`` when the signature, the timestamp or the JSON do not check out.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    verify_signature(secret, headers, raw, tolerance, now)
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise WebhookVerificationError(f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return payload
