"""What a delivery carries: the payload as the body, a signature over exactly it (with every valid
secret during a rotation), and the endpoint's headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from emulator.signing import WebhookVerificationError, verify
from tests.emulator.delivery_helpers import (
    GRACE,
    SECRET,
    Env,
    Received,
    Receiver,
)

ROTATED = "a" * 32


def hmac_b64(secret: str, timestamp: str, body: bytes) -> str:
    """The signature, computed here independently of ``emulator.signing``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signatures(request: Received) -> list[str]:
    return request.headers["X-Simplyq-Signature"].split(",")


# --------------------------------------------------------------------------- body and signature
PAYLOAD: dict[str, Any] = {
    "id": 42,
    "name": "Zoë — ünïcödé ✓ 😀",
    "nested": {"list": [1, 2.5, None, True, False], "empty": {}},
    "quote": 'he said "hi"\n\ttab \\ backslash',
    "big": 12345678901234567,
}


def test_body_is_the_payload_and_signature_covers_exactly_it(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), secret=SECRET)
    assert env.secret("app", "ep") == SECRET
    created = env.publish("app", "user.created", PAYLOAD)
    env.settle()
    [request] = receiver.wait_for(1)
    now = env.now()

    assert request.method == "POST"
    assert request.path == "/hook"
    assert json.loads(request.body) == PAYLOAD == created["payload"]
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Content-Length"] == str(len(request.body))
    assert "Transfer-Encoding" not in request.headers

    timestamp = request.headers["X-Simplyq-Timestamp"]
    assert timestamp.isdigit()
    assert abs(int(timestamp) - now) <= 1
    assert signatures(request) == [hmac_b64(SECRET, timestamp, request.body)]
    assert verify(SECRET, request.headers, request.body, now=now) == int(timestamp)
    assert verify(env.secret("app", "ep"), request.headers, request.body, now=now)

    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify("whsec_" + "x" * 64, request.headers, request.body, now=now)
    altered = request.body.replace(b"42", b"43")
    assert altered != request.body
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, request.headers, altered, now=now)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, request.headers, request.body + b" ", now=now)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, request.headers, request.body, now=int(timestamp) + 301)
    # The default tolerance is 5 minutes.
    assert verify(SECRET, request.headers, request.body, now=int(timestamp) + 299)

    [attempt] = env.event_attempts("app", created["uid"])
    detail = env.detail(attempt["id"])
    assert detail["payload"] == PAYLOAD
    assert detail["request_headers"]["X-Simplyq-Signature"] == ",".join(signatures(request))
    assert detail["request_headers"]["Content-Length"] == str(len(request.body))


def test_generated_secret_signs(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    secret = env.secret("app", "ep")
    env.publish("app", payload={"k": "v"})
    env.settle()
    [request] = receiver.wait_for(1)
    timestamp = request.headers["X-Simplyq-Timestamp"]
    assert signatures(request) == [hmac_b64(secret, timestamp, request.body)]
    verify(secret, request.headers, request.body, now=env.now())


def test_public_and_sensitive_headers_are_sent(env: Env, receiver: Receiver) -> None:
    env.app("app")
    endpoint = env.endpoint(
        "app",
        "ep",
        receiver.hook(),
        headers={
            "headers": {"X-Team": "payments", "X-Trace": "abc-123"},
            "sensitive": {"Authorization": "Bearer receiver-token", "X-Api-Key": "k-secret"},
        },
    )
    assert endpoint["headers"] == {
        "headers": {"X-Team": "payments", "X-Trace": "abc-123"},
        "sensitive": True,
    }
    created = env.publish("app")
    env.settle()
    [request] = receiver.wait_for(1)
    assert request.headers["X-Team"] == "payments"
    assert request.headers["X-Trace"] == "abc-123"
    assert request.headers["Authorization"] == "Bearer receiver-token"
    assert request.headers["X-Api-Key"] == "k-secret"
    assert request.headers["Content-Length"] == str(len(request.body))
    assert "X-Simplyq-Signature" in request.headers

    # What the emulator shows about the request never reveals sensitive values.
    [attempt] = env.event_attempts("app", created["uid"])
    sent = env.detail(attempt["id"])["request_headers"]
    assert sent["X-Team"] == "payments"
    assert sent["Authorization"] != "Bearer receiver-token"
    assert sent["X-Api-Key"] != "k-secret"
    assert "k-secret" not in json.dumps(env.detail(attempt["id"]))
    shown = env.http.get("/v1/application/app/endpoint/ep").json()
    assert "k-secret" not in json.dumps(shown)


def test_rotation_signs_with_both_secrets_during_grace_then_only_new(
    env: Env, receiver: Receiver
) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), secret=SECRET)

    def deliver_one() -> Received:
        count = len(receiver.received())
        env.publish("app", payload={"n": count})
        env.settle()
        return receiver.wait_for(count + 1)[-1]

    before = deliver_one()
    assert signatures(before) == [
        hmac_b64(SECRET, before.headers["X-Simplyq-Timestamp"], before.body)
    ]

    env.rotate("app", "ep", ROTATED)
    assert env.secret("app", "ep") == ROTATED
    during = deliver_one()
    ts = during.headers["X-Simplyq-Timestamp"]
    assert signatures(during) == [
        hmac_b64(ROTATED, ts, during.body),
        hmac_b64(SECRET, ts, during.body),
    ]
    now = env.now()
    verify(ROTATED, during.headers, during.body, now=now)
    verify(SECRET, during.headers, during.body, now=now)

    env.advance(GRACE - 1)
    late = deliver_one()
    ts = late.headers["X-Simplyq-Timestamp"]
    assert signatures(late) == [hmac_b64(ROTATED, ts, late.body), hmac_b64(SECRET, ts, late.body)]

    env.advance(2)  # now past the grace period
    after = deliver_one()
    ts = after.headers["X-Simplyq-Timestamp"]
    assert signatures(after) == [hmac_b64(ROTATED, ts, after.body)]
    now = env.now()
    verify(ROTATED, after.headers, after.body, now=now)
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, after.headers, after.body, now=now)


def test_two_rotations_sign_with_every_valid_secret_newest_first(
    env: Env, receiver: Receiver
) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook(), secret=SECRET)
    env.rotate("app", "ep", "second")
    env.advance(100)
    env.rotate("app", "ep")  # a generated key
    newest = env.secret("app", "ep")
    assert newest not in (SECRET, "second")

    env.publish("app")
    env.settle()
    [request] = receiver.wait_for(1)
    ts = request.headers["X-Simplyq-Timestamp"]
    assert signatures(request) == [
        hmac_b64(newest, ts, request.body),
        hmac_b64("second", ts, request.body),
        hmac_b64(SECRET, ts, request.body),
    ]

    # The first key's grace ends 100 s before the second's.
    env.advance(GRACE - 50)
    env.publish("app")
    env.settle()
    request = receiver.wait_for(2)[-1]
    ts = request.headers["X-Simplyq-Timestamp"]
    assert signatures(request) == [
        hmac_b64(newest, ts, request.body),
        hmac_b64("second", ts, request.body),
    ]
