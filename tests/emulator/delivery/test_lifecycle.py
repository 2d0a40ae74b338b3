"""Starting and stopping the delivery engine in-process (``emulator.app.build``)."""

from __future__ import annotations

import asyncio

from emulator.app import build
from emulator.config import EmulatorConfig
from emulator.validation import parse_application, parse_endpoint, parse_event

KEY = "sk_lifecycle"
NOBODY = "http://127.0.0.1:9/"  # nothing listens there


def test_stop_right_after_a_publish_schedules_a_delivery_returns() -> None:
    # The publish wakes the engine's loop, and stop() cancels it in the same loop pass: the
    # loop once took that cancellation for a wake-up and ran on, and stop() never returned.
    async def scenario() -> bool:
        emulator = build(EmulatorConfig(data_dir=None, durable=False))
        emulator.repository.start()
        await emulator.delivery.start()
        service = emulator.service
        app = await service.create_application(KEY, parse_application({"name": "a"})[0])
        endpoint = parse_endpoint({"url": NOBODY}, creating=True)[0]
        await service.create_endpoint(KEY, app.uid, endpoint)
        await asyncio.sleep(0.01)  # the loop waits for a wake-up
        event = parse_event({"event_type": "user.signup", "payload": {}})[0]
        await service.publish(KEY, app.uid, event)
        stopping = asyncio.ensure_future(emulator.delivery.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5)
        await emulator.repository.close()
        return stopping in done

    assert asyncio.run(scenario())
