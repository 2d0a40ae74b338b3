"""``emulator.client.resources``: every SimplyQ operation round-trips through the sync and
async clients against a live in-memory emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pytest_httpserver import HTTPServer

from emulator.client import AsyncSimplyQ, AttemptStatus, NotFoundError, Page, SimplyQ
from tests.emulator.client.support import NO_RETRIES, SECRET, closed_port_url, received


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
