"""Real local receivers and a small API client for the delivery, control and restart tests.

Everything here talks over real sockets on 127.0.0.1: ``Receiver`` is a threaded HTTP server
that records every request it gets (raw body bytes included) and answers as told;
``Blackhole`` accepts connections and never answers; ``closed_port`` gives a port nobody
listens on. ``running_emulator`` starts a real ``EmulatorServer`` (uvicorn in a thread) and
always stops it.

Most tests run the emulator with a *frozen* clock (``FROZEN``: a huge time scale, so emulated
time does not move on its own) and move time only with ``POST /_emulator/clock``: retry
schedules are then exact to the second and deterministic.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import httpx
import uvicorn

import emulator.server as server_module
from emulator.config import EmulatorConfig
from emulator.delivery import ClientFactory
from emulator.server import EmulatorServer
from emulator.web.app import create_app

# Real seconds per emulated second: emulated time moves ~1 µs per 1000 real seconds.
FROZEN = 1e9
GRACE = 600.0  # rotation grace of the delivery suite's emulator (seconds)
SECRET = "whsec_" + "Ab3" * 21 + "Z"
WAIT = 5.0  # the longest any test waits (polls) for something to happen
HOST = "127.0.0.1"
# One TLS context for every test client: httpx builds a new one (~0.1 s) per client otherwise.
CLIENT_SSL = ssl.create_default_context()


# --------------------------------------------------------------------------- receivers
@dataclass(frozen=True)
class Reply:
    """What a receiver answers."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """One request a receiver got, exactly as it arrived."""

    method: str
    path: str
    headers: httpx.Headers
    body: bytes
    at: float  # time.monotonic() when it arrived


Responder = Callable[[Received], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without this, each answer would wait ~40 ms
    # for the emulator's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def _any(self) -> None:
        self.server.owner._handle(self)

    do_POST = do_GET = do_PUT = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The emulator may hang up mid-answer (a truncated huge body): not an error here.
        pass


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers a script.

    ``script`` replies are used in order, one per request; after them ``respond`` (a function
    of the request) or else ``default`` answers.
    """

    def __init__(
        self,
        *,
        default: Reply | None = None,
        script: list[Reply] | None = None,
        respond: Responder | None = None,
        port: int = 0,
    ) -> None:
        self.default = default or Reply()
        self.script = list(script or [])
        self.respond = respond
        self.requests: list[Received] = []
        self._changed = threading.Condition()
        self._server = _Server((HOST, port), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def hook(self, path: str = "/hook") -> str:
        return self.url + path

    def _handle(self, handler: _Handler) -> None:
        length = handler.headers.get("Content-Length")
        body = handler.rfile.read(int(length)) if length is not None else b""
        received = Received(
            handler.command,
            handler.path,
            httpx.Headers(list(handler.headers.items())),
            body,
            time.monotonic(),
        )
        with self._changed:
            self.requests.append(received)
            if self.script:
                reply = self.script.pop(0)
            elif self.respond is not None:
                reply = self.respond(received)
            else:
                reply = self.default
            self._changed.notify_all()
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.status not in (204, 304):
            handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if reply.status not in (204, 304):
            handler.wfile.write(reply.body)
        handler.wfile.flush()

    def received(self, path: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(
        self, count: int, path: str | None = None, timeout: float = WAIT
    ) -> list[Received]:
        """Wait (bounded) until at least ``count`` requests (to ``path``) have arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [r for r in self.requests if path is None or r.path == path]
                if len(got) >= count:
                    return got
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} requests to {path or 'any path'}, got {len(got)}"
                    )
                self._changed.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(WAIT)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Blackhole:
    """Accepts connections on 127.0.0.1, reads what is sent, and never answers."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self.data = bytearray()
        self.connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def hook(self, path: str = "/hang") -> str:
        return self.url + path

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.05)
            with self._lock:
                self.connections.append(conn)
            reader = threading.Thread(target=self._read, args=(conn,), daemon=True)
            self._threads.append(reader)
            reader.start()

    def _read(self, conn: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.data.extend(chunk)

    def requests_seen(self) -> int:
        with self._lock:
            return bytes(self.data).count(b"POST ")

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT)
        with self._lock:
            for conn in self.connections:
                conn.close()
        self._sock.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- emulator
def emulator_config(**changes: Any) -> EmulatorConfig:
    """An in-memory emulator on a free port of 127.0.0.1, clock frozen unless told otherwise."""
    values: dict[str, Any] = {"data_dir": None, "port": 0, "host": HOST, "time_scale": FROZEN}
    values.update(changes)
    return EmulatorConfig(**values)


@contextlib.contextmanager
def running_emulator(
    client_factory: ClientFactory | None = None, **changes: Any
) -> Iterator[EmulatorServer]:
    """A started emulator (stopped on exit). ``client_factory`` replaces the delivery engine's
    HTTP client factory, for tests that must observe which requests the engine makes."""
    server = EmulatorServer(emulator_config(**changes))
    if client_factory is None:
        server.start()
    else:

        def build(config: EmulatorConfig) -> uvicorn.Server:
            app = create_app(config, client_factory=client_factory)
            return uvicorn.Server(
                uvicorn.Config(app, log_level=config.log_level, lifespan="on", access_log=False)
            )

        with mock.patch.object(server_module, "uvicorn_server", build):
            server.start()
    try:
        yield server
    finally:
        server.stop()


class Env:
    """One API key (one SimplyQ environment) on an emulator, plus the control API."""

    def __init__(self, base_url: str, key: str | None = None) -> None:
        self.key = key or "sk_test_" + secrets.token_hex(16)
        self.base_url = base_url
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30.0,
            verify=CLIENT_SSL,
        )

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------- resources
    def app(self, uid: str = "app", **fields: Any) -> dict[str, Any]:
        response = self.http.post("/v1/application", json={"uid": uid, "name": uid, **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def endpoint(self, app: str, uid: str, url: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post(
            f"/v1/application/{app}/endpoint", json={"uid": uid, "url": url, **fields}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def publish(
        self,
        app: str,
        event_type: str = "user.created",
        payload: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {"event_type": event_type, "payload": payload or {"n": 1}, **fields}
        response = self.http.post(f"/v1/application/{app}/event", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def secret(self, app: str, endpoint: str) -> str:
        response = self.http.get(f"/v1/application/{app}/endpoint/{endpoint}/secret")
        assert response.status_code == 200, response.text
        key: str = response.json()["key"]
        return key

    def rotate(self, app: str, endpoint: str, key: str | None = None) -> None:
        body = {} if key is None else {"key": key}
        response = self.http.post(f"/v1/application/{app}/endpoint/{endpoint}/secret", json=body)
        assert response.status_code == 204, response.text

    def event_attempts(self, app: str, event: str) -> list[dict[str, Any]]:
        return self._list(f"/v1/application/{app}/event/{event}/delivery_attempt")

    def endpoint_attempts(self, app: str, endpoint: str) -> list[dict[str, Any]]:
        return self._list(f"/v1/application/{app}/endpoint/{endpoint}/delivery_attempt")

    def event_endpoints(self, app: str, event: str) -> list[str]:
        return [e["uid"] for e in self._list(f"/v1/application/{app}/event/{event}/endpoint")]

    def _list(self, path: str) -> list[dict[str, Any]]:
        response = self.http.get(path, params={"limit": 150})
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    # ------------------------------------------------------------- control
    def clock(self, **body: Any) -> dict[str, Any]:
        """POST /_emulator/clock; returns once everything due has been tried."""
        response = self.http.post("/_emulator/clock", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert answer["settled"] is True, answer
        return answer

    def settle(self) -> dict[str, Any]:
        return self.clock()

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.clock(advance=seconds)

    def now(self) -> float:
        response = self.http.get("/_emulator/clock")
        assert response.status_code == 200, response.text
        unix: float = response.json()["unix"]
        return unix

    def align_clock(self) -> float:
        """Advance the (frozen) clock to the next whole second; returns it."""
        now = self.now()
        target = float(int(now) + 1)
        self.advance(target - now)
        return target

    def detail(self, attempt_id: str) -> dict[str, Any]:
        response = self.http.get(f"/_emulator/attempts/{attempt_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def reset(self) -> None:
        response = self.http.post("/_emulator/reset", json={"api_key": self.key})
        assert response.status_code == 204, response.text


def fresh_env(base_url: str) -> Iterator[Env]:
    """A new environment for one test (a fixture's body): reset and closed afterwards."""
    env = Env(base_url)
    try:
        yield env
    finally:
        env.reset()
        env.close()


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded); returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def paths(receiver: Receiver) -> list[str]:
    """The paths a receiver was sent, sorted."""
    return sorted(r.path for r in receiver.received())


def unix(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def gaps(attempts: list[dict[str, Any]]) -> list[float]:
    """Seconds between consecutive attempts."""
    times = [unix(a["attempted_at"]) for a in attempts]
    return [later - earlier for earlier, later in itertools.pairwise(times)]
