"""pytest fixtures for SimplyQ webhook integration tests, backed by simplyq-emulator.

Installing simplyq-emulator registers the plugin (``pytest11`` entry point): the fixtures
``simplyq``, ``webhook_receiver``, ``simplyq_server`` and ``simplyq_receiver_server`` are
available in every test. The names below are for annotating tests.

pytest imports this package whenever it loads the plugin, so the names are imported on first
use: the modules behind them load httpx, the emulator and its web server (about 180 ms), which
a run that never uses the plugin should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_plugin.helpers import DeliveryAssertionError, EmulatorClock, SimplyQEnvironment
    from pytest_plugin.receiver import TIMEOUT, Answer, Delivery, WebhookReceiver
    from pytest_plugin.session import SimplyQServer

__all__ = [
    "TIMEOUT",
    "Answer",
    "Delivery",
    "DeliveryAssertionError",
    "EmulatorClock",
    "SimplyQEnvironment",
    "SimplyQServer",
    "WebhookReceiver",
]


def __getattr__(name: str) -> object:
    if name in {"DeliveryAssertionError", "EmulatorClock", "SimplyQEnvironment"}:
        from pytest_plugin import helpers

        return getattr(helpers, name)
    if name in {"TIMEOUT", "Answer", "Delivery", "WebhookReceiver"}:
        from pytest_plugin import receiver

        return getattr(receiver, name)
    if name == "SimplyQServer":
        from pytest_plugin.session import SimplyQServer

        return SimplyQServer
    raise AttributeError(f"module 'pytest_plugin' has no attribute {name!r}")
