"""What the API does, free of HTTP: each public method is one operation, given parsed and
validated input.

Methods that change state update the repository and then ``await repository.commit()``, so a
caller that got an answer knows the change is durable. A missing resource is a ``NotFound``
(404), raised before anything that depends on stored data (a taken uid, an unknown cursor: 422).
"""

from __future__ import annotations

from emulator.service.applications import ApplicationOperations
from emulator.service.attempts import AttemptOperations
from emulator.service.core import APP_NOT_FOUND_ON_PUBLISH, NOT_FOUND_MESSAGE, AttemptListener
from emulator.service.endpoints import EndpointOperations
from emulator.service.events import EventOperations

__all__ = ["APP_NOT_FOUND_ON_PUBLISH", "NOT_FOUND_MESSAGE", "AttemptListener", "Service"]


class Service(ApplicationOperations, EndpointOperations, EventOperations, AttemptOperations):
    """The SimplyQ operations over one repository and one clock (each group in its module)."""
