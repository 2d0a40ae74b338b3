"""A webhook receiver for tests, on pytest-httpserver: endpoint URLs with known secrets, every
delivery recorded with its verified signature, scripted answers, and waits without sleeping."""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from emulator.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify,
)

DEFAULT_WAIT = 5.0
# How long a TIMEOUT answer holds the request at most, when the test does not end first.
MAX_HOLD = 30.0


@dataclass(frozen=True)
class Answer:
    """How the receiver answers one delivery: a status, a body, and an optional delay."""

    status: int = 200
    body: str = "ok"
    delay: float = 0.0
    hang: bool = False


# Never answer (until the test ends): the emulator records a timeout.
TIMEOUT = Answer(status=0, body="", hang=True)


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    endpoint: str
    path: str
    headers: dict[str, str]
    body: bytes
    timestamp: int | None
    signatures: list[str]
    verified: bool
    verification_error: str | None
    received_at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        """The body parsed as JSON (the event's payload)."""
        return orjson.loads(self.body)


def _whsec() -> str:
    alphabet = string.ascii_letters + string.digits
    return "whsec_" + "".join(secrets.choice(alphabet) for _ in range(64))


class WebhookReceiver:
    """Endpoints of one test on a shared HTTP server, each under ``/<test prefix>/<name>``."""

    def __init__(self, server: HTTPServer, prefix: str) -> None:
        self.server = server
        self.prefix = prefix
        self._secrets: dict[str, list[str]] = {}
        self._scripts: dict[str, deque[Answer | int]] = defaultdict(deque)
        self._deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._release = threading.Event()

    # ------------------------------------------------------------------ endpoints
    def url(self, name: str = "default") -> str:
        """The URL of endpoint ``name`` (created on first use)."""
        self.secret(name)
        host = self.server.host
        return f"http://{host}:{self.server.port}/{self.prefix}/{name}"

    def secret(self, name: str = "default") -> str:
        """The signing secret the receiver expects for ``name`` (``whsec_`` + 64 characters)."""
        if name not in self._secrets:
            self._secrets[name] = [_whsec()]
        return self._secrets[name][0]

    def trust(self, name: str, secret: str) -> None:
        """Also accept ``secret`` for ``name`` (e.g. a key the test rotated to)."""
        self._secrets.setdefault(name, []).insert(0, secret)

    def endpoint(self, name: str = "default", **fields: Any) -> dict[str, Any]:
        """A PostEndpoint body for ``name``: uid, url and secret, plus any other ``fields``."""
        return {"uid": name, "url": self.url(name), "secret": self.secret(name), **fields}

    def respond(self, name: str, *answers: Answer | int) -> None:
        """Script the next answers of ``name`` in order (a status code, ``Answer(...)`` or
        ``TIMEOUT``); once they are used up it answers 200."""
        self._scripts[name].extend(answers)

    # ------------------------------------------------------------------ recorded
    def deliveries(self, name: str | None = None) -> list[Delivery]:
        """What arrived so far, oldest first (for one endpoint, or all)."""
        with self._changed:
            return [d for d in self._deliveries if name is None or d.endpoint == name]

    def wait_for(
        self, count: int = 1, name: str | None = None, timeout: float = DEFAULT_WAIT
    ) -> list[Delivery]:
        """Block until ``count`` deliveries arrived (for ``name`` or in all); fail clearly if
        they do not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [d for d in self._deliveries if name is None or d.endpoint == name]
                if len(got) >= count:
                    return got
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    where = f"endpoint {name!r}" if name else "any endpoint"
                    raise AssertionError(
                        f"expected {count} deliveries to {where} within {timeout:g} s, "
                        f"got {len(got)}: {[d.path for d in got]}"
                    )
                self._changed.wait(remaining)

    # ------------------------------------------------------------------ serving
    def handle(self, request: Request) -> Response:
        name = request.path.removeprefix(f"/{self.prefix}/").split("/", 1)[0]
        body = request.get_data()
        headers = dict(request.headers.items())
        delivery = self._check(name, request.path, headers, body)
        with self._changed:
            self._deliveries.append(delivery)
            script = self._scripts[name]
            answer = script.popleft() if script else Answer()
            self._changed.notify_all()
        if isinstance(answer, int):
            answer = Answer(status=answer)
        if answer.hang:
            self._release.wait(MAX_HOLD)
            return Response("", status=504)
        if answer.delay:
            self._release.wait(answer.delay)
        return Response(answer.body, status=answer.status)

    def _check(self, name: str, path: str, headers: dict[str, str], body: bytes) -> Delivery:
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
        )

    def close(self) -> None:
        """Let held requests go (teardown)."""
        self._release.set()

    def endpoints(self) -> Iterable[str]:
        return list(self._secrets)
