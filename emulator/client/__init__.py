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

Modules: ``types`` (the JSON, typed, and the attempt codes), ``errors``, ``resources`` and
``control`` (every operation, written once for both clients), ``pages``, ``stream`` (the
change stream), ``signatures`` (for receivers). Only the standard library, ``httpx`` and
``emulator.signing`` are imported: nothing of the server.
"""

from __future__ import annotations

from typing import TypeAlias

from emulator.client._client import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    MAX_PAGES,
    AsyncSimplyQ,
    BaseClient,
    SimplyQ,
)
from emulator.client._executors import AsyncExecutor, SyncExecutor
from emulator.client.control import SERVER_SETTLE_TIMEOUT, EmulatorControl
from emulator.client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SimplyQError,
    ValidationError,
)
from emulator.client.pages import AsyncPage, Page
from emulator.client.resources import Applications, Endpoints, Events
from emulator.client.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookHeaders,
    WebhookVerificationError,
    construct_event,
    verify_signature,
)
from emulator.client.stream import AsyncChangeStream, ChangeStream
from emulator.client.types import (
    ATTEMPT_STATUS_NAMES,
    TRIGGER_TYPE_NAMES,
    Application,
    AttemptDetail,
    AttemptStatus,
    Change,
    ClockState,
    ClockUpdate,
    DeliveryAttempt,
    EmulatorEnvironment,
    Endpoint,
    EndpointHeaders,
    Event,
    Health,
    ListParams,
    RetryStrategy,
    TriggerType,
    readable_code,
)

AsyncEmulatorControl: TypeAlias = EmulatorControl[AsyncExecutor]
"""``AsyncSimplyQ.emulator``: the control API, every method awaited."""

__all__ = [
    "ATTEMPT_STATUS_NAMES",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "MAX_PAGES",
    "SERVER_SETTLE_TIMEOUT",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TRIGGER_TYPE_NAMES",
    "APIConnectionError",
    "APITimeoutError",
    "Application",
    "Applications",
    "AsyncChangeStream",
    "AsyncEmulatorControl",
    "AsyncExecutor",
    "AsyncPage",
    "AsyncSimplyQ",
    "AttemptDetail",
    "AttemptStatus",
    "AuthenticationError",
    "BadRequestError",
    "BaseClient",
    "Change",
    "ChangeStream",
    "ClockState",
    "ClockUpdate",
    "ConflictError",
    "DeliveryAttempt",
    "EmulatorControl",
    "EmulatorEnvironment",
    "Endpoint",
    "EndpointHeaders",
    "Endpoints",
    "Event",
    "Events",
    "FieldError",
    "Health",
    "ListParams",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryStrategy",
    "SimplyQ",
    "SimplyQError",
    "SyncExecutor",
    "TriggerType",
    "ValidationError",
    "WebhookHeaders",
    "WebhookVerificationError",
    "construct_event",
    "readable_code",
    "verify_signature",
]
