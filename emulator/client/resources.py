"""The SimplyQ API's resources: ``client.applications``, ``client.endpoints``, ``client.events``.

Each method is written once and describes its request; ``SimplyQ`` binds these classes to a
sync executor (methods return results, lists return a ``Page``), ``AsyncSimplyQ`` to an async
one (methods are awaited, lists give an ``AsyncPage``). See ``_base`` for how.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.client._base import Resource, X, listing, operation
from emulator.client._requests import (
    Listing,
    Request,
    api_path,
    body,
    format_time,
    parse_json,
    parse_nothing,
    parse_secret_key,
)
from emulator.client.types import Application, DeliveryAttempt, Endpoint, Event, ListParams

if TYPE_CHECKING:
    from typing_extensions import Unpack


class Applications(Resource[X]):
    """``client.applications``: ``/v1/application``."""

    @listing
    def list(self, **params: Unpack[ListParams]) -> Listing[Application]:
        """List applications, oldest first (GetApplications)."""
        return Listing("/v1/application", dict(params), "uid")

    @operation
    def create(self, data: Mapping[str, Any]) -> Request[Application]:
        """Create an application: ``{"name": ..., "uid"?, "rate_limit"?, "retry_strategy"?}``."""
        return Request("POST", "/v1/application", parse_json, json=body(data))

    @operation
    def retrieve(self, app: str) -> Request[Application]:
        """Get an application by uid."""
        return Request("GET", api_path("application", app), parse_json)

    @operation
    def update(self, app: str, data: Mapping[str, Any]) -> Request[Application]:
        """Update an application (``name`` is required; a new ``uid`` renames it)."""
        return Request("PUT", api_path("application", app), parse_json, json=body(data))

    @operation
    def delete(self, app: str) -> Request[None]:
        """Delete an application and everything under it."""
        return Request("DELETE", api_path("application", app), parse_nothing)


class Endpoints(Resource[X]):
    """``client.endpoints``: ``/v1/application/{app}/endpoint``."""

    @listing
    def list(self, app: str, **params: Unpack[ListParams]) -> Listing[Endpoint]:
        """List an application's endpoints (GetEndpoints)."""
        return Listing(api_path("application", app, "endpoint"), dict(params), "uid")

    @operation
    def create(self, app: str, data: Mapping[str, Any]) -> Request[Endpoint]:
        """Create an endpoint: ``{"url": ..., "uid"?, "filter_types"?, "topics"?, ...}``."""
        path = api_path("application", app, "endpoint")
        return Request("POST", path, parse_json, json=body(data))

    @operation
    def retrieve(self, app: str, endpoint: str) -> Request[Endpoint]:
        """Get an endpoint by uid."""
        return Request("GET", api_path("application", app, "endpoint", endpoint), parse_json)

    @operation
    def update(self, app: str, endpoint: str, data: Mapping[str, Any]) -> Request[Endpoint]:
        """Update an endpoint: only the fields given non-null change."""
        path = api_path("application", app, "endpoint", endpoint)
        return Request("PUT", path, parse_json, json=body(data))

    @operation
    def delete(self, app: str, endpoint: str) -> Request[None]:
        """Delete an endpoint, its attempts and its pending tries."""
        path = api_path("application", app, "endpoint", endpoint)
        return Request("DELETE", path, parse_nothing)

    @operation
    def recover(self, app: str, endpoint: str, since: datetime | str) -> Request[None]:
        """Redeliver every event whose latest attempt to the endpoint failed at or after
        ``since`` (a datetime, naive = UTC, or an RFC 3339 string)."""
        path = api_path("application", app, "endpoint", endpoint, "recover")
        return Request("POST", path, parse_nothing, json={"since": format_time(since)})

    @operation
    def retrieve_secret(self, app: str, endpoint: str) -> Request[str]:
        """The endpoint's current signing secret."""
        path = api_path("application", app, "endpoint", endpoint, "secret")
        return Request("GET", path, parse_secret_key)

    @operation
    def rotate_secret(self, app: str, endpoint: str, key: str | None = None) -> Request[None]:
        """Replace the secret with ``key`` (or a generated one); the old one stays valid for
        the grace period."""
        path = api_path("application", app, "endpoint", endpoint, "secret")
        return Request("POST", path, parse_nothing, json={} if key is None else {"key": key})

    @listing
    def events(self, app: str, endpoint: str, **params: Unpack[ListParams]) -> Listing[Event]:
        """The events routed to the endpoint (GetAttemptedEndpoints)."""
        path = api_path("application", app, "endpoint", endpoint, "event")
        return Listing(path, dict(params), "uid")

    @listing
    def delivery_attempts(
        self, app: str, endpoint: str, **params: Unpack[ListParams]
    ) -> Listing[DeliveryAttempt]:
        """The endpoint's delivery attempts (GetEndpointDeliveryAttempts)."""
        path = api_path("application", app, "endpoint", endpoint, "delivery_attempt")
        return Listing(path, dict(params), "id")


class Events(Resource[X]):
    """``client.events``: ``/v1/application/{app}/event``."""

    @listing
    def list(self, app: str, **params: Unpack[ListParams]) -> Listing[Event]:
        """List an application's events (GetEvents)."""
        return Listing(api_path("application", app, "event"), dict(params), "uid")

    @operation
    def create(self, app: str, data: Mapping[str, Any]) -> Request[Event]:
        """Publish an event: ``{"event_type": ..., "payload": {...}, "uid"?, "topics"?, ...}``."""
        path = api_path("application", app, "event")
        return Request("POST", path, parse_json, json=body(data))

    @operation
    def retrieve(self, app: str, event: str) -> Request[Event]:
        """Get an event by uid."""
        return Request("GET", api_path("application", app, "event", event), parse_json)

    @listing
    def delivery_attempts(
        self, app: str, event: str, **params: Unpack[ListParams]
    ) -> Listing[DeliveryAttempt]:
        """The event's delivery attempts, to every endpoint (GetEventDeliveryAttempts)."""
        path = api_path("application", app, "event", event, "delivery_attempt")
        return Listing(path, dict(params), "id")

    @operation
    def delivery_attempt(self, app: str, event: str, attempt_id: str) -> Request[DeliveryAttempt]:
        """One delivery attempt of the event (GetDeliveryAttempt)."""
        path = api_path("application", app, "event", event, "delivery_attempt", attempt_id)
        return Request("GET", path, parse_json)

    @listing
    def endpoints(self, app: str, event: str, **params: Unpack[ListParams]) -> Listing[Endpoint]:
        """The existing endpoints the event was routed to (GetEventEndpoints)."""
        path = api_path("application", app, "event", event, "endpoint")
        return Listing(path, dict(params), "uid")

    @operation
    def retry(self, app: str, endpoint: str, event: str) -> Request[None]:
        """Deliver the event to the endpoint again, whatever its status (PostEventRetry).

        The argument order is the Ruby client's: application, endpoint, event."""
        path = api_path("application", app, "endpoint", endpoint, "event", event)
        return Request("POST", path, parse_nothing)
