"""The SimplyQ API over HTTP: parse and validate, call one service method, serialize."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.config import EmulatorConfig
from emulator.errors import EmulatorError, NotFound, RateLimited, Unauthorized
from emulator.http import JSONResponse, bearer_key, error_response, read_body
from emulator.pagination import Page
from emulator.service import Service
from emulator.validation import (
    parse_application,
    parse_endpoint,
    parse_event,
    parse_json_object,
    parse_list_query,
    parse_rotation_key,
    parse_since,
)

Handler = Callable[["Call"], Awaitable[Response]]


class ApiRateLimiter:
    """Requests per API key in the current second, for the X-Ratelimit-* headers."""

    def __init__(self, limit: int, enforce: bool) -> None:
        self.limit = limit
        self.enforce = enforce
        self._second = 0
        self._counts: dict[str, int] = {}

    def count(self, api_key: str) -> int:
        """Count one request; returns how many are left this second."""
        second = int(time.monotonic())
        if second != self._second:
            self._second = second
            self._counts = {}
        used = self._counts.get(api_key, 0) + 1
        self._counts[api_key] = used
        return self.limit - used


class Call:
    """One authenticated API request: its key, path parameters and helpers to read it."""

    def __init__(self, request: Request, api_key: str, config: EmulatorConfig) -> None:
        self.request = request
        self.api_key = api_key
        self.config = config
        self.path: dict[str, str] = request.path_params

    async def json(self, *, allow_empty: bool = False) -> dict[str, Any]:
        raw = await read_body(self.request, self.config.max_body_bytes)
        return parse_json_object(raw, allow_empty=allow_empty)

    def query(self) -> dict[str, Sequence[str]]:
        params = self.request.query_params
        return {key: params.getlist(key) for key in params}


def page_body(page: Page[Any], *, with_done: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "data": [item.to_wire() for item in page.items],
        "has_more": page.has_more,
    }
    if with_done:
        body["done"] = not page.has_more
    return body


class Api:
    """Builds the SimplyQ routes over a service."""

    def __init__(self, service: Service, config: EmulatorConfig) -> None:
        self.service = service
        self.config = config
        self.limiter = ApiRateLimiter(config.api_rate_limit, config.enforce_api_rate_limit)

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler with auth, rate-limit headers and error mapping."""

        async def run(request: Request) -> Response:
            try:
                api_key = bearer_key(request, self.config.api_keys)
            except Unauthorized as error:
                return error_response(error, request)
            remaining = self.limiter.count(api_key)
            headers = {
                "X-Ratelimit-Limit": str(self.limiter.limit),
                "X-Ratelimit-Remaining": str(max(0, remaining)),
            }
            try:
                if remaining < 0 and self.limiter.enforce:
                    raise RateLimited(
                        "rate limit exceeded, retry in the next second",
                        hint=f"more than {self.limiter.limit} requests this second with this "
                        "API key (serve --enforce-rate-limit is on); retry in the next second",
                    )
                if b"%2f" in request.scope.get("raw_path", b"").lower():
                    # The server decodes %2F into "/" before routing: "app%2Fendpoint" would
                    # reach another route. No uid holds a "/", so such a path names nothing.
                    raise NotFound(hint="the path holds an encoded `/` (%2F); no uid contains `/`")
                response = await handler(Call(request, api_key, self.config))
            except EmulatorError as error:
                return error_response(error, request, headers)
            response.headers.update(headers)
            return response

        return run

    def routes(self) -> list[Route]:
        s = self.service
        app = "/v1/application/{app_id}"
        endpoint = app + "/endpoint/{endpoint_id}"
        event = app + "/event/{event_id}"

        async def list_applications(c: Call) -> Response:
            page = s.list_applications(c.api_key, parse_list_query(c.query()))
            return JSONResponse(page_body(page, with_done=True))

        async def create_application(c: Call) -> Response:
            data, errors = parse_application(await c.json())
            application = await s.create_application(c.api_key, data, errors)
            return JSONResponse(application.to_wire(), status_code=201)

        async def get_application(c: Call) -> Response:
            return JSONResponse(s.get_application(c.api_key, c.path["app_id"]).to_wire())

        async def update_application(c: Call) -> Response:
            data, errors = parse_application(await c.json())
            application = await s.update_application(c.api_key, c.path["app_id"], data, errors)
            return JSONResponse(application.to_wire())

        async def delete_application(c: Call) -> Response:
            await s.delete_application(c.api_key, c.path["app_id"])
            return Response(status_code=204)

        async def list_endpoints(c: Call) -> Response:
            page = s.list_endpoints(c.api_key, c.path["app_id"], parse_list_query(c.query()))
            return JSONResponse(page_body(page))

        async def create_endpoint(c: Call) -> Response:
            data, errors = parse_endpoint(await c.json(), creating=True)
            created = await s.create_endpoint(c.api_key, c.path["app_id"], data, errors)
            return JSONResponse(created.to_wire(), status_code=201)

        async def get_endpoint(c: Call) -> Response:
            found = s.get_endpoint(c.api_key, c.path["app_id"], c.path["endpoint_id"])
            return JSONResponse(found.to_wire())

        async def update_endpoint(c: Call) -> Response:
            data, errors = parse_endpoint(await c.json(), creating=False)
            updated = await s.update_endpoint(
                c.api_key, c.path["app_id"], c.path["endpoint_id"], data, errors
            )
            return JSONResponse(updated.to_wire())

        async def delete_endpoint(c: Call) -> Response:
            await s.delete_endpoint(c.api_key, c.path["app_id"], c.path["endpoint_id"])
            return Response(status_code=204)

        async def recover_endpoint(c: Call) -> Response:
            since = parse_since(await c.json())
            await s.recover(c.api_key, c.path["app_id"], c.path["endpoint_id"], since)
            return Response(status_code=202)

        async def get_secret(c: Call) -> Response:
            key = s.get_secret(c.api_key, c.path["app_id"], c.path["endpoint_id"])
            return JSONResponse({"key": key})

        async def rotate_secret(c: Call) -> Response:
            key = parse_rotation_key(await c.json(allow_empty=True))
            await s.rotate_secret(c.api_key, c.path["app_id"], c.path["endpoint_id"], key)
            return Response(status_code=204)

        async def endpoint_events(c: Call) -> Response:
            page = s.list_endpoint_events(
                c.api_key, c.path["app_id"], c.path["endpoint_id"], parse_list_query(c.query())
            )
            return JSONResponse(page_body(page))

        async def endpoint_attempts(c: Call) -> Response:
            page = s.list_endpoint_attempts(
                c.api_key, c.path["app_id"], c.path["endpoint_id"], parse_list_query(c.query())
            )
            return JSONResponse(page_body(page))

        async def list_events(c: Call) -> Response:
            page = s.list_events(c.api_key, c.path["app_id"], parse_list_query(c.query()))
            return JSONResponse(page_body(page))

        async def publish(c: Call) -> Response:
            data, errors = parse_event(await c.json())
            created = await s.publish(c.api_key, c.path["app_id"], data, errors)
            return JSONResponse(created.to_wire(), status_code=201)

        async def get_event(c: Call) -> Response:
            found = s.get_event(c.api_key, c.path["app_id"], c.path["event_id"])
            return JSONResponse(found.to_wire())

        async def event_attempts(c: Call) -> Response:
            page = s.list_event_attempts(
                c.api_key, c.path["app_id"], c.path["event_id"], parse_list_query(c.query())
            )
            return JSONResponse(page_body(page))

        async def get_attempt(c: Call) -> Response:
            found = s.get_attempt(
                c.api_key, c.path["app_id"], c.path["event_id"], c.path["attempt_id"]
            )
            return JSONResponse(found.to_wire())

        async def event_endpoints(c: Call) -> Response:
            page = s.list_event_endpoints(
                c.api_key, c.path["app_id"], c.path["event_id"], parse_list_query(c.query())
            )
            return JSONResponse(page_body(page))

        async def retry_event(c: Call) -> Response:
            await s.retry(c.api_key, c.path["app_id"], c.path["endpoint_id"], c.path["event_id"])
            return Response(status_code=202)

        table: list[tuple[str, str, Handler, str]] = [
            ("/v1/application", "GET", list_applications, "GetApplications"),
            ("/v1/application", "POST", create_application, "PostApplication"),
            (app, "GET", get_application, "GetApplication"),
            (app, "PUT", update_application, "PutApplication"),
            (app, "DELETE", delete_application, "DeleteApplication"),
            (app + "/endpoint", "GET", list_endpoints, "GetEndpoints"),
            (app + "/endpoint", "POST", create_endpoint, "PostEndpoint"),
            (endpoint, "GET", get_endpoint, "GetEndpoint"),
            (endpoint, "PUT", update_endpoint, "PutEndpoint"),
            (endpoint, "DELETE", delete_endpoint, "DeleteEndpoint"),
            (endpoint + "/recover", "POST", recover_endpoint, "PostEndpointRecover"),
            (endpoint + "/secret", "GET", get_secret, "GetEndpointSecret"),
            (endpoint + "/secret", "POST", rotate_secret, "PostEndpointSecretRotate"),
            (endpoint + "/event", "GET", endpoint_events, "GetAttemptedEndpoints"),
            (
                endpoint + "/delivery_attempt",
                "GET",
                endpoint_attempts,
                "GetEndpointDeliveryAttempts",
            ),
            (app + "/event", "GET", list_events, "GetEvents"),
            (app + "/event", "POST", publish, "PostEvent"),
            (event, "GET", get_event, "GetEvent"),
            (event + "/delivery_attempt", "GET", event_attempts, "GetEventDeliveryAttempts"),
            (event + "/delivery_attempt/{attempt_id}", "GET", get_attempt, "GetDeliveryAttempt"),
            (
                event + "/delivery_attempt/{attempt_id}/",
                "GET",
                get_attempt,
                "GetDeliveryAttemptSlash",
            ),
            (event + "/endpoint", "GET", event_endpoints, "GetEventEndpoints"),
            (endpoint + "/event/{event_id}", "POST", retry_event, "PostEventRetry"),
        ]
        return [
            Route(path, self.endpoint(handler), methods=[method], name=name)
            for path, method, handler, name in table
        ]
