"""Events: publish (routing each to its endpoints), read, and the lists of events and of the
endpoints an event was routed to."""

from __future__ import annotations

from emulator.errors import Invalid
from emulator.ids import new_uid
from emulator.models import Application, Endpoint, Event, TriggerType, raw_json
from emulator.pagination import Page, paginate
from emulator.routing import LATEST, routes_to
from emulator.service.core import APP_NOT_FOUND_ON_PUBLISH, ServiceCore, record_seq
from emulator.validation import EventInput, ListQuery


class EventOperations(ServiceCore):
    """The operations on one application's events."""

    def _routed_endpoints(self, app: Application, event: Event) -> list[Endpoint]:
        return [
            endpoint
            for endpoint in self.repo.endpoints_of_app.get(app.key, ())
            if routes_to(
                active=endpoint.active,
                filter_types=endpoint.filter_types,
                endpoint_topics=endpoint.topics,
                endpoint_version=endpoint.version,
                event_type=event.event_type,
                event_version=event.version,
                event_topics=event.topics,
            )
        ]

    async def publish(self, api_key: str, app_uid: str, data: EventInput) -> Event:
        """Store an event and schedule a first try to every endpoint it routes to."""
        app = self._app(api_key, app_uid, APP_NOT_FOUND_ON_PUBLISH)
        now = self.clock.now()
        uid = data.uid or new_uid("evte_", now)
        if (app.key, uid) in self.repo.event_by_uid:
            raise Invalid.one("uid", "Event UID already exists in the application")
        seq = self.repo.events.take_seq()
        event = Event(
            key=f"evt{seq}",
            env=app.env,
            app=app.key,
            seq=seq,
            uid=uid,
            event_type=data.event_type or "",
            version=data.version or LATEST,
            topics=list(data.topics or []),
            payload_json=raw_json(data.payload or {}),
            retention_period=data.retention_period or 0,
            created_at=now,
        )
        endpoints = self._routed_endpoints(app, event)
        event.endpoints = [e.key for e in endpoints]
        self.repo.add_event(event)
        attempts = [self._new_attempt(event, e, TriggerType.SYSTEM, now) for e in endpoints]
        await self.repo.commit()
        self._announce(attempts)
        return event

    def get_event(self, api_key: str, app_uid: str, event_uid: str) -> Event:
        return self._event(self._app(api_key, app_uid), event_uid)

    def list_events(self, api_key: str, app_uid: str, query: ListQuery) -> Page[Event]:
        app = self._app(api_key, app_uid)
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.event_by_uid.get((app.key, uid))
        )
        return paginate(
            self.repo.events_of_app.get(app.key, []),
            seq=record_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=lambda e: self._event_matches(query, e),
        )

    def list_endpoint_events(
        self, api_key: str, app_uid: str, endpoint_uid: str, query: ListQuery
    ) -> Page[Event]:
        """Events routed to an endpoint; ``status`` is that of the latest attempt there."""
        app = self._app(api_key, app_uid)
        endpoint = self._endpoint(app, endpoint_uid)
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.event_by_uid.get((app.key, uid))
        )

        def keep(event: Event) -> bool:
            if not self._event_matches(query, event):
                return False
            if query.status is None:
                return True
            latest = self.repo.latest_attempt(event.key, endpoint.key)
            return latest is not None and latest.status == query.status

        return paginate(
            self.repo.events_of_endpoint.get(endpoint.key, []),
            seq=record_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=keep,
        )

    def list_event_endpoints(
        self, api_key: str, app_uid: str, event_uid: str, query: ListQuery
    ) -> Page[Endpoint]:
        app = self._app(api_key, app_uid)
        event = self._event(app, event_uid)
        endpoints = sorted(
            (
                self.repo.endpoints.by_key[k]
                for k in event.endpoints
                if k in self.repo.endpoints.by_key
            ),
            key=record_seq,
        )
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.endpoint_by_uid.get((app.key, uid))
        )
        return paginate(
            endpoints, seq=record_seq, limit=query.limit, after_seq=after, before_seq=before
        )
