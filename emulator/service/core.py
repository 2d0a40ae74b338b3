"""What every group of operations shares: the repository and clock, lookups that answer 404,
list helpers, and making and announcing delivery attempts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from emulator.clock import Clock
from emulator.errors import FieldError, Invalid, NotFound
from emulator.ids import new_uid
from emulator.models import (
    Application,
    Attempt,
    AttemptStatus,
    Endpoint,
    Environment,
    Event,
    TriggerType,
)
from emulator.repository import Record, Repository
from emulator.validation import ListQuery

NOT_FOUND_MESSAGE = "Resource not found"
APP_NOT_FOUND_ON_PUBLISH = "application not found"

# Called with each attempt that became due for sending (the delivery engine subscribes).
AttemptListener = Callable[[Attempt], None]


def record_seq(record: Record) -> int:
    """The creation order of a stored record (lists are sorted by it)."""
    return record.seq


class ServiceCore:
    """The repository, clock and attempt listeners, and the helpers the operations share."""

    def __init__(self, repository: Repository, clock: Clock, rotation_grace: float = 86400.0):
        self.repo = repository
        self.clock = clock
        self.rotation_grace = rotation_grace
        self._attempt_listeners: list[AttemptListener] = []

    def on_attempt_scheduled(self, listener: AttemptListener) -> None:
        """Call ``listener`` with every attempt that becomes due for sending."""
        self._attempt_listeners.append(listener)

    # ------------------------------------------------------------------ lookups (404)
    def environment(self, api_key: str) -> Environment | None:
        return self.repo.find_environment(api_key)

    def require(
        self,
        api_key: str,
        app_uid: str | None = None,
        endpoint_uid: str | None = None,
        event_uid: str | None = None,
        *,
        missing_app: str = NOT_FOUND_MESSAGE,
    ) -> None:
        """404 unless the named application (and its endpoint and event) exist: production
        answers a missing resource before it reports invalid fields."""
        if app_uid is None:
            return
        app = self._app(api_key, app_uid, missing_app)
        if endpoint_uid is not None:
            self._endpoint(app, endpoint_uid)
        if event_uid is not None:
            self._event(app, event_uid)

    def _app(self, api_key: str, app_uid: str, message: str = NOT_FOUND_MESSAGE) -> Application:
        env = self.repo.find_environment(api_key)
        app = self.repo.app_by_uid.get((env.key, app_uid)) if env else None
        if app is None:
            raise NotFound(message, hint=f"no application `{app_uid}` for this API key")
        return app

    def _endpoint(self, app: Application, endpoint_uid: str) -> Endpoint:
        endpoint = self.repo.endpoint_by_uid.get((app.key, endpoint_uid))
        if endpoint is None:
            raise NotFound(hint=f"application `{app.uid}` has no endpoint `{endpoint_uid}`")
        return endpoint

    def _event(self, app: Application, event_uid: str) -> Event:
        event = self.repo.event_by_uid.get((app.key, event_uid))
        if event is None:
            raise NotFound(hint=f"application `{app.uid}` has no event `{event_uid}`")
        return event

    # ------------------------------------------------------------------ lists
    @staticmethod
    def _cursor_seqs(
        query: ListQuery, find: Callable[[str], Record | None]
    ) -> tuple[int | None, int | None]:
        """The positions of the query's cursors; a cursor naming no item of the list is a 422."""
        errors: list[FieldError] = []
        seqs: list[int | None] = []
        for name, value in (
            ("starting_after", query.starting_after),
            ("ending_before", query.ending_before),
        ):
            record = find(value) if value else None
            if value and record is None:
                errors.append(FieldError(name, f"{name} is not the id of an item of this list"))
            seqs.append(record.seq if record else None)
        if errors:
            raise Invalid(errors)
        return seqs[0], seqs[1]

    @staticmethod
    def _in_time(query: ListQuery, when: float) -> bool:
        # Compare the whole second the wire shows: an item's own created_at, given back as
        # ``before``, includes it; as ``after``, excludes it.
        second = math.floor(when)
        return (query.before is None or second <= query.before) and (
            query.after is None or second > query.after
        )

    @staticmethod
    def _event_matches(query: ListQuery, event: Event) -> bool:
        if query.event_types and event.event_type not in query.event_types:
            return False
        if query.topics and not any(t in query.topics for t in event.topics):
            return False
        return ServiceCore._in_time(query, event.created_at)

    # ------------------------------------------------------------------ attempts
    def _new_attempt(
        self,
        event: Event,
        endpoint: Endpoint,
        trigger: TriggerType,
        due: float,
        retry_count: int = 0,
        delivery_started_at: float | None = None,
    ) -> Attempt:
        seq = self.repo.attempts.take_seq()
        attempt = Attempt(
            key=new_uid("eda_", due),
            env=event.env,
            app=event.app,
            seq=seq,
            event=event.key,
            event_uid=event.uid,
            endpoint=endpoint.key,
            endpoint_uid=endpoint.uid,
            status=AttemptStatus.PENDING,
            trigger_type=trigger,
            retry_count=retry_count,
            scheduled_at=due,
            delivery_started_at=delivery_started_at,
            endpoint_url=endpoint.url,
        )
        self.repo.add_attempt(attempt)
        return attempt

    def _announce(self, attempts: Iterable[Attempt]) -> None:
        for attempt in attempts:
            for listener in self._attempt_listeners:
                listener(attempt)
