"""Security defaults: loopback only, secrets stay secret, environments stay apart, no remote
delivery unless asked.

* The emulator binds 127.0.0.1 unless told otherwise: the config, the CLI and ``EmulatorServer``
  default to it, and a started ``serve`` process listens on loopback only (read from the
  kernel's socket table).
* Endpoint secrets and sensitive header values never appear in an API answer (but the secret's
  own route), nor in the change stream, nor in what the emulator logs at debug level: a scripted
  session exercises every route and every body is scanned.
* One API key's environment can never read or change another's data, through any of the 22
  operations; the change stream filtered to one key shows only that key's changes.
* Deliveries go to loopback only unless ``--allow-remote-delivery`` is given: every other URL,
  however it is spelled, is refused without a connection.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest

from emulator.cli import build_parser, config_from_args
from emulator.config import EmulatorConfig
from emulator.delivery import DeliveryEngine
from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import (
    Env,
    Receiver,
    Reply,
    closed_port,
    running_emulator,
)
from tests.emulator.helpers import NOT_FOUND
from tests.hardening import tally
from tests.processes import Served

SECRET_A = "whsec_" + "A1" * 32
SECRET_B = "whsec_" + "B2" * 32
ROTATED = "rotated_" + "C3" * 20
SENSITIVE = {
    "Authorization": "Bearer receiver-token-7f3a9c",
    "X-Api-Key": "sensitive-api-key-51d2e8",
}
SENSITIVE_2 = {"X-Signing-Token": "second-sensitive-value-0b94aa"}
# Values a client tried to set and was refused: not echoed either.
REFUSED_VALUES = {"X-Refused": "refused-sensitive-\r\nvalue-55e1"}


# --------------------------------------------------------------------------- loopback
def listening_addresses(port: int) -> list[str]:
    """The local addresses the kernel shows listening on ``port`` (IPv4 and IPv6)."""
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            if family == socket.AF_INET:
                raw = raw[::-1]
            else:
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
            found.append(socket.inet_ntop(family, raw))
    return found


def test_every_default_binds_loopback() -> None:
    assert EmulatorConfig().host == "127.0.0.1"
    assert EmulatorConfig.from_env({}).host == "127.0.0.1"
    # The option's own default is "not given" (then $SIMPLYQ_EMULATOR_HOST, then loopback).
    args = build_parser().parse_args(["serve"])
    assert config_from_args(args).host == "127.0.0.1"
    server = EmulatorServer()
    assert server.config.host == "127.0.0.1"
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        assert listening_addresses(server.port) == ["127.0.0.1"]


def test_serve_listens_on_loopback_only(tmp_path: Path) -> None:
    served = Served(tmp_path / "serve.log", "--in-memory")
    try:
        served.wait_ready()
        port = int(served.url.rsplit(":", 1)[1])
        assert served.url.startswith("http://127.0.0.1:")
        assert listening_addresses(port) == ["127.0.0.1"]
    finally:
        served.kill()


# --------------------------------------------------------------------------- secrets
@dataclass
class Seen:
    """Every answer of a session: (what was asked, status, headers, body text)."""

    answers: list[tuple[str, int, str, str]] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        label = f"{request.method} {request.url.path}"
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.answers.append((label, response.status_code, headers, response.text))


def scripted_session(base_url: str, ok: str, failing: str, key: str) -> Seen:
    """Use every route once or more, with secrets and sensitive headers in play; returns every
    answer. ``ok`` and ``failing`` are receiver URLs (answering 200 and 500)."""
    seen = Seen()
    with httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        event_hooks={"response": [seen.hook]},
    ) as api:

        def call(method: str, path: str, expected: int, **kwargs: Any) -> httpx.Response:
            response = api.request(method, path, **kwargs)
            assert response.status_code == expected, (method, path, response.text)
            return response

        app, ep = "/v1/application/app", "/v1/application/app/endpoint/ep"
        strategy = {"type": "fixed_wait", "max_retries": 2, "retry_delay": 0}
        call(
            "POST",
            "/v1/application",
            201,
            json={"uid": "app", "name": "a", "retry_strategy": strategy},
        )
        headers = {"headers": {"X-Public": "public-value"}, "sensitive": SENSITIVE}
        call(
            "POST",
            f"{app}/endpoint",
            201,
            json={"uid": "ep", "url": ok, "secret": SECRET_A, "headers": headers},
        )
        call(
            "POST", f"{app}/endpoint", 201, json={"uid": "bad", "url": failing, "headers": headers}
        )
        down = f"http://127.0.0.1:{closed_port()}/down"
        call("POST", f"{app}/endpoint", 201, json={"uid": "down", "url": down, "headers": headers})
        # Refused inputs that carry sensitive values are not echoed back.
        call(
            "POST",
            f"{app}/endpoint",
            422,
            json={"url": ok, "headers": {"sensitive": REFUSED_VALUES}},
        )
        call("POST", f"{app}/endpoint", 422, json={"url": ok, "secret": SECRET_A[:-1]})
        call("POST", f"{ep}/secret", 400, json={"key": ROTATED + "!"})
        call("GET", "/v1/application", 200)
        call("GET", app, 200)
        call("PUT", app, 200, json={"name": "renamed", "retry_strategy": strategy})
        call("GET", f"{app}/endpoint", 200)
        call("GET", ep, 200)
        assert call("GET", f"{ep}/secret", 200).json() == {"key": SECRET_A}
        for n in range(3):
            call(
                "POST",
                f"{app}/event",
                201,
                json={"uid": f"e{n}", "event_type": "t", "payload": {"n": n}},
            )
        call("POST", "/_emulator/clock", 200, json={"run_until_idle": True})
        # Rotations: by PUT with a new secret, then by the secret route with a key.
        call("PUT", ep, 200, json={"secret": SECRET_B, "headers": {"sensitive": SENSITIVE_2}})
        call("POST", f"{ep}/secret", 204, json={"key": ROTATED})
        assert call("GET", f"{ep}/secret", 200).json() == {"key": ROTATED}
        call("POST", f"{app}/event", 201, json={"uid": "e3", "event_type": "t", "payload": {}})
        call("POST", f"{ep}/event/e0", 202)
        call("POST", f"{app}/endpoint/bad/recover", 202, json={"since": "2000-01-01T00:00:00Z"})
        call("POST", "/_emulator/clock", 200, json={"run_until_idle": True})
        call("GET", f"{ep}/event", 200)
        attempts = call("GET", f"{ep}/delivery_attempt", 200).json()["data"]
        attempts += call("GET", f"{app}/endpoint/bad/delivery_attempt", 200).json()["data"]
        call("GET", f"{app}/event", 200)
        for n in range(4):
            call("GET", f"{app}/event/e{n}", 200)
            call("GET", f"{app}/event/e{n}/endpoint", 200)
            for attempt in call("GET", f"{app}/event/e{n}/delivery_attempt", 200).json()["data"]:
                call("GET", f"{app}/event/e{n}/delivery_attempt/{attempt['id']}/", 200)
        for attempt in attempts:
            detail = call("GET", f"/_emulator/attempts/{attempt['id']}", 200).json()
            assert detail["request_headers"] is not None
            for name in (*SENSITIVE, *SENSITIVE_2):
                if name in detail["request_headers"]:
                    assert detail["request_headers"][name] == "<redacted>"
        call("GET", "/_emulator/health", 200)
        call("GET", "/_emulator/clock", 200)
        call("GET", "/_emulator/environments", 200)
        call("DELETE", f"{app}/endpoint/down", 204)
        call("DELETE", app, 204)
    return seen


SECRET_VALUES = [SECRET_A, SECRET_B, ROTATED, *SENSITIVE.values(), *SENSITIVE_2.values()]
SECRET_VALUES += [v.replace("\r\n", "") for v in REFUSED_VALUES.values()]
SECRET_VALUES += [part for v in REFUSED_VALUES.values() for part in v.split("\r\n")]


def leaks(text: str, values: list[str]) -> list[str]:
    return [value for value in values if value in text or json.dumps(value)[1:-1] in text]


class Stream:
    """Collects the control API's change stream in a thread until closed."""

    def __init__(self, url: str) -> None:
        self.text: list[str] = []
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=0.5))
        self._url = url
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._connected = threading.Event()
        self._thread.start()
        assert self._connected.wait(10), "the stream did not connect"

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                with self._client.stream("GET", self._url) as response:
                    for line in response.iter_lines():
                        self._connected.set()
                        self.text.append(line)
                        if self._stop.is_set():
                            return
            except httpx.ReadTimeout:
                continue
            except httpx.HTTPError:
                return

    def close(self) -> str:
        self._stop.set()
        self._thread.join(10)
        self._client.close()
        return "\n".join(self.text)


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with Receiver() as ok, Receiver(default=Reply(500, b"no")) as failing:
        yield ok, failing


def test_secrets_and_sensitive_values_never_in_answers_stream_or_logs(
    receivers: tuple[Receiver, Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    ok, failing = receivers
    key = "sk_live_" + secrets.token_hex(12)
    with running_emulator() as server, caplog.at_level(logging.DEBUG):
        stream = Stream(server.url + "/_emulator/stream")
        try:
            seen = scripted_session(server.url, ok.hook("/ok"), failing.hook("/bad"), key)
        finally:
            streamed = stream.close()
    # The receivers did get the sensitive values: they were really in play.
    assert ok.received()[0].headers["X-Api-Key"] == SENSITIVE["X-Api-Key"]
    assert any(r.headers.get("X-Signing-Token") for r in ok.received())
    secret_route = "/endpoint/ep/secret"
    scanned = 0
    for label, status, headers, body in seen.answers:
        values = SECRET_VALUES
        if label.startswith("GET ") and label.endswith(secret_route):
            # The secret's own route shows the newest key, and only it.
            values = [v for v in SECRET_VALUES if v != json.loads(body)["key"]]
        assert not leaks(body + headers, values), (label, status, body)
        if label.split(" ")[1].startswith("/v1/"):
            assert key not in body
        scanned += 1
    assert scanned >= 60
    assert "attempt.updated" in streamed and "endpoint.updated" in streamed
    assert not leaks(streamed, SECRET_VALUES), "the change stream shows a secret"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not leaks(logged, [*SECRET_VALUES, key]), "a secret was logged"
    tally.note(
        "secret scan",
        f"{scanned} API answers, {len(streamed.splitlines())} stream lines, "
        f"{len(caplog.records)} log records: no secret",
    )


def test_no_secret_in_the_debug_log_of_serve(
    tmp_path: Path, receivers: tuple[Receiver, Receiver]
) -> None:
    ok, failing = receivers
    key = "sk_live_" + secrets.token_hex(12)
    served = Served(tmp_path / "serve.log", "--in-memory", "--log-level", "debug")
    try:
        served.wait_ready()
        scripted_session(served.url, ok.hook("/ok"), failing.hook("/bad"), key)
        # A request the HTTP layer itself refuses, carrying a sensitive value.
        host, port = served.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"POST /v1/application HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                f"X-Leak: {SENSITIVE['X-Api-Key']}\x01\r\nContent-Length: 2\r\n\r\n{{}}".encode()
            )
            sock.recv(65536)
        assert served.stop() == 0
    finally:
        served.kill()
    output = served.output()
    assert "Application startup complete" in output  # it did log, at debug level
    assert not leaks(output, [*SECRET_VALUES, key]), output


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


# --------------------------------------------------------------------------- remote delivery
def test_remote_delivery_is_off_by_default() -> None:
    assert EmulatorConfig().allow_remote_delivery is False
    assert config_from_args(build_parser().parse_args(["serve"])).allow_remote_delivery is False


LOCAL = [
    "http://127.0.0.1:9/a",
    "http://127.8.9.10:9/b",
    "http://[::1]:9/c",
    "http://localhost:9/d",
]
NOT_LOCAL = [
    "http://192.0.2.1/hook",  # TEST-NET-1
    "https://example.com/hook",
    "http://0.0.0.0:9/",  # "this host": connects locally, but is not a loopback address
    "http://[::ffff:127.0.0.1]:9/",  # IPv4-mapped
    "http://2130706433:9/",  # 127.0.0.1 as one number: resolvers would take it
    "http://0x7f000001:9/",
    "http://127.1:9/",
    "http://localhost.:9/",
    "http://localhost.example.com:9/",
    "http://evil.localhost:9/",  # resolved (below) to a non-loopback address
    "http://no-such-name.localhost:9/",  # not resolvable: nothing shows it is local
]


def test_only_loopback_urls_are_ever_contacted() -> None:
    """With the default settings no URL but a loopback one reaches the HTTP client: the rest
    fail with a message naming the option. The client here is a mock: nothing leaves."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, text="ok")

    def client_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(handler))

    real = DeliveryEngine._resolve

    async def resolve(host: str) -> list[str]:
        # A resolver that sends *.localhost to a DNS that answers with a remote address, or
        # that cannot resolve a name at all.
        if host == "no-such-name.localhost":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ["192.0.2.7"] if host == "evil.localhost" else await real(host)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(DeliveryEngine, "_resolve", staticmethod(resolve)))
        server = stack.enter_context(running_emulator(client_factory=client_factory))
        env = Env(server.url)
        stack.callback(env.close)
        env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
        for n, url in enumerate(LOCAL + NOT_LOCAL):
            assert env.endpoint("app", f"ep{n}", url)["url"] == url
        created = env.publish("app")
        env.clock(run_until_idle=True)
        attempts = env.event_attempts("app", created["uid"])
    assert sorted(requested) == sorted(LOCAL)
    for n, url in enumerate(NOT_LOCAL, start=len(LOCAL)):
        mine = [a for a in attempts if a["endpoint_id"] == f"ep{n}"]
        assert [(a["status"], a["response_status_code"]) for a in mine] == [("3", 0)] * 2, url
        assert all("--allow-remote-delivery" in a["response"] for a in mine)
    tally.add("remote URLs refused", len(NOT_LOCAL))


def test_allow_remote_delivery_lets_them_through() -> None:
    """The switch works (still with a mock client: nothing leaves the machine)."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.host)
        return httpx.Response(200)

    with running_emulator(
        client_factory=lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        allow_remote_delivery=True,
    ) as server:
        env = Env(server.url)
        try:
            env.app("app")
            env.endpoint("app", "remote", "https://example.com/hook")
            env.publish("app")
            env.settle()
        finally:
            env.close()
    assert requested == ["example.com"]
