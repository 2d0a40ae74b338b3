"""What the service tests share: the usual endpoint's path, a strategy that never retries, a
URL whose deliveries fail at once, and moving the clock."""

from __future__ import annotations

import httpx

EP = "/v1/application/app-1/endpoint/ep-1"
# A strategy that never retries, so a failed try stays the latest attempt (status "3").
NO_RETRY = {"type": "fixed_wait_with_deadline", "retry_delay": 60, "deadline": 1}
REMOTE_URL = "https://example.com/hook"  # not loopback: the emulator fails it at once (code 0)


def advance(api: httpx.Client, seconds: float) -> None:
    """Move the emulator's clock forward (the shared server's clock only ever moves forward)."""
    response = api.post("/_emulator/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text
