"""Loopback by default, both ways: nothing listens beyond the machine, nothing is delivered beyond
it unless asked.

* The emulator binds 127.0.0.1 unless told otherwise: the config, the CLI and ``EmulatorServer``
  default to it, and a started ``serve`` process listens on loopback only (read from the
  kernel's socket table).
* Deliveries go to loopback only unless ``--allow-remote-delivery`` is given: every other URL,
  however it is spelled, is refused without a connection.
"""

from __future__ import annotations

import socket
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import httpx

from emulator.cli import build_parser, config_from_args
from emulator.config import EmulatorConfig
from emulator.loopback import LoopbackCheck
from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import Env, running_emulator
from tests.hardening import tally
from tests.processes import Served


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

    real = LoopbackCheck._resolve

    async def resolve(host: str) -> list[str]:
        # A resolver that sends *.localhost to a DNS that answers with a remote address, or
        # that cannot resolve a name at all.
        if host == "no-such-name.localhost":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ["192.0.2.7"] if host == "evil.localhost" else await real(host)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(LoopbackCheck, "_resolve", staticmethod(resolve)))
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
