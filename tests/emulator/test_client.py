"""``emulator.client``: every SimplyQ operation round-trips through the sync and async clients
against a live in-memory emulator; pages, errors, control helpers, the change stream, and
webhook verification on real deliveries."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request

from emulator.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncSimplyQ,
    AttemptStatus,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    NotFoundError,
    Page,
    RateLimitError,
    SimplyQ,
    SimplyQError,
    ValidationError,
    WebhookVerificationError,
    construct_event,
    verify_signature,
)
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer

SECRET = "whsec_" + "a1B2" * 16
NO_RETRIES = {"type": "exponential_backoff_with_deadline", "deadline": 1}  # first retry is past it


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """A shared in-memory emulator; tests on it never move its clock."""
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as server:
        yield server.url


@pytest.fixture
def private_url() -> Iterator[str]:
    """An emulator of the test's own, for tests that move the clock or reset everything."""
    with EmulatorServer(EmulatorConfig(data_dir=None, port=0)) as server:
        yield server.url


@pytest.fixture(scope="module")
def strict_url() -> Iterator[str]:
    """An emulator that accepts one key and enforces a rate limit of 2 requests a second."""
    config = EmulatorConfig(
        data_dir=None,
        port=0,
        api_keys=frozenset({"sk_only"}),
        enforce_api_rate_limit=True,
        api_rate_limit=2,
    )
    with EmulatorServer(config) as server:
        yield server.url


@pytest.fixture
def api_key() -> str:
    return "sk_test_" + secrets.token_hex(12)


@pytest.fixture
def client(emulator_url: str, api_key: str) -> Iterator[SimplyQ]:
    with SimplyQ(api_key, emulator_url) as made:
        yield made


@pytest.fixture(scope="module")
def receiver() -> Iterator[HTTPServer]:
    """A webhook receiver on 127.0.0.1."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def hook(receiver: HTTPServer) -> Iterator[str]:
    """The URL of a fresh path on the receiver that answers 200."""
    path = f"/hook/{secrets.token_hex(6)}"
    receiver.expect_request(path, method="POST").respond_with_data("ok")
    yield receiver.url_for(path)
    receiver.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def closed_port_url() -> str:
    """A 127.0.0.1 URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def received(receiver: HTTPServer, url: str) -> list[Request]:
    path = httpx.URL(url).path
    return [request for request, _ in receiver.log if request.path == path]


# ---------------------------------------------------------------------- sync round trips
def test_applications_round_trip(client: SimplyQ) -> None:
    created = client.applications.create({"uid": "app-1", "name": "One", "rate_limit": None})
    assert created["uid"] == "app-1" and created["name"] == "One"
    assert created["retry_strategy"]["type"] == "base_exponential_backoff_with_deadline"
    assert client.applications.retrieve("app-1") == created

    updated = client.applications.update("app-1", {"name": "One (updated)", "rate_limit": 5})
    assert (updated["name"], updated["rate_limit"]) == ("One (updated)", 5)
    renamed = client.applications.update("app-1", {"uid": "app-2", "name": "Two"})
    assert renamed["uid"] == "app-2"

    page = client.applications.list()
    assert isinstance(page, Page)
    assert [a["uid"] for a in page.data] == ["app-2"]
    assert page.has_more is False and page.raw["done"] is True

    client.applications.delete("app-2")
    assert list(client.applications.list()) == []


def test_endpoints_round_trip(client: SimplyQ) -> None:
    client.applications.create({"uid": "app", "name": "App"})
    created = client.endpoints.create(
        "app",
        {
            "uid": "ep-1",
            "url": "https://example.com/hook",
            "filter_types": ["user.created"],
            "headers": {"headers": {"X-Team": "a"}, "sensitive": {"X-Token": "hidden"}},
            "secret": SECRET,
        },
    )
    assert created["uid"] == "ep-1" and created["active"] is True
    assert created["headers"] == {"headers": {"X-Team": "a"}, "sensitive": True}
    assert "secret" not in created
    assert client.endpoints.retrieve("app", "ep-1") == created

    updated = client.endpoints.update("app", "ep-1", {"version": "v2", "description": "d"})
    assert (updated["version"], updated["description"], updated["url"]) == (
        "v2",
        "d",
        "https://example.com/hook",
    )
    assert [e["uid"] for e in client.endpoints.list("app")] == ["ep-1"]

    assert client.endpoints.retrieve_secret("app", "ep-1") == SECRET
    client.endpoints.rotate_secret("app", "ep-1", "a" * 32)
    assert client.endpoints.retrieve_secret("app", "ep-1") == "a" * 32
    client.endpoints.rotate_secret("app", "ep-1")
    generated = client.endpoints.retrieve_secret("app", "ep-1")
    assert generated not in {SECRET, "a" * 32} and generated.startswith("enps_")

    client.endpoints.delete("app", "ep-1")
    with pytest.raises(NotFoundError):
        client.endpoints.retrieve("app", "ep-1")


def test_events_attempts_retry_and_recover(
    client: SimplyQ, receiver: HTTPServer, hook: str
) -> None:
    client.applications.create({"uid": "app", "name": "App", "retry_strategy": NO_RETRIES})
    client.endpoints.create("app", {"uid": "good", "url": hook})
    client.endpoints.create("app", {"uid": "down", "url": closed_port_url() + "/hook"})
    event = client.events.create(
        "app", {"uid": "ev-1", "event_type": "user.created", "payload": {"id": 7}}
    )
    assert (event["uid"], event["payload"], event["version"]) == ("ev-1", {"id": 7}, "latest")
    assert client.emulator.settle()["settled"] is True

    assert client.events.retrieve("app", "ev-1") == event
    assert [e["uid"] for e in client.events.list("app")] == ["ev-1"]
    assert sorted(e["uid"] for e in client.events.endpoints("app", "ev-1")) == ["down", "good"]
    assert [e["uid"] for e in client.endpoints.events("app", "good")] == ["ev-1"]

    attempts = list(client.events.delivery_attempts("app", "ev-1"))
    by_endpoint = {a["endpoint_id"]: a for a in attempts}
    assert by_endpoint["good"]["status"] == "0"
    assert by_endpoint["good"]["response_status_code"] == 200
    assert by_endpoint["down"]["status"] == "3"
    assert by_endpoint["down"]["response_status_code"] == 0
    one = client.events.delivery_attempt("app", "ev-1", by_endpoint["good"]["id"])
    assert one == by_endpoint["good"]
    failed = list(client.endpoints.delivery_attempts("app", "down", status=AttemptStatus.FAIL))
    assert [a["id"] for a in failed] == [by_endpoint["down"]["id"]]

    client.events.retry("app", "good", "ev-1")
    client.emulator.settle()
    good = list(client.endpoints.delivery_attempts("app", "good"))
    assert [(a["trigger_type"], a["status"]) for a in good] == [("0", "0"), ("1", "0")]
    assert len(received(receiver, hook)) == 2

    # Fix the broken endpoint, then recover what failed since a minute ago.
    client.endpoints.update("app", "down", {"url": hook})
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    client.endpoints.recover("app", "down", since=since)
    client.emulator.settle()
    down = list(client.endpoints.delivery_attempts("app", "down"))
    assert [(a["trigger_type"], a["status"]) for a in down] == [("0", "3"), ("1", "0")]
    assert len(received(receiver, hook)) == 3


# ---------------------------------------------------------------------- async round trip
@pytest.mark.anyio
async def test_every_operation_async(emulator_url: str, api_key: str, hook: str) -> None:
    async with AsyncSimplyQ(api_key, emulator_url) as client:
        # Applications (5)
        app = await client.applications.create({"uid": "app", "name": "App"})
        assert await client.applications.retrieve("app") == app
        assert (await client.applications.update("app", {"name": "New"}))["name"] == "New"
        assert [a["uid"] async for a in await client.applications.list()] == ["app"]
        await client.applications.create({"uid": "gone", "name": "Gone"})
        await client.applications.delete("gone")
        with pytest.raises(NotFoundError):
            await client.applications.retrieve("gone")

        # Endpoints (10)
        endpoint = await client.endpoints.create("app", {"uid": "ep", "url": hook})
        assert await client.endpoints.retrieve("app", "ep") == endpoint
        updated = await client.endpoints.update("app", "ep", {"topics": ["t1"]})
        assert updated["topics"] == ["t1"]
        assert [e["uid"] async for e in await client.endpoints.list("app")] == ["ep"]
        await client.endpoints.rotate_secret("app", "ep", "b" * 32)
        assert await client.endpoints.retrieve_secret("app", "ep") == "b" * 32

        # Events (7)
        event = await client.events.create(
            "app", {"uid": "ev", "event_type": "a.b", "topics": ["t1"], "payload": {"x": 1}}
        )
        assert await client.events.retrieve("app", "ev") == event
        await client.emulator.settle()
        assert [e["uid"] async for e in await client.events.list("app")] == ["ev"]
        assert [e["uid"] async for e in await client.events.endpoints("app", "ev")] == ["ep"]
        assert [e["uid"] async for e in await client.endpoints.events("app", "ep")] == ["ev"]
        attempts = [a async for a in await client.events.delivery_attempts("app", "ev")]
        assert [a["status"] for a in attempts] == ["0"]
        attempt = await client.events.delivery_attempt("app", "ev", attempts[0]["id"])
        assert attempt == attempts[0]
        await client.events.retry("app", "ep", "ev")
        await client.endpoints.recover("app", "ep", "2000-01-01T00:00:00+00:00")
        await client.emulator.settle()
        endpoint_attempts = await client.endpoints.delivery_attempts("app", "ep")
        assert [a["trigger_type"] for a in endpoint_attempts.data] == ["0", "1"]

        await client.endpoints.delete("app", "ep")
        assert (await client.endpoints.list("app")).data == []


# ---------------------------------------------------------------------- pages
def test_iteration_follows_every_page(client: SimplyQ) -> None:
    client.applications.create({"uid": "app", "name": "App"})
    uids = [f"ev-{n}" for n in range(7)]
    for uid in uids:
        kind = "even" if int(uid[-1]) % 2 == 0 else "odd"
        client.events.create("app", {"uid": uid, "event_type": kind, "payload": {}})

    first = client.events.list("app", limit=3)
    assert [e["uid"] for e in first.data] == uids[:3] and first.has_more is True
    assert [e["uid"] for e in first] == uids
    assert [e["uid"] for e in first.auto_paging_iter()] == uids
    second = first.next_page()
    assert second is not None and [e["uid"] for e in second.data] == uids[3:6]

    # Backward from a cursor: newest first, through the earlier pages.
    backward = client.events.list("app", limit=2, ending_before="ev-5")
    assert [e["uid"] for e in backward.data] == ["ev-3", "ev-4"]
    assert [e["uid"] for e in backward] == ["ev-4", "ev-3", "ev-2", "ev-1", "ev-0"]

    # Filters travel with every page: repeated keys, datetimes.
    odd = client.events.list("app", limit=1, event_types=["odd"])
    assert [e["uid"] for e in odd] == ["ev-1", "ev-3", "ev-5"]
    both = client.events.list("app", limit=2, event_types=("odd", "even"))
    assert len(list(both)) == 7
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert list(client.events.list("app", after=future)) == []
    assert len(list(client.events.list("app", before=future.replace(tzinfo=None)))) == 7

    with pytest.raises(TypeError, match="unknown list parameter"):
        client.events.list("app", limt=3)  # type: ignore[call-arg]


@pytest.mark.anyio
async def test_async_iteration_follows_every_page(emulator_url: str, api_key: str) -> None:
    async with AsyncSimplyQ(api_key, emulator_url) as client:
        for n in range(5):
            await client.applications.create({"uid": f"app-{n}", "name": "A"})
        page = await client.applications.list(limit=2)
        assert len(page.data) == 2 and page.has_more
        assert [a["uid"] async for a in page] == [f"app-{n}" for n in range(5)]


def test_paging_is_bounded(emulator_url: str, api_key: str) -> None:
    with SimplyQ(api_key, emulator_url, max_pages=2) as client:
        for n in range(5):
            client.applications.create({"uid": f"app-{n}", "name": "A"})
        with pytest.raises(SimplyQError, match="did not end after 2 pages"):
            list(client.applications.list(limit=2))

    # A server that always says "more" with the same page cannot loop forever.
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"uid": "a"}], "has_more": True})

    endless_client = SimplyQ("k", transport=httpx.MockTransport(endless))
    with endless_client, pytest.raises(SimplyQError, match="did not advance"):
        list(endless_client.applications.list())


# ---------------------------------------------------------------------- errors
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


# ---------------------------------------------------------------------- control API
def test_advance_walks_the_retries(private_url: str, api_key: str) -> None:
    with SimplyQ(api_key, private_url) as client:
        client.applications.create({"uid": "app", "name": "App"})
        client.endpoints.create("app", {"uid": "down", "url": closed_port_url() + "/"})
        client.events.create("app", {"uid": "ev", "event_type": "a", "payload": {}})
        client.emulator.settle()

        def tries() -> list[tuple[int, str]]:
            attempts = client.events.delivery_attempts("app", "ev")
            return [(a["retry_count"], a["status"]) for a in attempts]

        assert tries() == [(0, "3"), (1, "1")]
        before = client.emulator.clock()
        assert before["next_due_unix"] is not None
        moved = client.emulator.advance("30s")
        assert moved["settled"] is True and moved["unix"] >= before["unix"] + 30
        assert tries() == [(0, "3"), (1, "3"), (2, "1")]
        client.emulator.advance(timedelta(minutes=3))
        assert tries()[-2:] == [(2, "3"), (3, "1")]
        client.emulator.advance_to_next_due()
        assert tries()[-2:] == [(3, "3"), (4, "1")]

        idle = client.emulator.run_until_idle(timeout=10)
        assert idle["settled"] is True and idle["next_due"] is None
        assert [count for count, _ in tries()] == list(range(7))
        assert {status for _, status in tries()} == {"3"}

        first = client.events.delivery_attempts("app", "ev").data[0]
        detail = client.emulator.attempt_detail(first["id"])
        assert detail["app_id"] == "app" and detail["payload"] == {}
        assert detail["id"] == first["id"] and detail["retry_count"] == 0
        assert detail["request_headers"] is not None
        assert "X-Simplyq-Signature" in detail["request_headers"]


def test_clock_scale_environments_and_reset(private_url: str, api_key: str) -> None:
    with SimplyQ(api_key, private_url) as mine, SimplyQ("sk_other", private_url) as other:
        health = mine.emulator.health()
        assert health["status"] == "ok" and health["in_memory"] is True
        assert mine.emulator.set_time_scale(0.5)["time_scale"] == 0.5
        assert mine.emulator.clock()["time_scale"] == 0.5
        mine.emulator.set_time_scale(1)
        with pytest.raises(ValidationError) as caught:
            mine.emulator.advance(-5)
        assert caught.value.errors[0].field == "advance"

        mine.applications.create({"uid": "mine", "name": "M"})
        other.applications.create({"uid": "theirs", "name": "T"})
        environments = {e["api_key"]: e for e in mine.emulator.environments()}
        assert environments[api_key]["applications"] == ["mine"]
        assert environments["sk_other"]["applications"] == ["theirs"]

        mine.emulator.reset()  # this client's environment only
        assert mine.applications.list().data == []
        assert [a["uid"] for a in other.applications.list()] == ["theirs"]
        mine.emulator.reset("sk_other")
        assert other.applications.list().data == []

        mine.applications.create({"uid": "again", "name": "A"})
        other.applications.create({"uid": "again", "name": "A"})
        mine.emulator.reset(all=True)
        assert mine.emulator.environments() == []
        with pytest.raises(ValueError):
            mine.emulator.reset("x", all=True)


@pytest.mark.anyio
async def test_async_control(private_url: str, api_key: str) -> None:
    async with AsyncSimplyQ(api_key, private_url) as client:
        await client.applications.create({"uid": "app", "name": "App"})
        await client.endpoints.create("app", {"uid": "down", "url": closed_port_url() + "/"})
        await client.events.create("app", {"uid": "ev", "event_type": "a", "payload": {}})
        assert (await client.emulator.health())["status"] == "ok"
        moved = await client.emulator.advance(30.0)
        assert moved["settled"] is True
        await client.emulator.advance_to_next_due()
        assert (await client.emulator.run_until_idle())["next_due"] is None
        page = await client.events.delivery_attempts("app", "ev", limit=150)
        assert len(page.data) == 7
        detail = await client.emulator.attempt_detail(page.data[-1]["id"])
        assert detail["retry_count"] == 6
        assert (await client.emulator.set_time_scale(1.0))["time_scale"] == 1.0
        assert [e["api_key"] for e in await client.emulator.environments()] == [api_key]
        assert (await client.emulator.clock())["next_due"] is None
        await client.emulator.reset()
        assert (await client.emulator.environments()) == []


# ---------------------------------------------------------------------- change stream
def test_stream_receives_this_environments_changes(client: SimplyQ, emulator_url: str) -> None:
    client.applications.create({"uid": "app", "name": "App"})
    stranger = SimplyQ("sk_" + secrets.token_hex(8), emulator_url)
    with stranger, client.emulator.stream(timeout=5) as changes:
        stranger.applications.create({"uid": "elsewhere", "name": "X"})
        client.events.create("app", {"uid": "ev", "event_type": "a", "payload": {"n": 1}})
        change = next(changes)  # the stranger's application is another environment's
    assert (change["kind"], change["action"]) == ("event", "created")
    assert change["data"]["uid"] == "ev" and change["data"]["payload"] == {"n": 1}
    assert change["id"] > 0

    started = time.monotonic()
    assert list(client.emulator.stream(timeout=0.3)) == []  # nothing happens: ends when idle
    assert time.monotonic() - started < 3


@pytest.mark.anyio
async def test_async_stream(emulator_url: str, api_key: str) -> None:
    async with AsyncSimplyQ(api_key, emulator_url) as client:
        await client.applications.create({"uid": "app", "name": "App"})
        seen: list[tuple[str, str]] = []
        async with client.emulator.stream(timeout=5) as changes:
            await client.events.create("app", {"uid": "ev", "event_type": "a", "payload": {}})
            async for change in changes:
                seen.append((change["kind"], change["action"]))
                if change["kind"] == "event":
                    break
        assert seen == [("event", "created")]


# ---------------------------------------------------------------------- receivers
def test_construct_event_on_a_real_delivery(
    client: SimplyQ, receiver: HTTPServer, hook: str
) -> None:
    client.applications.create({"uid": "app", "name": "App"})
    client.endpoints.create("app", {"uid": "ep", "url": hook, "secret": SECRET})
    payload: dict[str, Any] = {"user": {"id": 1, "name": "Zoë"}, "tags": ["a", "b"]}
    client.events.create("app", {"event_type": "user.created", "payload": payload})
    client.emulator.settle()
    (request,) = received(receiver, hook)
    body, headers = request.get_data(), request.headers

    assert construct_event(body, headers, SECRET) == payload
    assert construct_event(body.decode(), dict(headers), [SECRET]) == payload
    timestamp = verify_signature(SECRET, headers, body)
    assert abs(timestamp - time.time()) < 60

    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        construct_event(body + b" ", headers, SECRET)
    with pytest.raises(WebhookVerificationError):
        construct_event(body, headers, "whsec_" + "x" * 64)
    with pytest.raises(WebhookVerificationError, match="too old"):
        construct_event(body, headers, SECRET, now=timestamp + 301)
    # A stored payload replayed much later: tolerance=None skips the age check only.
    assert construct_event(body, headers, SECRET, tolerance=None, now=timestamp + 10**6) == payload
    with pytest.raises(WebhookVerificationError, match="missing"):
        construct_event(body, {}, SECRET)

    # After a rotation deliveries carry both signatures: the old secret still verifies.
    client.endpoints.rotate_secret("app", "ep", "c" * 32)
    client.events.create("app", {"event_type": "user.updated", "payload": {"n": 2}})
    client.emulator.settle()
    request = received(receiver, hook)[-1]
    assert construct_event(request.get_data(), request.headers, SECRET) == {"n": 2}
    assert construct_event(request.get_data(), request.headers, "c" * 32) == {"n": 2}


def test_client_basics(emulator_url: str, api_key: str) -> None:
    with SimplyQ(api_key, emulator_url + "/v1/") as client:
        assert client.base_url == emulator_url and client.api_key == api_key
        # uids "." and ".." are valid and must not be eaten by URL normalisation.
        client.applications.create({"uid": "..", "name": "Dots"})
        assert client.applications.retrieve("..")["name"] == "Dots"
        with pytest.raises(ValueError):
            client.applications.retrieve("")


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
