"""Every call of the API described as data, shared by the sync and async faces.

A ``Request`` is one HTTP call not yet made: method, path, query, body, and how to read the
answer. A ``Listing`` is a list operation: its first request and how to get the next page.
The executors (``_executors``) are the only code that sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from emulator.client.errors import SimplyQError
from emulator.client.types import ListParams, PageBody

T = TypeVar("T")


# ---------------------------------------------------------------------- reading answers
def parse_json(response: httpx.Response) -> Any:
    """The answer's JSON (an error when the answer is not JSON)."""
    try:
        return response.json()
    except ValueError:
        raise SimplyQError(
            f"expected a JSON answer, got {response.text[:200]!r}",
            status_code=response.status_code,
            body=response.text,
        ) from None


def parse_nothing(response: httpx.Response) -> None:
    """For answers without a body (204)."""
    return None


def parse_secret_key(response: httpx.Response) -> str:
    """The ``key`` of an endpoint-secret answer."""
    key = parse_json(response).get("key")
    if not isinstance(key, str):
        raise SimplyQError("the secret answer has no key", status_code=response.status_code)
    return key


def parse_data(response: httpx.Response) -> Any:
    """The ``data`` of a ``{"data": [...]}`` answer."""
    return parse_json(response)["data"]


@dataclass(frozen=True)
class Request(Generic[T]):
    """One HTTP call, described without doing it: what to send and how to read the answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    json: object = None  # None: no body
    timeout: float | None = None  # None: the client's

    def describe(self) -> str:
        """``"GET /v1/application"``, for error messages."""
        return f"{self.method} {self.path}"


# ---------------------------------------------------------------------- building requests
def segment(value: str) -> str:
    """A path segment, percent-encoded (uids are letters, digits, ``-``, ``_`` and ``.``)."""
    if not isinstance(value, str):
        raise TypeError(f"ids are strings, got {type(value).__name__}")
    if not value:
        raise ValueError("an id cannot be empty")
    if value in {".", ".."}:
        # Valid uids, but URL normalisation would drop them as dot segments.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def api_path(*parts: str) -> str:
    """``/v1/application/{app}/...`` with each odd part (an id) encoded."""
    return "/v1/" + "/".join(p if i % 2 == 0 else segment(p) for i, p in enumerate(parts))


def body(data: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from the caller's mapping (checked, copied)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict, got {type(data).__name__}")
    return dict(data)


def format_time(value: object) -> str:
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


def encode_params(params: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
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
            pairs.append((name, format_time(value)))
        elif name in {"limit", "status", "response_status_code"}:
            pairs.append((name, _format_int(name, value)))
        else:
            pairs.append((name, str(value)))
    return tuple(pairs)


# ---------------------------------------------------------------------- list operations
@dataclass(frozen=True)
class Listing(Generic[T]):
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
        """Whether this listing pages from newer to older items."""
        return self.params.get("ending_before") is not None

    def request(self) -> Request[PageBody]:
        """The request of this page."""
        return Request("GET", self.path, parse_json, encode_params(self.params))

    def following(self, data: Sequence[T], has_more: bool, max_pages: int) -> Listing[T] | None:
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
