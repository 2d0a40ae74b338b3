"""Delivery attempts: their lists and details, manual retry and recover, the next automatic try
of a failed one, and what to resume after a restart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from emulator.errors import NotFound
from emulator.models import Attempt, AttemptStatus, TriggerType
from emulator.pagination import Page, paginate
from emulator.service.core import ServiceCore, record_seq
from emulator.validation import ListQuery


class AttemptOperations(ServiceCore):
    """The operations on delivery attempts."""

    def _attempt_page(
        self, attempts: Sequence[Attempt], query: ListQuery, belongs: Callable[[Attempt], bool]
    ) -> Page[Attempt]:
        events_by_key = self.repo.events.by_key
        # The event's own time does not bound its attempts: only its type and topics do.
        event_query = replace(query, before=None, after=None)

        def keep(attempt: Attempt) -> bool:
            if query.status is not None and attempt.status != query.status:
                return False
            code = query.response_status_code
            if code is not None:
                actual = attempt.response_status_code
                if (code == 0 and actual != 0) or (code and actual // 100 != code // 100):
                    return False
            if query.event_types or query.topics:
                event = events_by_key.get(attempt.event)
                if event is None or not self._event_matches(event_query, event):
                    return False
            return self._in_time(query, attempt.time)

        def find(key: str) -> Attempt | None:
            attempt = self.repo.attempts.by_key.get(key)
            return attempt if attempt is not None and belongs(attempt) else None

        after, before = self._cursor_seqs(query, find)
        return paginate(
            attempts,
            seq=record_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=keep,
        )

    def list_endpoint_attempts(
        self, api_key: str, app_uid: str, endpoint_uid: str, query: ListQuery
    ) -> Page[Attempt]:
        endpoint = self._endpoint(self._app(api_key, app_uid), endpoint_uid)
        return self._attempt_page(
            self.repo.attempts_of_endpoint.get(endpoint.key, []),
            query,
            lambda a: a.endpoint == endpoint.key,
        )

    def list_event_attempts(
        self, api_key: str, app_uid: str, event_uid: str, query: ListQuery
    ) -> Page[Attempt]:
        event = self._event(self._app(api_key, app_uid), event_uid)
        return self._attempt_page(
            self.repo.attempts_of_event.get(event.key, []), query, lambda a: a.event == event.key
        )

    def get_attempt(self, api_key: str, app_uid: str, event_uid: str, attempt_id: str) -> Attempt:
        event = self._event(self._app(api_key, app_uid), event_uid)
        attempt = self.repo.attempts.by_key.get(attempt_id)
        if attempt is None or attempt.event != event.key:
            raise NotFound(hint=f"event `{event_uid}` has no delivery attempt `{attempt_id}`")
        return attempt

    # ------------------------------------------------------------------ new deliveries
    async def retry(self, api_key: str, app_uid: str, endpoint_uid: str, event_uid: str) -> None:
        """Deliver an event to an endpoint again, whatever its status (a manual delivery)."""
        app = self._app(api_key, app_uid)
        endpoint = self._endpoint(app, endpoint_uid)
        event = self._event(app, event_uid)
        self.repo.route_event_to(event, endpoint)
        attempt = self._new_attempt(event, endpoint, TriggerType.MANUAL, self.clock.now())
        await self.repo.commit()
        self._announce([attempt])

    async def recover(self, api_key: str, app_uid: str, endpoint_uid: str, since: float) -> int:
        """Redeliver every event whose latest attempt to the endpoint failed at or after
        ``since``; returns how many."""
        app = self._app(api_key, app_uid)
        endpoint = self._endpoint(app, endpoint_uid)
        now = self.clock.now()
        attempts = []
        for event in self.repo.events_of_endpoint.get(endpoint.key, ()):
            latest = self.repo.latest_attempt(event.key, endpoint.key)
            if (
                latest is not None
                and latest.status == AttemptStatus.FAIL
                and latest.attempted_at is not None
                and latest.attempted_at >= since
            ):
                attempts.append(self._new_attempt(event, endpoint, TriggerType.MANUAL, now))
        await self.repo.commit()
        self._announce(attempts)
        return len(attempts)

    def schedule_retry(self, failed: Attempt, due: float) -> Attempt | None:
        """The next automatic try of a failed delivery (used by the delivery engine)."""
        event = self.repo.events.by_key.get(failed.event)
        endpoint = self.repo.endpoints.by_key.get(failed.endpoint)
        if event is None or endpoint is None:
            return None
        attempt = self._new_attempt(
            event,
            endpoint,
            TriggerType(failed.trigger_type),
            due,
            retry_count=failed.retry_count + 1,
            delivery_started_at=failed.delivery_started_at,
        )
        self._announce([attempt])
        return attempt

    # ------------------------------------------------------------------ after a restart
    def resume_unfinished(self) -> list[Attempt]:
        """Attempts to run after a restart: unfinished ones (in flight ones become pending
        again: at-least-once) and a first attempt for any routed pair that has none."""
        resumed = []
        for attempt in self.repo.pending_attempts():
            if attempt.status == AttemptStatus.SENDING:
                attempt.status = AttemptStatus.PENDING
                self.repo.save_attempt(attempt)
            resumed.append(attempt)
        now = self.clock.now()
        for event in list(self.repo.events.by_key.values()):
            for endpoint_key in event.endpoints:
                endpoint = self.repo.endpoints.by_key.get(endpoint_key)
                if (
                    endpoint is not None
                    and self.repo.latest_attempt(event.key, endpoint_key) is None
                ):
                    resumed.append(self._new_attempt(event, endpoint, TriggerType.SYSTEM, now))
        return resumed
