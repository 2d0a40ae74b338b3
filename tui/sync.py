"""Keeps the model in step with the emulator: a listing, then the change stream, and a
reconnect (with backoff) whenever the emulator goes away.

A session is: subscribe to the change stream, list everything (applications, endpoints,
events, then attempts in the background), and apply the stream's changes as they come. When
the stream cannot be opened but the API answers, the session polls instead. When the
emulator is unreachable the dashboard says so and tries again, 0.25 s, 0.5 s, ... up to 2 s
apart; every new session starts from an empty model (the emulator may have restarted empty).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from textual.message import Message

from emulator.client import APIConnectionError, Change, SimplyQError
from tui.backend import Backend
from tui.messages import ConnectionChanged, ModelChanged, SnapshotLoaded
from tui.model import Applied, Model

BACKOFF_START = 0.25
BACKOFF_MAX = 2.0
POLL_INTERVAL = 2.0
POLL_ATTEMPTS_MARGIN = 300.0  # re-list attempts tried or due this long before the last poll


class Resync(Exception):
    """The stream said something a listing must clear up (a rename): start a new session."""


class Sync:
    """Drives one emulator's data into a ``Model``; ``run()`` never returns (cancel it)."""

    def __init__(self, backend: Backend, model: Model, post: Callable[[Message], Any]) -> None:
        self.backend = backend
        self.model = model
        self.post = post
        self.state = "connecting"
        self.loading = False
        self._buffer: list[Change] = []
        self._flush_pending = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._resync = False
        self._env_refresh_pending = False
        self._reader: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Connect, stay in step, reconnect; forever."""
        delay = BACKOFF_START
        while True:
            try:
                await self._session()
                detail = "the change stream ended"
            except Resync:
                continue
            except APIConnectionError as error:
                detail = _reason(error)
            except SimplyQError as error:
                detail = str(error)
            if self.state == "live":
                delay = BACKOFF_START  # it was up: try again soon
            self._set_state("offline", f"{detail}; retrying in {delay:g} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _session(self) -> None:
        await self.backend.health()  # unreachable: APIConnectionError
        self._set_state("connecting", "loading")
        self._resync = False
        self.model.reset()
        self.post(ModelChanged(reloaded=True))
        envs = await self.backend.environments()
        self.model.set_environments(envs)
        try:
            changes = await self.backend.open_changes(
                [e["api_key"] for e in envs] + [self.backend.api_key]
            )
        except APIConnectionError:
            raise
        except SimplyQError as error:
            await self._poll(f"no change stream ({error}): polling")
            return
        reader = self._reader = asyncio.create_task(self._read(changes))
        try:
            await self.load()
            if not reader.done():
                self._set_state("live")
            try:
                await reader
            except asyncio.CancelledError:
                if not self._resync:
                    raise
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            self._flush()
            if self._resync:
                raise Resync()

    # ------------------------------------------------------------------ listing
    async def load(self) -> None:
        """List everything into the (empty) model: the tree, every event, then attempts."""
        started = time.monotonic()
        self.loading = True
        targets = [
            (env.id, env.api_key, uid)
            for env in list(self.model.envs.values())
            if env.api_key is not None
            for uid in env.apps
        ]
        apps = await asyncio.gather(*(self.backend.load_app(k, a) for _, k, a in targets))
        for (env, _, uid), (record, endpoints) in zip(targets, apps, strict=True):
            self.model.set_application(env, record)
            for endpoint in endpoints:
                self.model.set_endpoint(env, uid, endpoint)
        self.post(ModelChanged(Applied(tree_changed=True)))

        def events_page(env: str, app: str) -> Callable[[list[dict[str, Any]]], None]:
            def take(records: list[dict[str, Any]]) -> None:
                added = self.model.add_snapshot_events(env, app, records)
                if added:
                    self.post(ModelChanged(Applied(events_added=added)))

            return take

        await asyncio.gather(
            *(self.backend.load_events_after(k, a, None, events_page(e, a)) for e, k, a in targets)
        )
        if len(targets) > 1:
            self.model.finish_snapshot()  # interleave the applications' events by time
            self.post(ModelChanged(reloaded=True))
        self.post(SnapshotLoaded(len(self.model.events), time.monotonic() - started))
        await self._load_attempts(None)
        self.loading = False

    async def _load_attempts(self, after: float | None) -> None:
        def attempts_page(env: str, app: str) -> Callable[[list[dict[str, Any]]], None]:
            def take(records: list[dict[str, Any]]) -> None:
                self.post(ModelChanged(self.model.add_snapshot_attempts(env, app, records)))

            return take

        calls = [
            self.backend.load_attempts(key, ep.app, ep.uid, attempts_page(ep.env, ep.app), after)
            for ep in list(self.model.endpoints.values())
            if (key := self.model.api_key_of(ep.env)) is not None
        ]
        await asyncio.gather(*calls)

    async def _poll(self, detail: str) -> None:
        """No stream: list what is new every ``POLL_INTERVAL`` seconds."""
        await self.load()
        self._set_state("polling", detail)
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            started = time.time()
            envs = await self.backend.environments()
            if self.model.set_environments(envs):
                self.post(ModelChanged(Applied(tree_changed=True)))
            for env in list(self.model.envs.values()):
                if env.api_key is None:
                    continue
                for app in env.apps:
                    last = None
                    for event in self.model.iter_events(env.id, app):
                        last = event.uid
                    record, endpoints = await self.backend.load_app(env.api_key, app)
                    self.model.set_application(env.id, record)
                    for endpoint in endpoints:
                        self.model.set_endpoint(env.id, app, endpoint)

                    def take(
                        records: list[dict[str, Any]], env_id: str = env.id, uid: str = app
                    ) -> None:
                        added = self.model.add_snapshot_events(env_id, uid, records)
                        if added:
                            self.post(ModelChanged(Applied(events_added=added)))

                    await self.backend.load_events_after(env.api_key, app, last, take)
            await self._load_attempts(started - POLL_ATTEMPTS_MARGIN)

    # ------------------------------------------------------------------ the stream
    async def _read(self, changes: AsyncIterator[Change]) -> None:
        loop = asyncio.get_running_loop()
        async for change in changes:
            self._buffer.append(change)
            if not self._flush_pending:
                # Changes read in one go (a burst) are applied and drawn together.
                self._flush_pending = True
                loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        applied = self.model.apply(batch)
        self.post(ModelChanged(applied))
        for env, data in applied.unresolved_events:
            self._spawn(self._resolve_event(env, data))
        if applied.unknown_envs and not self._env_refresh_pending:
            self._env_refresh_pending = True
            self._spawn(self._refresh_environments())
        for env in applied.endpoints_to_reload:
            self._spawn(self._reload_endpoints(env))
        if applied.resync and not self._resync:
            self._resync = True
            if self._reader is not None:
                self._reader.cancel()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve_event(self, env: str, data: dict[str, Any]) -> None:
        """An event of an environment with several applications: find out whose it is."""
        with contextlib.suppress(SimplyQError):
            key = self.model.api_key_of(env)
            if key is None:
                await self._refresh_environments()
                key = self.model.api_key_of(env)
            if key is None:
                return
            apps = [a.uid for a in self.model.apps_of(env)]
            app = await self.backend.find_event_app(key, apps, data)
            if app is not None and self.model.resolve_event(env, app, data) is not None:
                self.post(ModelChanged(Applied(events_added=1, tree_changed=True)))

    async def _refresh_environments(self) -> None:
        try:
            envs = await self.backend.environments()
        except SimplyQError:
            return
        finally:
            self._env_refresh_pending = False
        if self.model.set_environments(envs):
            self.post(ModelChanged(Applied(tree_changed=True)))

    async def _reload_endpoints(self, env: str) -> None:
        key = self.model.api_key_of(env)
        if key is None:
            return
        with contextlib.suppress(SimplyQError):
            for app in self.model.apps_of(env):
                _, endpoints = await self.backend.load_app(key, app.uid)
                known = {e["uid"] for e in endpoints}
                for stale in [e for e in self.model.endpoints_of(env, app.uid)]:
                    if stale.uid not in known:
                        del self.model.endpoints[stale.key]
                for endpoint in endpoints:
                    self.model.set_endpoint(env, app.uid, endpoint)
            self.post(ModelChanged(Applied(tree_changed=True)))

    # ------------------------------------------------------------------ state
    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.post(ConnectionChanged(state, detail))


def _reason(error: APIConnectionError) -> str:
    """Why the emulator cannot be reached, in a few words."""
    text = str(error)
    if "ConnectError" in text or "refused" in text.lower():
        return "not reachable (connection refused)"
    if "Timeout" in text or "did not answer" in text:
        return "not answering (timeout)"
    return "connection lost"
