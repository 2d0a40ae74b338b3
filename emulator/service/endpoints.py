"""Endpoints: list, read, create, update (a new uid renames, a new secret rotates), delete, and
their signing secrets."""

from __future__ import annotations

from emulator.errors import Conflict, Invalid
from emulator.ids import new_uid
from emulator.models import Endpoint, Secret
from emulator.pagination import Page, paginate
from emulator.routing import LATEST
from emulator.service.core import ServiceCore, record_seq
from emulator.signing import generate_secret
from emulator.validation import EndpointInput, ListQuery


class EndpointOperations(ServiceCore):
    """The operations on one application's endpoints."""

    def list_endpoints(self, api_key: str, app_uid: str, query: ListQuery) -> Page[Endpoint]:
        app = self._app(api_key, app_uid)
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.endpoint_by_uid.get((app.key, uid))
        )
        return paginate(
            self.repo.endpoints_of_app.get(app.key, []),
            seq=record_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=lambda e: self._in_time(query, e.created_at),
        )

    def get_endpoint(self, api_key: str, app_uid: str, endpoint_uid: str) -> Endpoint:
        return self._endpoint(self._app(api_key, app_uid), endpoint_uid)

    async def create_endpoint(self, api_key: str, app_uid: str, data: EndpointInput) -> Endpoint:
        app = self._app(api_key, app_uid)
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
        self, api_key: str, app_uid: str, endpoint_uid: str, data: EndpointInput
    ) -> Endpoint:
        app = self._app(api_key, app_uid)
        endpoint = self._endpoint(app, endpoint_uid)
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

    # ------------------------------------------------------------------ secrets
    def get_secret(self, api_key: str, app_uid: str, endpoint_uid: str) -> str:
        endpoint = self._endpoint(self._app(api_key, app_uid), endpoint_uid)
        return endpoint.secrets[0].key

    async def rotate_secret(
        self, api_key: str, app_uid: str, endpoint_uid: str, key: str | None
    ) -> None:
        endpoint = self._endpoint(self._app(api_key, app_uid), endpoint_uid)
        self._rotate(endpoint, key)
        endpoint.updated_at = self.clock.now()
        self.repo.save_endpoint(endpoint)
        await self.repo.commit()

    def _rotate(self, endpoint: Endpoint, key: str | None) -> None:
        now = self.clock.now()
        expires = now + self.rotation_grace
        for secret in endpoint.secrets:
            if secret.expires_at is None or secret.expires_at > expires:
                secret.expires_at = expires
        endpoint.secrets = [Secret(key or generate_secret(), now)] + [
            s for s in endpoint.secrets if s.expires_at is not None and s.expires_at > now
        ]
