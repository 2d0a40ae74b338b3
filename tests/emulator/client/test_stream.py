"""``emulator.client.stream``: the change stream follows this environment (or every one)
and ends when idle."""

from __future__ import annotations

import secrets
import time

import pytest

from emulator.client import AsyncSimplyQ, AuthenticationError, PermissionDeniedError, SimplyQ
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer


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


def test_stream_of_every_environment(client: SimplyQ, emulator_url: str) -> None:
    stranger = SimplyQ("sk_" + secrets.token_hex(8), emulator_url)
    with stranger, client.emulator.stream(timeout=5, all_environments=True) as changes:
        stranger.applications.create({"uid": "theirs", "name": "T"})
        client.applications.create({"uid": "mine", "name": "M"})
        seen: list[tuple[str, str]] = []
        for change in changes:
            if change["kind"] == "application" and change["data"]["uid"] in {"theirs", "mine"}:
                seen.append((change["data"]["uid"], change["env"]))
            if len(seen) == 2:
                break
    assert [uid for uid, _ in seen] == ["theirs", "mine"]
    assert seen[0][1] != seen[1][1]  # two environments


def test_stream_of_every_environment_on_a_keyed_emulator_needs_the_admin_key() -> None:
    config = EmulatorConfig(
        data_dir=None, port=0, api_keys=frozenset({"sk_a", "sk_b"}), admin_key="sk_boss"
    )
    with EmulatorServer(config) as server:
        a, b = SimplyQ("sk_a", server.url), SimplyQ("sk_b", server.url)
        admin = SimplyQ("sk_boss", server.url)
        with a, b, admin:
            # A configured key follows its own environment only: sk_b's changes are not sk_a's.
            with pytest.raises(PermissionDeniedError, match="needs the admin key"):
                a.emulator.stream(all_environments=True).connect()
            everything = admin.emulator.stream(timeout=5, all_environments=True)
            own = a.emulator.stream(timeout=0.5)
            with everything, own:
                b.applications.create({"uid": "b-app", "name": "B"})
                change = next(everything)
                assert (change["kind"], change["data"]["uid"]) == ("application", "b-app")
                assert list(own) == []  # sk_a's own stream leaves sk_b's change out

            # Without a key the emulator refuses the stream, as it refuses every control call.
            with SimplyQ("", server.url) as anonymous, pytest.raises(AuthenticationError):
                anonymous.emulator.stream(all_environments=True).connect()


@pytest.mark.anyio
async def test_async_stream_of_every_environment_without_a_key(emulator_url: str) -> None:
    # An empty key sends no Authorization header: an open emulator streams every change.
    watcher = AsyncSimplyQ("", emulator_url)
    publisher = AsyncSimplyQ("sk_" + secrets.token_hex(8), emulator_url)
    changes = watcher.emulator.stream(timeout=5, all_environments=True)
    async with watcher, publisher, changes:
        await publisher.applications.create({"uid": "published", "name": "P"})
        async for change in changes:
            if change["kind"] == "application" and change["data"]["uid"] == "published":
                break
        else:
            raise AssertionError("the change never came")
