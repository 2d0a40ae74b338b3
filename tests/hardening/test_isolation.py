"""Environments stay apart: one API key's environment can never read or change another's data,
through any of the 22 operations; the change stream filtered to one key shows only that key's
changes; with configured keys, the control API is theirs only, and each key reaches only its
own environment through it too (what reaches all of them needs the admin key).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import Env, Receiver, Reply, running_emulator
from tests.emulator.helpers import NOT_FOUND
from tests.hardening import tally
from tests.hardening.change_stream import Stream

SECRET_A = "whsec_" + "A1" * 32

# --------------------------------------------------------------------------- isolation
A_APP = "/v1/application/app"
A_EP = f"{A_APP}/endpoint/ep"
A_EVT = f"{A_APP}/event/evt"

# Every operation, as key B would address key A's resources: (operation, method, path, body).
OPERATIONS: list[tuple[str, str, str, Any]] = [
    ("GetApplications", "GET", "/v1/application", None),
    ("PostApplication", "POST", "/v1/application", {"uid": "app", "name": "b"}),
    ("GetApplication", "GET", A_APP, None),
    ("PutApplication", "PUT", A_APP, {"name": "taken over"}),
    ("DeleteApplication", "DELETE", A_APP, None),
    ("GetEndpoints", "GET", f"{A_APP}/endpoint", None),
    ("PostEndpoint", "POST", f"{A_APP}/endpoint", {"uid": "ep2", "url": "http://127.0.0.1:9/"}),
    ("GetEndpoint", "GET", A_EP, None),
    ("PutEndpoint", "PUT", A_EP, {"url": "http://127.0.0.1:9/stolen"}),
    ("DeleteEndpoint", "DELETE", A_EP, None),
    ("PostEndpointRecover", "POST", f"{A_EP}/recover", {"since": "2000-01-01T00:00:00Z"}),
    ("GetEndpointSecret", "GET", f"{A_EP}/secret", None),
    ("PostEndpointSecretRotate", "POST", f"{A_EP}/secret", {"key": "stolen"}),
    ("GetAttemptedEndpoints", "GET", f"{A_EP}/event", None),
    ("GetEndpointDeliveryAttempts", "GET", f"{A_EP}/delivery_attempt", None),
    ("GetEvents", "GET", f"{A_APP}/event", None),
    ("PostEvent", "POST", f"{A_APP}/event", {"event_type": "t", "payload": {}}),
    ("GetEvent", "GET", A_EVT, None),
    ("GetEventDeliveryAttempts", "GET", f"{A_EVT}/delivery_attempt", None),
    ("GetDeliveryAttempt", "GET", A_EVT + "/delivery_attempt/{attempt}/", None),
    ("GetEventEndpoints", "GET", f"{A_EVT}/endpoint", None),
    ("PostEventRetry", "POST", f"{A_EP}/event/evt", None),
]


def test_the_isolation_table_names_all_22_operations() -> None:
    assert len({row[0] for row in OPERATIONS}) == 22


@dataclass
class Owner:
    """Key A's environment: one of everything, and what it looks like."""

    env: Env
    attempt: str
    receiver: Receiver

    def snapshot(self) -> dict[str, Any]:
        state = {}
        for path in [
            "/v1/application",
            A_APP,
            f"{A_APP}/endpoint",
            A_EP,
            f"{A_EP}/secret",
            f"{A_EP}/event",
            f"{A_EP}/delivery_attempt",
            f"{A_APP}/event",
            A_EVT,
            f"{A_EVT}/delivery_attempt",
            f"{A_EVT}/endpoint",
        ]:
            response = self.env.http.get(path)
            assert response.status_code == 200, (path, response.text)
            state[path] = response.json()
        return state


@pytest.fixture
def owner() -> Iterator[tuple[EmulatorServer, Owner]]:
    with Receiver() as receiver, running_emulator() as server:
        env = Env(server.url, "sk_owner_" + secrets.token_hex(8))
        try:
            env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
            env.endpoint("app", "ep", receiver.hook("/a"), secret=SECRET_A)
            env.publish("app", uid="evt")
            env.settle()
            [attempt] = env.event_attempts("app", "evt")
            yield server, Owner(env, attempt["id"], receiver)
        finally:
            env.close()


def intruder_requests(
    intruder: Env, attempt: str, expect: Callable[[str, httpx.Response], None]
) -> int:
    count = 0
    for name, method, path, body in OPERATIONS:
        response = intruder.http.request(method, path.format(attempt=attempt), json=body)
        expect(name, response)
        count += 1
        tally.add("isolation requests")
    return count


def test_another_key_cannot_see_or_touch_anything(owner: tuple[EmulatorServer, Owner]) -> None:
    """Key B, with an empty environment, addresses each of key A's resources."""
    server, a = owner
    before = a.snapshot()
    delivered = len(a.receiver.received())
    intruder = Env(server.url, "sk_intruder_" + secrets.token_hex(8))

    def expect(name: str, response: httpx.Response) -> None:
        if name == "GetApplications":
            assert response.json() == {"data": [], "has_more": False, "done": True}
        elif name == "PostApplication":
            assert response.status_code == 201  # B's own application "app", not A's
        elif name == "PostEvent":
            assert (response.status_code, response.json()) == (
                404,
                {"error": "application not found", "code": 404},
            )
        else:
            assert (response.status_code, response.json()) == (404, NOT_FOUND), name

    try:
        # B has no application "app" until PostApplication (2nd row) makes its own; run the
        # table first without it, then again now that B has an application of the same uid.
        rows = [row for row in OPERATIONS if row[0] != "PostApplication"]
        for name, method, path, body in rows:
            response = intruder.http.request(method, path.format(attempt=a.attempt), json=body)
            expect(name, response)
            tally.add("isolation requests")
        assert a.snapshot() == before
    finally:
        intruder.close()
    assert len(a.receiver.received()) == delivered


def test_a_key_with_the_same_uids_reaches_only_its_own(owner: tuple[EmulatorServer, Owner]) -> None:
    """Key B makes an application, endpoint and event with A's uids: every operation then
    works on B's, never on A's, and A's attempt ids and cursors mean nothing to B."""
    server, a = owner
    before = a.snapshot()
    with Receiver() as theirs:
        b = Env(server.url, "sk_intruder_" + secrets.token_hex(8))
        try:
            b.app("app")
            b.endpoint("app", "ep", theirs.hook("/b"))
            b.publish("app", uid="evt")
            b.settle()
            delivered = len(a.receiver.received())

            def expect(name: str, response: httpx.Response) -> None:
                assert response.status_code < 500, (name, response.text)
                text = response.text
                assert a.attempt not in text, name  # never A's attempt
                assert SECRET_A not in text, name
                if name == "GetDeliveryAttempt":
                    # A's attempt id under B's event of the same uid.
                    assert (response.status_code, response.json()) == (404, NOT_FOUND)
                if name == "GetApplications":
                    assert [app["name"] for app in response.json()["data"]] == ["app"]

            intruder_requests(b, a.attempt, expect)
            # A's attempt id as a cursor in B's lists is unknown there.
            for path in (f"{A_EP}/delivery_attempt", f"{A_EVT}/delivery_attempt"):
                response = b.http.get(path, params={"starting_after": a.attempt})
                assert response.status_code in (404, 422), response.text
            b.clock(run_until_idle=True)
        finally:
            b.close()
        assert len(a.receiver.received()) == delivered  # nothing of B's went to A's endpoint
        assert all(r.path == "/b" for r in theirs.received())
    assert a.snapshot() == before


def test_the_change_stream_of_one_key_shows_only_its_changes(
    owner: tuple[EmulatorServer, Owner],
) -> None:
    server, a = owner
    stream = Stream(f"{server.url}/_emulator/stream?api_key=sk_other_watcher")
    other = Env(server.url, "sk_other_watcher")
    try:
        a.env.publish("app", uid="watched")
        a.env.settle()
        other.app("mine")
        other.settle()
    finally:
        text = stream.close()
        other.close()
    assert "mine" in text
    assert "watched" not in text and a.attempt not in text


def test_control_routes_need_a_configured_key_when_keys_are_configured() -> None:
    """Without configured keys the control API is the loopback owner's (it sees every
    environment, like the dashboard); with ``--api-key`` only those keys may use it."""
    with running_emulator(api_keys=frozenset({"sk_the_one"})) as server:
        owner = Env(server.url, "sk_the_one")
        stranger = Env(server.url, "sk_stranger")
        try:
            owner.app("app")
            for method, path in [
                ("GET", "/_emulator/attempts/eda_x"),
                ("GET", "/_emulator/environments"),
                ("GET", "/_emulator/clock"),
                ("POST", "/_emulator/clock"),
                ("POST", "/_emulator/reset"),
                ("GET", "/_emulator/stream"),
                ("GET", "/v1/application"),
            ]:
                response = stranger.http.request(method, path)
                assert (response.status_code, response.content) == (401, b""), path
            assert owner.http.get("/v1/application/app").status_code == 200
        finally:
            owner.close()
            stranger.close()


# --------------------------------------------------------------------------- the control API
ADMIN = "sk_admin_" + secrets.token_hex(8)


def test_with_configured_keys_another_key_reaches_nothing_of_a_through_the_control_api() -> None:
    """Key B, configured on the same emulator as A (a team sharing one), tries every control
    route on A's environment: each is refused or shows B's own only, and A's data, pending
    retry and the clock are as they were."""
    a_key, b_key = "sk_team_a_" + secrets.token_hex(4), "sk_team_b_" + secrets.token_hex(4)
    with (
        Receiver(default=Reply(500, b"boom")) as receiver,
        running_emulator(api_keys=frozenset({a_key, b_key}), admin_key=ADMIN) as server,
    ):
        a = Env(server.url, a_key)
        b = Env(server.url, b_key)
        admin = Env(server.url, ADMIN)
        try:
            a.app("app")
            a.endpoint("app", "ep", receiver.hook("/a"), secret=SECRET_A)
            a.publish("app", uid="evt")
            a.settle()
            attempts = a.event_attempts("app", "evt")
            b.app("mine")

            def snapshot() -> Any:
                envs = admin.http.get("/_emulator/environments").json()["data"]
                details = [admin.detail(attempt["id"]) for attempt in attempts]
                return envs, details, admin.http.get("/_emulator/clock").json()

            before = snapshot()
            delivered = len(receiver.received())
            refused = [
                ("POST", "/_emulator/reset", {"api_key": a_key}),
                ("POST", "/_emulator/reset", {}),
                ("POST", "/_emulator/clock", {"advance": "1d"}),
                ("POST", "/_emulator/clock", {"run_until_idle": True}),
                ("POST", "/_emulator/clock", {"to_next_due": True}),
                ("POST", "/_emulator/clock", {"time_scale": 0.001}),
                ("GET", f"/_emulator/stream?api_key={a_key}", None),
                ("GET", "/_emulator/stream", None),
            ]
            for method, path, body in refused:
                response = b.http.request(method, path, json=body)
                assert response.status_code == 403, (path, body, response.text)
                assert response.json()["code"] == 403
                tally.add("isolation requests")
            for attempt in attempts:
                response = b.http.get(f"/_emulator/attempts/{attempt['id']}")
                assert (response.status_code, response.json()) == (404, NOT_FOUND)
                tally.add("isolation requests")
            shown = [
                b.http.get("/_emulator/environments"),
                b.http.get("/_emulator/health"),
                b.http.get("/_emulator/clock"),
                b.http.post("/_emulator/clock", json={}),
            ]
            for response in shown:
                assert response.status_code == 200, response.text
                for trace in [a_key, attempts[0]["id"], SECRET_A, '"app"', "evt"]:
                    assert trace not in response.text, (response.url, trace)
                tally.add("isolation requests")
            assert [e["api_key"] for e in shown[0].json()["data"]] == [b_key]
            assert shown[1].json()["counts"]["applications"] == 1
            assert shown[2].json()["next_due"] is None  # A's pending retry is not B's

            # B's own stream, while A publishes: B's changes only.
            stream = Stream(f"{server.url}/_emulator/stream?api_key={b_key}", b_key)
            try:
                a.publish("app", uid="watched")
                b.app("mine-too")
                a.settle()
            finally:
                text = stream.close()
            assert "mine-too" in text
            assert "watched" not in text and a_key not in text
            after_envs, after_details, after_clock = snapshot()
            assert after_clock["unix"] == before[2]["unix"]
            assert after_clock["time_scale"] == before[2]["time_scale"]
            assert after_details == before[1]
            assert [e["api_key"] for e in after_envs] == [e["api_key"] for e in before[0]]
            assert len(receiver.received()) == delivered + 1  # only A's own publish of "watched"
        finally:
            for env in (a, b, admin):
                env.close()
