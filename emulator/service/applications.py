"""Applications: list, read, create, update (a new uid renames), delete."""

from __future__ import annotations

from dataclasses import replace

from emulator.errors import Conflict, Invalid
from emulator.ids import new_uid
from emulator.models import Application
from emulator.pagination import Page, paginate
from emulator.retry import DEFAULT_STRATEGY_TYPE, RetryPolicy
from emulator.service.core import ServiceCore, record_seq
from emulator.validation import ApplicationInput, ListQuery


class ApplicationOperations(ServiceCore):
    """The operations on one environment's applications."""

    def list_applications(self, api_key: str, query: ListQuery) -> Page[Application]:
        env = self.repo.find_environment(api_key)
        apps = self.repo.apps_of_env.get(env.key, []) if env else []
        after, before = self._cursor_seqs(
            query, lambda uid: self.repo.app_by_uid.get((env.key, uid)) if env else None
        )
        return paginate(
            apps,
            seq=record_seq,
            limit=query.limit,
            after_seq=after,
            before_seq=before,
            keep=lambda a: self._in_time(query, a.created_at),
        )

    def get_application(self, api_key: str, app_uid: str) -> Application:
        return self._app(api_key, app_uid)

    async def create_application(self, api_key: str, data: ApplicationInput) -> Application:
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
        self, api_key: str, app_uid: str, data: ApplicationInput
    ) -> Application:
        app = self._app(api_key, app_uid)
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


def _given(value: int | None, current: int) -> int:
    return current if value is None else value
