"""``emulator.client.types``: the client's attempt codes are the server's, and their names are
what a user sees for real attempts."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from emulator import models
from emulator.client import (
    ATTEMPT_STATUS_NAMES,
    TRIGGER_TYPE_NAMES,
    AttemptStatus,
    SimplyQ,
    TriggerType,
    readable_code,
)
from tests.emulator.client.support import NO_RETRIES, closed_port_url


def test_codes_are_the_servers() -> None:
    # The SDK does not import the server, so its enums are its own: pinned here.
    assert {s.name: s.value for s in AttemptStatus} == {
        s.name: s.value for s in models.AttemptStatus
    }
    assert {t.name: t.value for t in TriggerType} == {t.name: t.value for t in models.TriggerType}
    assert set(ATTEMPT_STATUS_NAMES) == {int(s) for s in AttemptStatus}
    assert set(TRIGGER_TYPE_NAMES) == {int(t) for t in TriggerType}


def test_names_of_real_attempts(client: SimplyQ, receiver: HTTPServer, hook: str) -> None:
    client.applications.create({"uid": "app", "name": "App", "retry_strategy": NO_RETRIES})
    client.endpoints.create("app", {"uid": "good", "url": hook})
    client.endpoints.create("app", {"uid": "down", "url": closed_port_url() + "/hook"})
    client.events.create("app", {"uid": "ev", "event_type": "a", "payload": {}})
    client.emulator.settle()
    client.events.retry("app", "good", "ev")
    client.emulator.settle()

    shown = {
        endpoint: [
            (TRIGGER_TYPE_NAMES[int(a["trigger_type"])], ATTEMPT_STATUS_NAMES[int(a["status"])])
            for a in client.endpoints.delivery_attempts("app", endpoint)
        ]
        for endpoint in ("good", "down")
    }
    assert shown == {
        "good": [("system", "success"), ("manual", "success")],
        "down": [("system", "failed")],
    }


@pytest.mark.parametrize(
    ("code", "shown"),
    [("0", "success (0)"), ("3", "failed (3)"), ("1", "pending (1)"), ("7", "7"), ("x", "x")],
)
def test_readable_codes_name_what_they_are(code: str, shown: str) -> None:
    assert readable_code(code, ATTEMPT_STATUS_NAMES) == shown
    assert readable_code("1", TRIGGER_TYPE_NAMES) == "manual (1)"
