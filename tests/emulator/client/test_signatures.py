"""``emulator.client.signatures``: ``construct_event`` and ``verify_signature`` on real
deliveries, including after a secret rotation."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from emulator.client import SimplyQ, WebhookVerificationError, construct_event, verify_signature
from tests.emulator.client.support import SECRET, received


def test_construct_event_on_a_real_delivery(
    client: SimplyQ, receiver: HTTPServer, hook: str
) -> None:
    client.applications.create({"uid": "app", "name": "App"})
    client.endpoints.create("app", {"uid": "ep", "url": hook, "secret": SECRET})
    payload: dict[str, Any] = {"user": {"id": 1, "name": "Zoë"}, "tags": ["a", "b"]}
    client.events.create("app", {"event_type": "user.created", "payload": payload})
    client.emulator.settle()
    (request,) = received(receiver, hook)
    body, headers = request.get_data(), request.headers

    assert construct_event(body, headers, SECRET) == payload
    assert construct_event(body.decode(), dict(headers), [SECRET]) == payload
    timestamp = verify_signature(SECRET, headers, body)
    assert abs(timestamp - time.time()) < 60

    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        construct_event(body + b" ", headers, SECRET)
    with pytest.raises(WebhookVerificationError):
        construct_event(body, headers, "whsec_" + "x" * 64)
    with pytest.raises(WebhookVerificationError, match="too old"):
        construct_event(body, headers, SECRET, now=timestamp + 301)
    # A stored payload replayed much later: tolerance=None skips the age check only.
    assert construct_event(body, headers, SECRET, tolerance=None, now=timestamp + 10**6) == payload
    with pytest.raises(WebhookVerificationError, match="missing"):
        construct_event(body, {}, SECRET)

    # After a rotation deliveries carry both signatures: the old secret still verifies.
    client.endpoints.rotate_secret("app", "ep", "c" * 32)
    client.events.create("app", {"event_type": "user.updated", "payload": {"n": 2}})
    client.emulator.settle()
    request = received(receiver, hook)[-1]
    assert construct_event(request.get_data(), request.headers, SECRET) == {"n": 2}
    assert construct_event(request.get_data(), request.headers, "c" * 32) == {"n": 2}
