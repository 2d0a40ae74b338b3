"""A retry test written with the fixtures (as a user writes it, in this very session): the full
default schedule, 7 tries over 10 h 43 min 30 s of emulated time, in well under a second of
wall time."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import datetime

import pytest

from pytest_plugin import SimplyQEnvironment, WebhookReceiver

# The default strategy's waits between the 7 tries: 30 s, 3 min, 10 min, 30 min, 2 h, 8 h.
DEFAULT_GAPS = [30, 180, 600, 1800, 7200, 28800]


def test_the_full_default_schedule_in_under_a_second(
    simplyq: SimplyQEnvironment,
    webhook_receiver: WebhookReceiver,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", webhook_receiver.endpoint("orders"))
    webhook_receiver.respond("orders", *[503] * 7)

    began = time.perf_counter()
    event = client.events.create("shop", {"event_type": "order.created", "payload": {"id": 1}})
    simplyq.clock.run_until_idle()
    tries = simplyq.assert_delivered("shop", event["uid"], "orders", attempts=7, status="fail")
    wall = time.perf_counter() - began

    at = [datetime.fromisoformat(str(t["attempted_at"])) for t in tries]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(at)]
    # attempted_at has whole seconds and each gap also holds the try's own few milliseconds.
    assert len(gaps) == len(DEFAULT_GAPS)
    assert all(want <= gap <= want + 1 for gap, want in zip(gaps, DEFAULT_GAPS, strict=True)), gaps
    total = (at[-1] - at[0]).total_seconds()
    assert 38610 <= total <= 38610 + 6  # 10 h 43 min 30 s
    assert len(webhook_receiver.deliveries("orders")) == 7
    assert wall < 1.0, f"the full schedule took {wall:.3f} s of wall time"
    record_property("wall_seconds", round(wall, 4))
    with capsys.disabled():
        print(f"\n[full default schedule: 7 tries, {total:.0f} s emulated, {wall:.3f} s wall]")
