"""The stored resources, their storage documents, and their wire (JSON) form.

Every record has ``key``, an internal id that never changes (relations use it, so a resource
can be renamed by a PUT with a new ``uid``), ``env`` (the API key's environment) and ``seq``,
its global creation order, which is also the list order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Generic, TypeVar, cast

import msgspec
import orjson

from emulator.retry import DEFAULT_STRATEGY_TYPE, RetryPolicy
from emulator.timestamps import format_optional, format_timestamp

Doc = dict[str, Any]
B = TypeVar("B", bound="BulkRecord")
V = TypeVar("V")


class BulkRecord(msgspec.Struct, forbid_unknown_fields=True):
    """A record stored by the hundred thousand (events, attempts): a ``msgspec.Struct``, so
    a segment file decodes straight into records in C (``storage.SegmentDecoder``). Building
    each from a parsed dict in Python was most of the start-up time of a large data directory.

    Like the dataclass records, its fields are mutable; unlike them, an unknown or mistyped
    field in a stored document is refused (``msgspec.ValidationError``), never dropped. The
    fields kept as JSON (``msgspec.Raw``, read through a ``JsonView``) take any valid JSON.
    """

    @classmethod
    def from_doc(cls: type[B], doc: Doc) -> B:
        """The record of one stored document (a journal entry)."""
        # Through JSON, not ``msgspec.convert``: the ``msgspec.Raw`` fields take only JSON.
        return msgspec.json.decode(orjson.dumps(doc), type=cls)


NULL = msgspec.Raw(b"null")
_any_decoder = msgspec.json.Decoder()


def raw_json(value: Any) -> msgspec.Raw:
    """``value`` as the JSON a ``msgspec.Raw`` field holds."""
    return msgspec.Raw(orjson.dumps(value))


class JsonView(Generic[V]):
    """An attribute read and written as Python values over the ``msgspec.Raw`` field of the
    same name plus ``_json``: decoded on every read, encoded on every write."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._field = f"{name}_json"

    def __get__(self, record: object, owner: type | None = None) -> V:
        if record is None:
            return cast(V, self)
        value: V = _any_decoder.decode(getattr(record, self._field))
        return value

    def __set__(self, record: object, value: V) -> None:
        setattr(record, self._field, raw_json(value))


class AttemptStatus(IntEnum):
    """A delivery attempt's status, as the reference's table numbers them."""

    SUCCESS = 0
    PENDING = 1
    SENDING = 2
    FAIL = 3


class TriggerType(IntEnum):
    """Who started a delivery: the system (publish) or a person (retry, recover)."""

    SYSTEM = 0
    MANUAL = 1


@dataclass(slots=True)
class Environment:
    """One API key's isolated world."""

    key: str
    api_key: str
    seq: int
    created_at: float

    @classmethod
    def from_doc(cls, doc: Doc) -> Environment:
        return cls(**doc)


@dataclass(slots=True)
class Application:
    key: str
    env: str
    seq: int
    uid: str
    name: str
    rate_limit: int
    retry_strategy: RetryPolicy
    created_at: float
    updated_at: float

    @classmethod
    def from_doc(cls, doc: Doc) -> Application:
        values = dict(doc)
        values["retry_strategy"] = RetryPolicy(**values["retry_strategy"])
        return cls(**values)

    def to_wire(self) -> Doc:
        strategy = self.retry_strategy
        return {
            "uid": self.uid,
            "name": self.name,
            "rate_limit": self.rate_limit,
            "retry_strategy": {
                "type": strategy.type or DEFAULT_STRATEGY_TYPE,
                "max_retries": strategy.max_retries,
                "retry_delay": strategy.retry_delay,
                "deadline": strategy.deadline,
            },
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
        }


@dataclass(slots=True)
class Secret:
    """One signing key of an endpoint; ``expires_at`` is set once a newer key replaces it."""

    key: str
    created_at: float
    expires_at: float | None = None


@dataclass(slots=True)
class Endpoint:
    key: str
    env: str
    app: str
    seq: int
    uid: str
    url: str
    version: str
    description: str | None
    filter_types: list[str]
    topics: list[str]
    active: bool
    rate_limit: int | None
    headers: dict[str, str]
    sensitive_headers: dict[str, str]
    secrets: list[Secret]  # newest first
    created_at: float
    updated_at: float

    @classmethod
    def from_doc(cls, doc: Doc) -> Endpoint:
        values = dict(doc)
        values["secrets"] = [Secret(**s) for s in values["secrets"]]
        return cls(**values)

    def valid_secrets(self, now: float) -> list[str]:
        """The keys deliveries are signed with at ``now``, newest first."""
        return [s.key for s in self.secrets if s.expires_at is None or s.expires_at > now]

    def to_wire(self) -> Doc:
        return {
            "uid": self.uid,
            "url": self.url,
            "version": self.version,
            "description": self.description,
            "filter_types": list(self.filter_types),
            "topics": list(self.topics),
            "active": self.active,
            "rate_limit": self.rate_limit,
            # Sensitive header values are never returned, only whether there are any.
            "headers": {"headers": dict(self.headers), "sensitive": bool(self.sensitive_headers)},
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
        }


class Event(BulkRecord):
    key: str
    env: str
    app: str
    seq: int
    uid: str
    event_type: str
    version: str
    topics: list[str]
    # The payload's JSON as published: decoded only when asked for, and sent as it is. With
    # the header maps below, decoding them was 40% of decoding a 100k store (0.62 -> 0.37 s).
    payload_json: msgspec.Raw = msgspec.field(name="payload")
    retention_period: int
    created_at: float
    # Keys of the endpoints the event was routed to when it was published.
    endpoints: list[str] = msgspec.field(default_factory=list)

    payload = JsonView[dict[str, Any]]()

    def to_wire(self) -> Doc:
        return {
            "uid": self.uid,
            "event_type": self.event_type,
            "version": self.version,
            "topics": list(self.topics),
            "payload": self.payload,
            "retention_period": self.retention_period,
            "created_at": format_timestamp(self.created_at),
        }


class Attempt(BulkRecord):
    """One HTTP try of delivering an event to an endpoint."""

    key: str  # the public id, eda_...
    env: str
    app: str
    seq: int
    event: str  # event key
    event_uid: str
    endpoint: str  # endpoint key
    endpoint_uid: str
    status: int
    trigger_type: int
    retry_count: int
    scheduled_at: float
    # When the delivery (the chain of tries this one belongs to) made its first try.
    delivery_started_at: float | None = None
    attempted_at: float | None = None
    response: str | None = None
    response_status_code: int = 0
    # Both header maps as JSON (null: none), decoded only when asked for, as an event's payload.
    response_headers_json: msgspec.Raw = msgspec.field(name="response_headers", default=NULL)
    endpoint_url: str | None = None
    duration_ms: float | None = None
    # What was sent, with sensitive header values redacted.
    request_headers_json: msgspec.Raw = msgspec.field(name="request_headers", default=NULL)
    # What delivery chaos injected into this try (emulator.chaos), None when nothing.
    chaos: dict[str, Any] | None = None

    response_headers = JsonView[dict[str, str] | None]()
    request_headers = JsonView[dict[str, str] | None]()

    @property
    def time(self) -> float:
        """What ``before``/``after`` filter on: when it was tried, else when it is due."""
        return self.attempted_at if self.attempted_at is not None else self.scheduled_at

    def to_wire(self) -> Doc:
        return {
            "id": self.key,
            "event_id": self.event_uid,
            "endpoint_id": self.endpoint_uid,
            "response": self.response,
            "response_status_code": self.response_status_code,
            # Production sends these two as strings.
            "status": str(self.status),
            "trigger_type": str(self.trigger_type),
            "retry_count": self.retry_count,
            "attempted_at": format_optional(self.attempted_at),
        }

    def to_detail(self) -> Doc:
        """The wire form plus what only the emulator knows (for the control API)."""
        return {
            **self.to_wire(),
            "scheduled_at": format_timestamp(self.scheduled_at),
            "endpoint_url": self.endpoint_url,
            "request_headers": self.request_headers,
            "response_headers": self.response_headers,
            "duration_ms": self.duration_ms,
            "chaos": self.chaos,
        }
