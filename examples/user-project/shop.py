"""The application under test: placing an order publishes an ``order.created`` webhook.

It reads its SimplyQ key and URL from the environment, as it would in production; the tests
point both at the emulator.
"""

from __future__ import annotations

import os

from emulator.client import SimplyQ

APP = "shop"


def place_order(order_id: int, total: str) -> str:
    """Record an order and tell the subscribers; returns the event's uid."""
    key = os.environ["SIMPLYQ_API_KEY"]
    url = os.environ.get("SIMPLYQ_BASE_URL", "https://api.simplyq.io")
    with SimplyQ(key, base_url=url) as simplyq:
        event = simplyq.events.create(
            APP, {"event_type": "order.created", "payload": {"id": order_id, "total": total}}
        )
    return str(event["uid"])
