"""A webhook receiver for tests, on pytest-httpserver: endpoint URLs with known secrets, every
delivery recorded with its verified signature, scripted answers (statuses, a timeout, a slow
answer), and waits that block on a condition instead of sleeping."""

from __future__ import annotations

import secrets
import string
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response

from emulator.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify,
)
from pytest_plugin.helpers import plural

DEFAULT_WAIT = 5.0
# How long a TIMEOUT answer holds a request at most when the test does not end first.
MAX_HOLD = 30.0
_NOTHING: Any = object()


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one delivery: a status, a body, after an optional delay in
    seconds (``Answer(200, delay=3)`` is slower than the plugin's 2 s delivery timeout)."""

    status: int = 200
    body: str | None = None  # None: the status's reason phrase ("OK", "Internal Server Error")
    delay: float = 0.0
    hang: bool = False

    def __post_init__(self) -> None:
        if not self.hang and not 100 <= self.status <= 599:
            raise ValueError(f"an HTTP status is 100 to 599, not {self.status}")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")

    @property
    def text(self) -> str:
        """The body sent."""
        if self.body is not None:
            return self.body
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def __str__(self) -> str:
        if self.hang:
            return "TIMEOUT"
        return f"{self.status}" + (f" after {self.delay:g} s" if self.delay else "")


# Never answer (until the test ends): the emulator records a timeout.
TIMEOUT = Answer(status=0, body="", hang=True)


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got, and how it answered."""

    endpoint: str
    path: str
    headers: dict[str, str]
    body: bytes
    timestamp: int | None
    signatures: list[str]
    verified: bool
    verification_error: str | None
    answer: Answer = field(default_factory=Answer)
    received_at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        """The body parsed as JSON: the event's payload."""
        return orjson.loads(self.body)

    def describe(self) -> str:
        signature = (
            "signature verified"
            if self.verified
            else f"signature NOT verified ({self.verification_error})"
        )
        try:
            payload = orjson.dumps(self.json).decode()
        except orjson.JSONDecodeError:
            payload = repr(self.body[:80])
        if len(payload) > 100:
            payload = payload[:97] + "..."
        return f"to {self.endpoint!r}: {signature}, answered {self.answer}, payload {payload}"


def _whsec() -> str:
    alphabet = string.ascii_letters + string.digits
    return "whsec_" + "".join(secrets.choice(alphabet) for _ in range(64))


class ReceiverServer(HTTPServer):
    """pytest-httpserver's server, threaded (a held TIMEOUT or a slow answer never delays
    another delivery) and quick to stop: its loop looks for the stop request every 20 ms
    instead of werkzeug's 0.5 s, which every session would otherwise wait at its end."""

    POLL_INTERVAL = 0.02

    def __init__(self) -> None:
        super().__init__(host="127.0.0.1", port=0, threaded=True)

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=self.POLL_INTERVAL)


def start_server() -> HTTPServer:
    """The HTTP server a session's receivers share (127.0.0.1, a free port)."""
    server = ReceiverServer()
    server.start()
    return server


class WebhookReceiver:
    """One test's endpoints on a shared HTTP server, each at ``/<test prefix>/<name>``."""

    def __init__(self, server: HTTPServer, prefix: str | None = None) -> None:
        self.server = server
        self.prefix = prefix or uuid.uuid4().hex[:12]
        self._secrets: dict[str, list[str]] = {}
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._release = threading.Event()

    def attach(self) -> WebhookReceiver:
        """Serve this receiver's paths on the server (until ``close``)."""
        self.server.expect_request(_Prefix(f"/{self.prefix}/")).respond_with_handler(self.handle)
        return self

    # ------------------------------------------------------------------ endpoints
    def url(self, name: str = "default") -> str:
        """The URL of endpoint ``name`` (created on first use)."""
        self.secret(name)
        return f"http://{self.server.host}:{self.server.port}/{self.prefix}/{name}"

    def secret(self, name: str = "default") -> str:
        """The signing secret the receiver expects for ``name`` (``whsec_`` + 64 characters)."""
        if name not in self._secrets:
            self._secrets[name] = [_whsec()]
        return self._secrets[name][0]

    def trust(self, name: str, secret: str) -> None:
        """Also accept ``secret`` for ``name`` (one the emulator generated, or rotated to)."""
        self._secrets.setdefault(name, []).insert(0, secret)

    def endpoint(self, name: str = "default", **fields: Any) -> dict[str, Any]:
        """A body for ``client.endpoints.create``: uid ``name``, its url and secret, plus any
        other ``fields`` (``filter_types=[...]``, ``headers={...}``)."""
        return {"uid": name, "url": self.url(name), "secret": self.secret(name), **fields}

    def respond(self, name: str, *answers: Answer | int) -> None:
        """Script the next answers of ``name`` in order: a status code, ``Answer(...)``
        (e.g. ``Answer(200, delay=3)``) or ``TIMEOUT``; once used up it answers 200."""
        scripted = [a if isinstance(a, Answer) else Answer(a) for a in answers]
        with self._changed:
            self._scripts[name].extend(scripted)

    def endpoints(self) -> list[str]:
        """The endpoint names used so far."""
        return list(self._secrets)

    # ------------------------------------------------------------------ recorded
    def deliveries(self, name: str | None = None) -> list[Delivery]:
        """What arrived so far, oldest first (to one endpoint, or to all)."""
        with self._changed:
            return [d for d in self._deliveries if name is None or d.endpoint == name]

    def wait_for(
        self, count: int = 1, name: str | None = None, timeout: float = DEFAULT_WAIT
    ) -> list[Delivery]:
        """Block until ``count`` deliveries arrived (to ``name``, or in all) and return them;
        fail clearly if they do not within ``timeout`` seconds."""
        got = self._wait(lambda: self._matching(name), count, timeout)
        if len(got) < count:
            where = f"endpoint {name!r}" if name else "any endpoint"
            raise AssertionError(
                f"expected {plural(count, 'delivery')} to {where} within {timeout:g} s, "
                f"got {len(got)}" + _listing(self.deliveries())
            )
        return got

    def assert_received(
        self,
        name: str = "default",
        *,
        count: int = 1,
        payload: Any = _NOTHING,
        timeout: float = DEFAULT_WAIT,
    ) -> list[Delivery]:
        """Assert endpoint ``name`` got exactly ``count`` deliveries (waiting up to ``timeout``
        seconds for them), every one correctly signed, each with ``payload`` if given; returns
        them."""
        got = self._wait(lambda: self._matching(name), count, timeout)
        problems = []
        if len(got) != count:
            problems.append(f"it got {len(got)}" + (f" within {timeout:g} s" if got else ""))
        unsigned = [d for d in got if not d.verified]
        if unsigned:
            problems.append(f"{len(unsigned)} did not pass the signature check")
        if payload is not _NOTHING:
            wrong = [d for d in got if _payload(d) != payload]
            if wrong:
                problems.append(
                    f"{len(wrong)} had another payload than {orjson.dumps(payload).decode()[:100]}"
                )
        if problems:
            raise AssertionError(
                f"expected {plural(count, 'signed delivery')} to endpoint {name!r}, but "
                + "; ".join(problems)
                + _listing(self.deliveries())
            )
        return got

    def _matching(self, name: str | None) -> list[Delivery]:
        return [d for d in self._deliveries if name is None or d.endpoint == name]

    def _wait(
        self, select: Callable[[], list[Delivery]], count: int, timeout: float
    ) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = select()
                remaining = deadline - time.monotonic()
                if len(got) >= count or remaining <= 0:
                    return got
                self._changed.wait(remaining)

    # ------------------------------------------------------------------ serving
    def handle(self, request: Request) -> Response:
        """The pytest-httpserver handler: record, then answer as scripted."""
        name = request.path.removeprefix(f"/{self.prefix}/").split("/", 1)[0]
        body = request.get_data()
        headers = dict(request.headers.items())
        with self._changed:
            script = self._scripts[name]
            answer = script.popleft() if script else Answer()
            self._deliveries.append(self._check(name, request.path, headers, body, answer))
            self._changed.notify_all()
        if answer.hang:
            self._release.wait(MAX_HOLD)
            return Response("", status=504)
        if answer.delay:
            self._release.wait(answer.delay)
        return Response(answer.text, status=answer.status)

    def _check(
        self, name: str, path: str, headers: dict[str, str], body: bytes, answer: Answer
    ) -> Delivery:
        lowered = {k.lower(): v for k, v in headers.items()}
        raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
        signatures = [s.strip() for s in lowered.get(SIGNATURE_HEADER.lower(), "").split(",")]
        error = None
        try:
            # The emulator's clock may run ahead of the wall clock: check the signature only.
            verify(self._secrets.get(name, []), headers, body, tolerance=None)
        except WebhookVerificationError as exc:
            error = str(exc)
        return Delivery(
            endpoint=name,
            path=path,
            headers=headers,
            body=body,
            timestamp=int(raw_timestamp) if raw_timestamp.isdigit() else None,
            signatures=[s for s in signatures if s],
            verified=error is None,
            verification_error=error,
            answer=answer,
        )

    def close(self) -> None:
        """Let held requests go (teardown)."""
        self._release.set()


class _Prefix(URIPattern):
    """Matches every path under a prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, uri: str) -> bool:
        return uri.startswith(self.prefix)


def _payload(delivery: Delivery) -> Any:
    try:
        return delivery.json
    except orjson.JSONDecodeError:
        return _NOTHING


def _listing(deliveries: Sequence[Delivery]) -> str:
    if not deliveries:
        return "\n  (the receiver got nothing)"
    return "".join(f"\n  delivery {n}: {d.describe()}" for n, d in enumerate(deliveries, 1))
