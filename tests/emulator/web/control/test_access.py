"""Who may use each control route of an emulator started with ``--api-key`` (and
``--admin-key``): every route with no key, the owner's key, another configured key and the
admin key (emulator/access.py, emulator/web/control.py).

The owner's environment has an application, a failing endpoint and an event whose retry is
pending; the other key's environment is empty. The expected statuses are written out here, not
read from the emulator's rules table.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator import __version__
from emulator.repository import environment_key
from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    Env,
    Receiver,
    Reply,
    running_emulator,
)
from tests.emulator.helpers import hint

TEAM = tuple(f"sk_team_{i:03d}" for i in range(300))
ADMIN = "sk_admin_" + secrets.token_hex(8)
_next_key = itertools.count()

# Placeholders: {owner} is the owner's API key, {attempt} its delivery attempt's id.
ROUTES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "health": ("GET", "/_emulator/health", None),
    "reset the owner's": ("POST", "/_emulator/reset", {"api_key": "{owner}"}),
    "reset everything": ("POST", "/_emulator/reset", {}),
    "read the clock": ("GET", "/_emulator/clock", None),
    "settle": ("POST", "/_emulator/clock", {"timeout": 5}),
    "advance the clock": ("POST", "/_emulator/clock", {"advance": 60}),
    "jump to the next due": ("POST", "/_emulator/clock", {"to_next_due": True}),
    "run until idle": ("POST", "/_emulator/clock", {"run_until_idle": True, "timeout": 5}),
    "rescale the clock": ("POST", "/_emulator/clock", {"time_scale": 1000}),
    "environments": ("GET", "/_emulator/environments", None),
    "the owner's attempt": ("GET", "/_emulator/attempts/{attempt}", None),
    "the owner's stream": ("GET", "/_emulator/stream?api_key={owner}", None),
    "every environment's stream": ("GET", "/_emulator/stream", None),
}

CALLERS = ("no key", "owner's key", "other key", "admin key")

# route: status for (no key, owner's key, other key, admin key)
EXPECTED: dict[str, tuple[int, int, int, int]] = {
    "health": (200, 200, 200, 200),
    "reset the owner's": (401, 204, 403, 204),
    "reset everything": (401, 403, 403, 204),
    "read the clock": (401, 200, 200, 200),
    "settle": (401, 200, 200, 200),
    "advance the clock": (401, 403, 403, 200),
    "jump to the next due": (401, 403, 403, 200),
    "run until idle": (401, 403, 403, 200),
    "rescale the clock": (401, 403, 403, 200),
    "environments": (401, 200, 200, 200),
    "the owner's attempt": (401, 200, 404, 200),
    "the owner's stream": (401, 200, 403, 200),
    "every environment's stream": (401, 403, 403, 200),
}


def test_the_matrix_covers_every_route_and_method() -> None:
    assert set(EXPECTED) == set(ROUTES)
    assert {(m, p.partition("?")[0]) for m, p, _ in ROUTES.values()} == {
        ("GET", "/_emulator/health"),
        ("POST", "/_emulator/reset"),
        ("GET", "/_emulator/clock"),
        ("POST", "/_emulator/clock"),
        ("GET", "/_emulator/environments"),
        ("GET", "/_emulator/attempts/{attempt}"),
        ("GET", "/_emulator/stream"),
    }


@pytest.fixture(scope="module")
def failing() -> Iterator[Receiver]:
    with Receiver(default=Reply(500, b"boom")) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def keyed() -> Iterator[EmulatorServer]:
    """A team's emulator: many configured keys and an admin key."""
    with running_emulator(api_keys=frozenset(TEAM), admin_key=ADMIN) as server:
        yield server


@dataclass
class World:
    """The owner's seeded environment and an empty one of another configured key."""

    server: EmulatorServer
    owner: Env
    other: Env
    attempt: str

    def as_(self, caller: str) -> httpx.Client:
        keys = {"owner's key": self.owner.key, "other key": self.other.key, "admin key": ADMIN}
        headers = {"Authorization": f"Bearer {keys[caller]}"} if caller in keys else {}
        return httpx.Client(
            base_url=self.server.url, headers=headers, timeout=30.0, verify=CLIENT_SSL
        )

    def admin(self) -> httpx.Client:
        return self.as_("admin key")

    def snapshot(self) -> dict[str, Any]:
        """Everything of the owner's environment, and the clock, as the admin sees them."""
        state: dict[str, Any] = {}
        for path in [
            "/v1/application",
            "/v1/application/app/endpoint",
            "/v1/application/app/event",
            "/v1/application/app/endpoint/ep/delivery_attempt",
        ]:
            state[path] = self.owner.http.get(path).json()
        with self.admin() as admin:
            state["detail"] = admin.get(f"/_emulator/attempts/{self.attempt}").json()
            clock = admin.get("/_emulator/clock").json()
            # Whole minutes: after a rescale to 1000 the clock creeps on by a millisecond a
            # second; the smallest move a caller may ask for is a second, the test's is 60.
            state["clock"] = (clock["unix"] // 60, clock["time_scale"], clock["next_due_unix"])
            envs = admin.get("/_emulator/environments").json()["data"]
            state["environments"] = sorted(e["api_key"] for e in envs)
        return state


@pytest.fixture
def world(keyed: EmulatorServer, failing: Receiver) -> Iterator[World]:
    owner = Env(keyed.url, TEAM[next(_next_key) % len(TEAM)])
    other = Env(keyed.url, TEAM[next(_next_key) % len(TEAM)])
    owner.reset()
    other.reset()
    owner.app("app")
    owner.endpoint("app", "ep", failing.hook(f"/{owner.key}"))
    owner.publish("app", uid="evt")
    owner.settle()
    [tried] = [a for a in owner.event_attempts("app", "evt") if a["attempted_at"] is not None]
    try:
        yield World(keyed, owner, other, tried["id"])
    finally:
        for env in (owner, other):
            env.reset()
            env.close()


def send(world: World, caller: str, route: str) -> tuple[int, bytes, httpx.Headers]:
    method, path, body = ROUTES[route]
    path = path.format(owner=world.owner.key, attempt=world.attempt)
    if isinstance(body, dict) and body.get("api_key") == "{owner}":
        body = {"api_key": world.owner.key}
    with world.as_(caller) as client:
        if path.startswith("/_emulator/stream"):
            with client.stream(method, path) as response:
                # A stream that was let in says hello at once; one refused has a body.
                first = next(response.iter_bytes(), b"")
                return response.status_code, first, response.headers
        response = client.request(method, path, json=body)
        return response.status_code, response.content, response.headers


def owner_traces(world: World) -> list[str]:
    """What would show that an answer carries something of the owner's environment."""
    return [world.owner.key, environment_key(world.owner.key), world.attempt, '"app"', "evt"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", list(ROUTES))
def test_who_may_use_each_control_route(world: World, route: str, caller: str) -> None:
    expected = EXPECTED[route][CALLERS.index(caller)]
    before = world.snapshot()

    status, content, headers = send(world, caller, route)

    assert status == expected, (route, caller, content)
    if status == 401:
        assert content == b""
        assert "Authorization" in headers["X-Emulator-Hint"] or "key" in headers["X-Emulator-Hint"]
    if status == 403:
        body = httpx.Response(403, content=content).json()
        assert body["code"] == 403
        assert "api_key" in body["error"] or "admin key" in body["error"]
        assert "admin key" in headers["X-Emulator-Hint"]
    if status >= 400 or caller in ("no key", "other key"):
        # A refusal changes nothing; the other key reads nothing of the owner's.
        assert world.snapshot() == before, (route, caller)
    if caller in ("no key", "other key"):
        text = content.decode()
        for trace in owner_traces(world):
            assert trace not in text, (route, caller, trace)


# ----------------------------------------------------------------------- what each one sees
def test_health_without_a_key_says_only_that_it_is_up(world: World) -> None:
    with world.as_("no key") as anyone:
        assert anyone.get("/_emulator/health").json() == {"status": "ok", "version": __version__}


def test_health_with_a_key_counts_its_own_environment(world: World) -> None:
    own = {"environments": 1, "applications": 1, "endpoints": 1, "events": 1, "attempts": 2}
    with world.as_("owner's key") as owner, world.as_("other key") as other:
        mine = owner.get("/_emulator/health").json()
        theirs = other.get("/_emulator/health").json()
    assert mine["counts"] == own
    assert mine["deliveries"] == 1
    assert mine["clock"]["next_due"] is not None
    assert set(theirs["counts"].values()) == {0} and theirs["deliveries"] == 0
    assert theirs["clock"]["next_due"] is None  # the owner's retry is not the other's
    with world.admin() as admin:
        everyone = admin.get("/_emulator/health").json()["counts"]
    assert everyone["applications"] >= 1 and everyone["environments"] >= 1


def test_environments_with_a_key_lists_its_own_only(world: World) -> None:
    world.other.app("theirs")
    with world.as_("owner's key") as owner, world.as_("other key") as other:
        mine = owner.get("/_emulator/environments").json()["data"]
        theirs = other.get("/_emulator/environments").json()["data"]
    assert [(e["api_key"], e["applications"]) for e in mine] == [(world.owner.key, ["app"])]
    assert [(e["api_key"], e["applications"]) for e in theirs] == [(world.other.key, ["theirs"])]
    with world.admin() as admin:
        listed = {e["api_key"] for e in admin.get("/_emulator/environments").json()["data"]}
    assert {world.owner.key, world.other.key} <= listed


def test_the_clock_is_read_with_ones_own_next_due(world: World) -> None:
    with world.as_("owner's key") as owner, world.as_("other key") as other:
        mine = owner.get("/_emulator/clock").json()
        theirs = other.get("/_emulator/clock").json()
        settled = other.post("/_emulator/clock", json={}).json()
    assert mine["unix"] == pytest.approx(theirs["unix"], abs=1.0)  # one clock for everyone
    assert mine["next_due_unix"] is not None
    assert theirs["next_due_unix"] is None and settled["next_due_unix"] is None
    assert settled["settled"] is True


def test_only_the_admin_key_moves_the_clock(world: World) -> None:
    with world.as_("owner's key") as owner:
        refused = owner.post("/_emulator/clock", json={"advance": "1h"})
        after_refusal = owner.get("/_emulator/clock").json()["unix"]
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "only the admin key may move or rescale the clock",
        "code": 403,
    }
    assert "an environment key may read it" in hint(refused)
    with world.admin() as admin:
        moved = admin.post("/_emulator/clock", json={"advance": "1h"}).json()
    assert moved["unix"] == pytest.approx(after_refusal + 3600, abs=1.0)


def test_another_key_named_in_a_reset_is_refused_and_nothing_is_deleted(world: World) -> None:
    with world.as_("other key") as other:
        response = other.post("/_emulator/reset", json={"api_key": world.owner.key})
    assert response.status_code == 403
    assert response.json() == {"error": "api_key names another environment", "code": 403}
    assert "own environment only" in hint(response)
    assert world.owner.http.get("/v1/application/app").status_code == 200


def test_a_key_resets_its_own_environment_only(world: World) -> None:
    world.other.app("theirs")
    with world.as_("other key") as other:
        assert other.post("/_emulator/reset", json={"api_key": world.other.key}).status_code == 204
    assert world.other.http.get("/v1/application/theirs").status_code == 404
    assert world.owner.http.get("/v1/application/app").status_code == 200


def test_reset_everything_needs_the_admin_key(world: World) -> None:
    with world.as_("owner's key") as owner:
        response = owner.post("/_emulator/reset")
    assert response.status_code == 403
    assert response.json()["error"] == "api_key missing: every environment needs the admin key"
    assert world.owner.http.get("/v1/application/app").status_code == 200
    with world.admin() as admin:
        assert admin.post("/_emulator/reset").status_code == 204
        assert admin.get("/_emulator/environments").json()["data"] == []


def test_an_unknown_key_is_a_401_on_every_control_route(world: World) -> None:
    with httpx.Client(
        base_url=world.server.url,
        headers={"Authorization": "Bearer sk_not_configured"},
        verify=CLIENT_SSL,
    ) as stranger:
        for method, path, _ in ROUTES.values():
            url = path.format(owner=world.owner.key, attempt=world.attempt)
            response = stranger.request(method, url)
            assert (response.status_code, response.content) == (401, b""), path
            assert "key not configured" in hint(response)


def test_the_admin_key_is_not_an_api_key(world: World) -> None:
    with world.admin() as admin:
        response = admin.get("/v1/application")
    assert (response.status_code, response.content) == (401, b"")


def test_without_configured_keys_the_control_api_stays_open(failing: Receiver) -> None:
    """The default (loopback, one developer): any key, or none, reaches everything."""
    with running_emulator(admin_key=ADMIN) as server:
        one, two = Env(server.url), Env(server.url)
        try:
            one.app("app")
            two.app("app")
            with httpx.Client(base_url=server.url, verify=CLIENT_SSL) as anyone:
                listed = anyone.get("/_emulator/environments").json()["data"]
                assert {e["api_key"] for e in listed} == {one.key, two.key}
                assert anyone.get("/_emulator/health").json()["counts"]["applications"] == 2
                assert anyone.post("/_emulator/clock", json={"advance": 1}).status_code == 200
            # One key resetting another's environment is the owner's business here.
            answer = two.http.post("/_emulator/reset", json={"api_key": one.key})
            assert answer.status_code == 204
            assert one.http.get("/v1/application/app").status_code == 404
        finally:
            one.close()
            two.close()
