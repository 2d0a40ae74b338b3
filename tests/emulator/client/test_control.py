"""``emulator.client.control``: the clock walks the retries, the time scale, environments
and resets, sync and async."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator.client import AsyncSimplyQ, PermissionDeniedError, SimplyQ, ValidationError
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.emulator.client.support import closed_port_url


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


def test_on_a_keyed_emulator_a_key_reaches_its_own_environment_only() -> None:
    """Started with ``--api-key`` and ``--admin-key``: a configured key's client resets,
    lists and reads its own environment; what reaches every one is a PermissionDeniedError
    until the client is made with the admin key."""
    config = EmulatorConfig(
        data_dir=None, port=0, api_keys=frozenset({"sk_a", "sk_b"}), admin_key="sk_boss"
    )
    with EmulatorServer(config) as server:
        a, b = SimplyQ("sk_a", server.url), SimplyQ("sk_b", server.url)
        admin = SimplyQ("sk_boss", server.url)
        with a, b, admin:
            a.applications.create({"uid": "mine", "name": "M"})
            b.applications.create({"uid": "theirs", "name": "T"})
            assert [e["api_key"] for e in a.emulator.environments()] == ["sk_a"]
            assert a.emulator.health()["counts"]["applications"] == 1
            assert a.emulator.settle()["settled"] is True
            for refused in (
                lambda: a.emulator.reset("sk_b"),
                lambda: a.emulator.reset(all=True),
                lambda: a.emulator.advance("1m"),
                lambda: a.emulator.set_time_scale(0.5),
            ):
                with pytest.raises(PermissionDeniedError) as caught:
                    refused()
                assert caught.value.status_code == 403
            assert [x["uid"] for x in b.applications.list()] == ["theirs"]

            a.emulator.reset()  # its own
            assert a.applications.list().data == []
            assert admin.emulator.advance("1m")["settled"] is True
            assert {e["api_key"] for e in admin.emulator.environments()} == {"sk_b"}
            admin.emulator.reset(all=True)
            assert admin.emulator.environments() == []
