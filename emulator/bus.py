"""In-process change feed: every stored change is published once to every subscriber."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Change:
    """One stored change: its kind (event, attempt, endpoint, application), action and data."""

    id: int
    kind: str
    action: str
    env: str
    data: dict[str, Any]


@dataclass(eq=False)
class Subscription:
    """A subscriber's bounded queue; when it overflows the oldest changes are dropped."""

    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))

    def offer(self, change: Change) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(change)


class ChangeBus:
    """Fan-out of changes to subscribers; publishing never blocks and never fails."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._ids = itertools.count(1)
        # Set (from any thread) when the server stops: streams end instead of holding it up.
        self.closed = False

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscriptions)

    def publish(self, kind: str, action: str, env: str, data: dict[str, Any]) -> None:
        change = Change(next(self._ids), kind, action, env, data)
        for subscription in list(self._subscriptions):
            subscription.offer(change)
