"""pytest fixtures for SimplyQ webhook integration tests, backed by simplyq-emulator.

Installing simplyq-emulator registers the plugin (``pytest11`` entry point): the fixtures
``simplyq``, ``simplyq_server`` and ``webhook_receiver`` are available in every test.
"""

from __future__ import annotations

from pytest_plugin.helpers import DeliveryAssertionError, SimplyQEnvironment
from pytest_plugin.receiver import TIMEOUT, Answer, Delivery, WebhookReceiver

__all__ = [
    "TIMEOUT",
    "Answer",
    "Delivery",
    "DeliveryAssertionError",
    "SimplyQEnvironment",
    "WebhookReceiver",
]
