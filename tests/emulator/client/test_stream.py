"""``emulator.client.stream``: the change stream follows this environment (or every one)
and ends when idle."""

from __future__ import annotations

import secrets
import time

import pytest

from emulator.client import AsyncSimplyQ, SimplyQ


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
