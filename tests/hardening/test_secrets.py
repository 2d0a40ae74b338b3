"""Secrets stay secret: endpoint secrets and sensitive header values never appear in an API
answer (but the secret's own route), nor in the change stream, nor in what the emulator logs at
debug level: a scripted session exercises every route and every body is scanned.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.delivery_helpers import Receiver, Reply, closed_port, running_emulator
from tests.hardening import tally
from tests.hardening.change_stream import Stream
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
