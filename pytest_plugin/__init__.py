"""pytest fixtures for SimplyQ webhook integration tests, backed by simplyq-emulator.

Installing simplyq-emulator registers the plugin (``pytest11`` entry point): the fixtures
``simplyq``, ``webhook_receiver``, ``simplyq_server`` and ``simplyq_receiver_server`` are
available in every test. The names below are imported on first use, so loading the plugin
stays cheap for runs that never use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_plugin.helpers import DeliveryAssertionError, EmulatorClock, SimplyQEnvironment
    from pytest_plugin.receiver import TIMEOUT, Answer, Delivery, WebhookReceiver
    from pytest_plugin.session import SimplyQServer

_EXPORTS = {
    "TIMEOUT": "pytest_plugin.receiver",
    "Answer": "pytest_plugin.receiver",
    "Delivery": "pytest_plugin.receiver",
    "WebhookReceiver": "pytest_plugin.receiver",
    "DeliveryAssertionError": "pytest_plugin.helpers",
    "EmulatorClock": "pytest_plugin.helpers",
    "SimplyQEnvironment": "pytest_plugin.helpers",
    "SimplyQServer": "pytest_plugin.session",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_plugin' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
