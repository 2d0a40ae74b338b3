"""The SimplyQ API over HTTP: each handler parses and validates its request, calls one service
operation and serializes the answer; ``ROUTES`` is the route table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.app import Emulator
from emulator.bodies import parse_json_object
from emulator.errors import EmulatorError, FieldError, Invalid, NotFound, RateLimited
from emulator.pagination import Page
from emulator.service import APP_NOT_FOUND_ON_PUBLISH, NOT_FOUND_MESSAGE, Service
from emulator.validation import (
    ListQuery,
    parse_application,
    parse_endpoint,
    parse_event,
    parse_list_query,
    parse_rotation_key,
    parse_since,
)
from emulator.web.requests import bearer_key, emulator_of, query_params, read_body
from emulator.web.responses import JSONResponse, error_response

T = TypeVar("T")


@dataclass(slots=True)
class Call:
    """One authenticated API request and what its handler needs."""

    request: Request
    api_key: str
    emulator: Emulator

    @property
    def service(self) -> Service:
        return self.emulator.service

    def path(self, name: str) -> str:
        """A path parameter (``app_id``, ``endpoint_id``, ...)."""
        value: str = self.request.path_params[name]
        return value

    async def json(self, *, allow_empty: bool = False) -> dict[str, Any]:
        """The body as a JSON object (400 otherwise), within the configured size (413)."""
        raw = await read_body(self.request, self.emulator.config.max_body_bytes)
        return parse_json_object(raw, allow_empty=allow_empty)

    def valid(
        self, parsed: tuple[T, list[FieldError]], *, missing_app: str = NOT_FOUND_MESSAGE
    ) -> T:
        """The parsed input, or a 422 listing its problems, but a 404 first if a resource the
        path names does not exist (production's order)."""
        value, problems = parsed
        if problems:
            params = self.request.path_params
            self.service.require(
                self.api_key,
                params.get("app_id"),
                params.get("endpoint_id"),
                params.get("event_id"),
                missing_app=missing_app,
            )
            raise Invalid(problems)
        return value

    def page(self, run: Callable[[ListQuery], Page[T]]) -> Page[T]:
        """One page of a list: ``run`` with the request's query; a bad parameter is a 422
        that also names unknown cursors, after any 404 ``run`` raises."""
        query, problems = parse_list_query(query_params(self.request))
        if not problems:
            return run(query)
        try:
            run(query)
        except Invalid as found:
            problems = [*problems, *found.errors]
        raise Invalid(problems)


Handler = Callable[[Call], Awaitable[Response]]


def page_body(page: Page[Any], *, with_done: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "data": [item.to_wire() for item in page.items],
        "has_more": page.has_more,
    }
    if with_done:
        body["done"] = not page.has_more
    return body


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` behind the API key check, with rate-limit headers and error answers."""

    async def endpoint(request: Request) -> Response:
        emulator = emulator_of(request)
        try:
            api_key = bearer_key(request, emulator.config.api_keys)
        except EmulatorError as error:
            return error_response(error, request)
        limiter = emulator.limiter
        remaining = limiter.count(api_key)
        limit, left = str(limiter.limit), str(max(0, remaining))
        try:
            if remaining < 0 and limiter.enforce:
                raise RateLimited(
                    "rate limit exceeded, retry in the next second",
                    hint=f"more than {limiter.limit} requests this second with this API key "
                    "(serve --enforce-rate-limit is on); retry in the next second",
                )
            if b"%2f" in request.scope.get("raw_path", b"").lower():
                # The server decodes %2F into "/" before routing: "app%2Fendpoint" would
                # reach another route. No uid holds a "/", so such a path names nothing.
                raise NotFound(hint="the path holds an encoded `/` (%2F); no uid contains `/`")
            response = await handler(Call(request, api_key, emulator))
        except EmulatorError as error:
            headers = {"X-Ratelimit-Limit": limit, "X-Ratelimit-Remaining": left}
            return error_response(error, request, headers)
        # Appended as MutableHeaders.update would (no handler sets them), without its
        # lower-casing and search per header.
        response.raw_headers += [
            (b"x-ratelimit-limit", limit.encode()),
            (b"x-ratelimit-remaining", left.encode()),
        ]
        return response

    return endpoint


# --------------------------------------------------------------------------- applications
async def list_applications(c: Call) -> Response:
    page = c.page(lambda query: c.service.list_applications(c.api_key, query))
    return JSONResponse(page_body(page, with_done=True))


async def create_application(c: Call) -> Response:
    data = c.valid(parse_application(await c.json()))
    application = await c.service.create_application(c.api_key, data)
    return JSONResponse(application.to_wire(), status_code=201)


async def get_application(c: Call) -> Response:
    return JSONResponse(c.service.get_application(c.api_key, c.path("app_id")).to_wire())


async def update_application(c: Call) -> Response:
    data = c.valid(parse_application(await c.json()))
    application = await c.service.update_application(c.api_key, c.path("app_id"), data)
    return JSONResponse(application.to_wire())


async def delete_application(c: Call) -> Response:
    await c.service.delete_application(c.api_key, c.path("app_id"))
    return Response(status_code=204)


# --------------------------------------------------------------------------- endpoints
async def list_endpoints(c: Call) -> Response:
    page = c.page(lambda query: c.service.list_endpoints(c.api_key, c.path("app_id"), query))
    return JSONResponse(page_body(page))


async def create_endpoint(c: Call) -> Response:
    data = c.valid(parse_endpoint(await c.json(), creating=True))
    created = await c.service.create_endpoint(c.api_key, c.path("app_id"), data)
    return JSONResponse(created.to_wire(), status_code=201)


async def get_endpoint(c: Call) -> Response:
    found = c.service.get_endpoint(c.api_key, c.path("app_id"), c.path("endpoint_id"))
    return JSONResponse(found.to_wire())


async def update_endpoint(c: Call) -> Response:
    data = c.valid(parse_endpoint(await c.json(), creating=False))
    updated = await c.service.update_endpoint(
        c.api_key, c.path("app_id"), c.path("endpoint_id"), data
    )
    return JSONResponse(updated.to_wire())


async def delete_endpoint(c: Call) -> Response:
    await c.service.delete_endpoint(c.api_key, c.path("app_id"), c.path("endpoint_id"))
    return Response(status_code=204)


async def recover_endpoint(c: Call) -> Response:
    since = parse_since(await c.json())
    await c.service.recover(c.api_key, c.path("app_id"), c.path("endpoint_id"), since)
    return Response(status_code=202)


async def get_secret(c: Call) -> Response:
    key = c.service.get_secret(c.api_key, c.path("app_id"), c.path("endpoint_id"))
    return JSONResponse({"key": key})


async def rotate_secret(c: Call) -> Response:
    key = parse_rotation_key(await c.json(allow_empty=True))
    await c.service.rotate_secret(c.api_key, c.path("app_id"), c.path("endpoint_id"), key)
    return Response(status_code=204)


async def endpoint_events(c: Call) -> Response:
    page = c.page(
        lambda query: c.service.list_endpoint_events(
            c.api_key, c.path("app_id"), c.path("endpoint_id"), query
        )
    )
    return JSONResponse(page_body(page))


async def endpoint_attempts(c: Call) -> Response:
    page = c.page(
        lambda query: c.service.list_endpoint_attempts(
            c.api_key, c.path("app_id"), c.path("endpoint_id"), query
        )
    )
    return JSONResponse(page_body(page))


# --------------------------------------------------------------------------- events
async def list_events(c: Call) -> Response:
    page = c.page(lambda query: c.service.list_events(c.api_key, c.path("app_id"), query))
    return JSONResponse(page_body(page))


async def publish(c: Call) -> Response:
    data = c.valid(parse_event(await c.json()), missing_app=APP_NOT_FOUND_ON_PUBLISH)
    created = await c.service.publish(c.api_key, c.path("app_id"), data)
    return JSONResponse(created.to_wire(), status_code=201)


async def get_event(c: Call) -> Response:
    found = c.service.get_event(c.api_key, c.path("app_id"), c.path("event_id"))
    return JSONResponse(found.to_wire())


async def event_attempts(c: Call) -> Response:
    page = c.page(
        lambda query: c.service.list_event_attempts(
            c.api_key, c.path("app_id"), c.path("event_id"), query
        )
    )
    return JSONResponse(page_body(page))


async def get_attempt(c: Call) -> Response:
    found = c.service.get_attempt(
        c.api_key, c.path("app_id"), c.path("event_id"), c.path("attempt_id")
    )
    return JSONResponse(found.to_wire())


async def event_endpoints(c: Call) -> Response:
    page = c.page(
        lambda query: c.service.list_event_endpoints(
            c.api_key, c.path("app_id"), c.path("event_id"), query
        )
    )
    return JSONResponse(page_body(page))


async def retry_event(c: Call) -> Response:
    await c.service.retry(c.api_key, c.path("app_id"), c.path("endpoint_id"), c.path("event_id"))
    return Response(status_code=202)


# --------------------------------------------------------------------------- the route table
APP = "/v1/application/{app_id}"
ENDPOINT = APP + "/endpoint/{endpoint_id}"
EVENT = APP + "/event/{event_id}"
ATTEMPT = EVENT + "/delivery_attempt/{attempt_id}"

# (path, method, handler, production's operation name)
TABLE: list[tuple[str, str, Handler, str]] = [
    # The hot path first: the router tries the routes in order (16 regexes before publish's
    # were 8% of a publish). No other path matches these two, so the order changes nothing else.
    (APP + "/event", "GET", list_events, "GetEvents"),
    (APP + "/event", "POST", publish, "PostEvent"),
    ("/v1/application", "GET", list_applications, "GetApplications"),
    ("/v1/application", "POST", create_application, "PostApplication"),
    (APP, "GET", get_application, "GetApplication"),
    (APP, "PUT", update_application, "PutApplication"),
    (APP, "DELETE", delete_application, "DeleteApplication"),
    (APP + "/endpoint", "GET", list_endpoints, "GetEndpoints"),
    (APP + "/endpoint", "POST", create_endpoint, "PostEndpoint"),
    (ENDPOINT, "GET", get_endpoint, "GetEndpoint"),
    (ENDPOINT, "PUT", update_endpoint, "PutEndpoint"),
    (ENDPOINT, "DELETE", delete_endpoint, "DeleteEndpoint"),
    (ENDPOINT + "/recover", "POST", recover_endpoint, "PostEndpointRecover"),
    (ENDPOINT + "/secret", "GET", get_secret, "GetEndpointSecret"),
    (ENDPOINT + "/secret", "POST", rotate_secret, "PostEndpointSecretRotate"),
    (ENDPOINT + "/event", "GET", endpoint_events, "GetAttemptedEndpoints"),
    (ENDPOINT + "/delivery_attempt", "GET", endpoint_attempts, "GetEndpointDeliveryAttempts"),
    (EVENT, "GET", get_event, "GetEvent"),
    (EVENT + "/delivery_attempt", "GET", event_attempts, "GetEventDeliveryAttempts"),
    (ATTEMPT, "GET", get_attempt, "GetDeliveryAttempt"),
    (ATTEMPT + "/", "GET", get_attempt, "GetDeliveryAttemptSlash"),
    (EVENT + "/endpoint", "GET", event_endpoints, "GetEventEndpoints"),
    (ENDPOINT + "/event/{event_id}", "POST", retry_event, "PostEventRetry"),
]

ROUTES = [
    Route(path, authenticated(handler), methods=[method], name=name)
    for path, method, handler, name in TABLE
]
