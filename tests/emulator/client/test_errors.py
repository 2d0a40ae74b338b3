"""``emulator.client.errors``: each error status becomes its exception, with the message,
body, fields and headers of the answer; connection failures name the URL."""

from __future__ import annotations

import httpx
import pytest

from emulator.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncSimplyQ,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    NotFoundError,
    RateLimitError,
    SimplyQ,
    SimplyQError,
    ValidationError,
)
from tests.emulator.client.support import closed_port_url


def test_not_found(client: SimplyQ) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.applications.retrieve("missing")
    error = caught.value
    assert error.status_code == 404
    assert error.message == "Resource not found"
    assert error.body == {"error": "Resource not found", "code": 404}
    assert "GET /v1/application/missing" in str(error)
    with pytest.raises(NotFoundError, match="application not found"):
        client.events.create("missing", {"event_type": "a", "payload": {}})


def test_validation_errors_carry_fields(client: SimplyQ) -> None:
    with pytest.raises(ValidationError) as caught:
        client.applications.create({"uid": "bad uid!", "name": ""})
    error = caught.value
    assert error.status_code == 422
    assert [e.field for e in error.errors] == ["uid", "name"]
    assert all(isinstance(e, FieldError) and e.error for e in error.errors)

    client.applications.create({"uid": "app", "name": "A"})
    with pytest.raises(ValidationError) as caught:
        client.applications.create({"uid": "app", "name": "A"})
    assert caught.value.errors == [("uid", "Application UID already exists in your account")]
    assert caught.value.body == {
        "errors": [{"field": "uid", "error": "Application UID already exists in your account"}]
    }
    with pytest.raises(ValidationError) as caught:
        client.applications.list(limit=500)
    assert caught.value.errors[0].field == "limit"


def test_bad_request_and_conflict(client: SimplyQ) -> None:
    client.applications.create({"uid": "a", "name": "A"})
    client.applications.create({"uid": "b", "name": "B"})
    client.endpoints.create("a", {"uid": "ep", "url": "https://example.com/"})
    with pytest.raises(BadRequestError) as bad:
        client.endpoints.recover("a", "ep", since="last tuesday")
    assert bad.value.status_code == 400
    assert bad.value.message == "request body schema invalid, check field types"
    assert bad.value.field == "since"
    with pytest.raises(BadRequestError):
        client.applications.create({"name": 42})

    with pytest.raises(ConflictError) as conflict:
        client.applications.update("a", {"uid": "b", "name": "A"})
    assert conflict.value.status_code == 409 and conflict.value.message


def test_authentication_and_rate_limit(strict_url: str) -> None:
    with SimplyQ("sk_wrong", strict_url) as client, pytest.raises(AuthenticationError) as caught:
        client.applications.list()
    assert caught.value.status_code == 401
    assert caught.value.body is None and "API key" in caught.value.message

    with SimplyQ("sk_only", strict_url) as client, pytest.raises(RateLimitError) as limited:
        for _ in range(20):  # at most 2 a second pass
            client.applications.list()
    assert limited.value.status_code == 429
    assert limited.value.headers["X-Ratelimit-Limit"] == "2"


def test_connection_error_names_the_url() -> None:
    url = closed_port_url()
    with SimplyQ("k", url, timeout=2) as client, pytest.raises(APIConnectionError) as caught:
        client.applications.list()
    error = caught.value
    assert error.status_code is None
    assert url in str(error) and "simplyq-emulator serve" in str(error)


@pytest.mark.anyio
async def test_async_errors() -> None:
    async with AsyncSimplyQ("k", closed_port_url(), timeout=2) as client:
        with pytest.raises(APIConnectionError, match="simplyq-emulator serve"):
            await client.emulator.health()


@pytest.mark.anyio
async def test_async_error_statuses(emulator_url: str, api_key: str) -> None:
    async with AsyncSimplyQ(api_key, emulator_url) as client:
        with pytest.raises(NotFoundError):
            await client.endpoints.list("nope")
        with pytest.raises(ValidationError) as caught:
            await client.applications.create({})
        assert caught.value.errors == [("name", "Name is required")]


def test_timeouts_and_unexpected_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/application":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(503, text="upstream down")

    with SimplyQ("k", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(APITimeoutError, match="did not answer in time"):
            client.applications.list()
        with pytest.raises(SimplyQError) as caught:
            client.applications.retrieve("a")
    assert type(caught.value) is SimplyQError
    assert (caught.value.status_code, caught.value.body) == (503, "upstream down")
    assert caught.value.message == "upstream down"
