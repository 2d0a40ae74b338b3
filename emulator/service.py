"""What the API does, free of HTTP: each public method is one operation.

Methods that change state update the repository and then ``await repository.commit()``, so a
caller that got an answer knows the change is durable. Missing resources are checked before
field errors (production answers 404 before 422).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from emulator.clock import Clock
from emulator.errors import Conflict, FieldError, Invalid, NotFound
from emulator.ids import new_uid
from emulator.models import (
    Application,
    Attempt,
    AttemptStatus,
    Endpoint,
    Environment,
    Event,
    Secret,
    TriggerType,
)
from emulator.pagination import Page, paginate
from emulator.repository import Record, Repository
from emulator.retry import DEFAULT_STRATEGY_TYPE, RetryPolicy
from emulator.routing import LATEST, routes_to
from emulator.signing import generate_secret
from emulator.validation import (
    ApplicationInput,
    EndpointInput,
    EventInput,
    ListQuery,
)

APP_NOT_FOUND_ON_PUBLISH = "application not found"

# Called with each attempt that became due for sending (the delivery engine subscribes).
AttemptListener = Callable[[Attempt], None]


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid(errors)


def _seq(record: Record) -> int:
    return record.seq


class Service:
    """The SimplyQ operations over one repository and one clock."""

    def __init__(self, repository: Repository, clock: Clock, rotation_grace: float = 86400.0):
        self.repo = repository
        self.clock = clock
        self.rotation_grace = rotation_grace
        self._attempt_listeners: list[AttemptListener] = []

    def on_attempt_scheduled(self, listener: AttemptListener) -> None:
        self._attempt_listeners.append(listener)

    # ------------------------------------------------------------------ lookups
    def environment(self, api_key: str) -> Environment | None:
        return self.repo.find_environment(api_key)

    def _app(self, api_key: str, app_uid: str, message: str = "Resource not found") -> Application:
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

    def _cursor_seqs(
        self, query: ListQuery, find: Callable[[str], Record | None]
    ) -> tuple[int | None, int | None]:
        errors: list[FieldError] = list(query.errors)
        seqs: list[int | None] = []
        for name, value in (
            ("starting_after", query.starting_after),
            ("ending_before", query.ending_before),
        ):
            record = find(value) if value else None
            if value and record is None:
                errors.append(FieldError(name, f"{name} is not the id of an item of this list"))
            seqs.append(record.seq if record else None)
        _raise_if(errors)
        return seqs[0], seqs[1]

    @staticmethod
    def _in_time(query: ListQuery, when: float) -> bool:
        # Compare the whole second the wire shows: an item's own created_at, given back as
        # ``before``, includes it; as ``after``, excludes it.
        second = math.floor(when)
        return (query.before is None or second <= query.before) and (
            query.after is None or second > query.after
        )

    # ------------------------------------------------------------------ applications
    def list_applications(self, api_key: str, query: ListQuery) -> Page[Application]:
        env = self.repo.find_environment(api_key)
        apps = self.repo.apps_of_env.get(env.key, []) if env else []
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.app_by_uid.get((env.key, uid)) if env else None
        )
        return paginate(
            apps,
            seq=_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=lambda a: self._in_time(query, a.created_at),
        )

    def get_application(self, api_key: str, app_uid: str) -> Application:
        return self._app(api_key, app_uid)

    async def create_application(
        self, api_key: str, data: ApplicationInput, errors: list[FieldError]
    ) -> Application:
        _raise_if(errors)
        now = self.clock.now()
        env = self.repo.ensure_environment(api_key, now)
        uid = data.uid or new_uid("app_", now)
        if (env.key, uid) in self.repo.app_by_uid:
            raise Invalid.one("uid", "Application UID already exists in your account")
        strategy = data.retry_strategy
        seq = self.repo.applications.take_seq()
        app = Application(
            key=f"app{seq}",
            env=env.key,
            seq=seq,
            uid=uid,
            name=data.name or "",
            rate_limit=data.rate_limit or 0,
            retry_strategy=RetryPolicy(
                type=(strategy.type if strategy else None) or DEFAULT_STRATEGY_TYPE,
                max_retries=(strategy.max_retries if strategy else None) or 0,
                retry_delay=(strategy.retry_delay if strategy else None) or 0,
                deadline=(strategy.deadline if strategy else None) or 0,
            ),
            created_at=now,
            updated_at=now,
        )
        self.repo.add_application(app)
        await self.repo.commit()
        return app

    async def update_application(
        self, api_key: str, app_uid: str, data: ApplicationInput, errors: list[FieldError]
    ) -> Application:
        app = self._app(api_key, app_uid)
        _raise_if(errors)
        if data.uid not in (None, app.uid) and (app.env, data.uid) in self.repo.app_by_uid:
            raise Conflict(f"an application with uid {data.uid!r} already exists")
        old_uid = app.uid
        if data.uid is not None:
            app.uid = data.uid
        if data.name is not None:
            app.name = data.name
        if data.rate_limit is not None:
            app.rate_limit = data.rate_limit
        if (strategy := data.retry_strategy) is not None:
            current = app.retry_strategy
            app.retry_strategy = replace(
                current,
                type=strategy.type if strategy.type is not None else current.type,
                max_retries=_given(strategy.max_retries, current.max_retries),
                retry_delay=_given(strategy.retry_delay, current.retry_delay),
                deadline=_given(strategy.deadline, current.deadline),
            )
        app.updated_at = self.clock.now()
        self.repo.save_application(app, old_uid)
        await self.repo.commit()
        return app

    async def delete_application(self, api_key: str, app_uid: str) -> None:
        app = self._app(api_key, app_uid)
        self.repo.delete_application(app)
        await self.repo.commit()

    # ------------------------------------------------------------------ endpoints
    def list_endpoints(self, api_key: str, app_uid: str, query: ListQuery) -> Page[Endpoint]:
        app = self._app(api_key, app_uid)
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.endpoint_by_uid.get((app.key, uid))
        )
        return paginate(
            self.repo.endpoints_of_app.get(app.key, []),
            seq=_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=lambda e: self._in_time(query, e.created_at),
        )

    def get_endpoint(self, api_key: str, app_uid: str, endpoint_uid: str) -> Endpoint:
        return self._endpoint(self._app(api_key, app_uid), endpoint_uid)

    async def create_endpoint(
        self, api_key: str, app_uid: str, data: EndpointInput, errors: list[FieldError]
    ) -> Endpoint:
        app = self._app(api_key, app_uid)
        _raise_if(errors)
        now = self.clock.now()
        uid = data.uid or new_uid("ep_", now)
        if (app.key, uid) in self.repo.endpoint_by_uid:
            raise Invalid.one("uid", "Endpoint UID already exists in the application")
        seq = self.repo.endpoints.take_seq()
        endpoint = Endpoint(
            key=f"ep{seq}",
            env=app.env,
            app=app.key,
            seq=seq,
            uid=uid,
            url=data.url or "",
            version=data.version or LATEST,
            description=data.description,
            filter_types=list(data.filter_types or []),
            topics=list(data.topics or []),
            active=True if data.active is None else data.active,
            rate_limit=data.rate_limit,
            headers=dict(data.headers or {}),
            sensitive_headers=dict(data.sensitive_headers or {}),
            secrets=[Secret(data.secret or generate_secret(), now)],
            created_at=now,
            updated_at=now,
        )
        self.repo.add_endpoint(endpoint)
        await self.repo.commit()
        return endpoint

    async def update_endpoint(
        self,
        api_key: str,
        app_uid: str,
        endpoint_uid: str,
        data: EndpointInput,
        errors: list[FieldError],
    ) -> Endpoint:
        app = self._app(api_key, app_uid)
        endpoint = self._endpoint(app, endpoint_uid)
        _raise_if(errors)
        if (
            data.uid not in (None, endpoint.uid)
            and (app.key, data.uid) in self.repo.endpoint_by_uid
        ):
            raise Conflict(f"an endpoint with uid {data.uid!r} already exists")
        old_uid = endpoint.uid
        if data.uid is not None:
            endpoint.uid = data.uid
        if data.url is not None:
            endpoint.url = data.url
        if data.version is not None:
            endpoint.version = data.version
        if data.description is not None:
            endpoint.description = data.description
        if data.filter_types is not None:
            endpoint.filter_types = list(data.filter_types)
        if data.topics is not None:
            endpoint.topics = list(data.topics)
        if data.active is not None:
            endpoint.active = data.active
        if data.rate_limit is not None:
            endpoint.rate_limit = data.rate_limit
        if data.headers is not None:
            endpoint.headers = dict(data.headers)
        if data.sensitive_headers is not None:
            endpoint.sensitive_headers = dict(data.sensitive_headers)
        if data.secret is not None:
            self._rotate(endpoint, data.secret)
        endpoint.updated_at = self.clock.now()
        self.repo.save_endpoint(endpoint, old_uid)
        await self.repo.commit()
        return endpoint

    async def delete_endpoint(self, api_key: str, app_uid: str, endpoint_uid: str) -> None:
        endpoint = self._endpoint(self._app(api_key, app_uid), endpoint_uid)
        self.repo.delete_endpoint(endpoint)
        await self.repo.commit()

    def get_secret(self, api_key: str, app_uid: str, endpoint_uid: str) -> str:
        endpoint = self._endpoint(self._app(api_key, app_uid), endpoint_uid)
        return endpoint.secrets[0].key

    def _rotate(self, endpoint: Endpoint, key: str | None) -> None:
        now = self.clock.now()
        expires = now + self.rotation_grace
        for secret in endpoint.secrets:
            if secret.expires_at is None or secret.expires_at > expires:
                secret.expires_at = expires
        endpoint.secrets = [Secret(key or generate_secret(), now)] + [
            s for s in endpoint.secrets if s.expires_at is not None and s.expires_at > now
        ]

    async def rotate_secret(
        self, api_key: str, app_uid: str, endpoint_uid: str, key: str | None
    ) -> None:
        endpoint = self._endpoint(self._app(api_key, app_uid), endpoint_uid)
        self._rotate(endpoint, key)
        endpoint.updated_at = self.clock.now()
        self.repo.save_endpoint(endpoint)
        await self.repo.commit()

    # ------------------------------------------------------------------ events
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

    async def publish(
        self, api_key: str, app_uid: str, data: EventInput, errors: list[FieldError]
    ) -> Event:
        app = self._app(api_key, app_uid, APP_NOT_FOUND_ON_PUBLISH)
        _raise_if(errors)
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
            payload=data.payload or {},
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

    def _announce(self, attempts: Iterable[Attempt]) -> None:
        for attempt in attempts:
            for listener in self._attempt_listeners:
                listener(attempt)

    def get_event(self, api_key: str, app_uid: str, event_uid: str) -> Event:
        return self._event(self._app(api_key, app_uid), event_uid)

    @staticmethod
    def _event_matches(query: ListQuery, event: Event) -> bool:
        if query.event_types and event.event_type not in query.event_types:
            return False
        if query.topics and not any(t in query.topics for t in event.topics):
            return False
        return Service._in_time(query, event.created_at)

    def list_events(self, api_key: str, app_uid: str, query: ListQuery) -> Page[Event]:
        app = self._app(api_key, app_uid)
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.event_by_uid.get((app.key, uid))
        )
        return paginate(
            self.repo.events_of_app.get(app.key, []),
            seq=_seq,
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
            seq=_seq,
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
            key=_seq,
        )
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.endpoint_by_uid.get((app.key, uid))
        )
        return paginate(endpoints, seq=_seq, limit=query.limit, after_seq=after, before_seq=before)

    # ------------------------------------------------------------------ attempts
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
            attempts, seq=_seq, limit=query.limit, after_seq=after, before_seq=before, keep=keep
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


def _given(value: int | None, current: int) -> int:
    return current if value is None else value
