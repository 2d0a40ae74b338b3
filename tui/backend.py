"""Every request the dashboard makes, through ``emulator.client`` (HTTP only).

One ``AsyncSimplyQ`` per environment (API key), made on demand, plus one for the control API.
The change stream follows every environment; where the emulator refuses that (started with
``--api-key`` and the dashboard holds no admin key), one stream per environment is merged.
Control calls use the admin key when the dashboard has one (``tui --admin-key``; ``dashboard``
gets the one of the emulator it starts), else ``api_key``, which then sees its environment only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from emulator.client import (
    APIConnectionError,
    AsyncChangeStream,
    AsyncPage,
    AsyncSimplyQ,
    AttemptDetail,
    AuthenticationError,
    Change,
    ClockState,
    DeliveryAttempt,
    EmulatorEnvironment,
    Event,
    Health,
    PermissionDeniedError,
    SimplyQError,
)

PAGE = 150  # the API's largest page
DETAIL_CONCURRENCY = 8


class Backend:
    """The dashboard's view of one emulator, over HTTP."""

    def __init__(
        self,
        url: str,
        api_key: str = "",
        *,
        admin_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.admin_key = admin_key
        self._transport = transport
        self._timeout = timeout
        self._clients: dict[str, AsyncSimplyQ] = {}
        self._closed = False

    # ------------------------------------------------------------------ clients
    def client(self, api_key: str) -> AsyncSimplyQ:
        """The client of one environment (kept open for reuse)."""
        if self._closed:
            raise APIConnectionError("the dashboard is closing")
        client = self._clients.get(api_key)
        if client is None:
            client = AsyncSimplyQ(
                api_key, self.url, timeout=self._timeout, transport=self._transport
            )
            self._clients[api_key] = client
        return client

    @property
    def control(self) -> AsyncSimplyQ:
        """The client used for ``/_emulator/`` calls (the admin key's, if given)."""
        return self.client(self.admin_key or self.api_key)

    async def aclose(self) -> None:
        """Close every connection; no new ones are made after this."""
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()

    # ------------------------------------------------------------------ control API
    async def health(self) -> Health:
        """``GET /_emulator/health`` (raises ``APIConnectionError`` when unreachable)."""
        return await self.control.emulator.health()

    async def clock(self) -> ClockState:
        """The emulator clock."""
        return await self.control.emulator.clock()

    async def environments(self) -> list[EmulatorEnvironment]:
        """Every environment and the uids of its applications."""
        return await self.control.emulator.environments()

    async def attempt_detail(self, attempt_id: str) -> AttemptDetail:
        """An attempt with its request and response."""
        return await self.control.emulator.attempt_detail(attempt_id)

    async def attempt_details(self, ids: list[str]) -> list[AttemptDetail]:
        """Several attempt details, a few at a time; missing ones are left out."""
        semaphore = asyncio.Semaphore(DETAIL_CONCURRENCY)

        async def one(attempt_id: str) -> AttemptDetail | None:
            async with semaphore:
                try:
                    return await self.attempt_detail(attempt_id)
                except SimplyQError:
                    return None

        found = await asyncio.gather(*(one(i) for i in ids))
        return [d for d in found if d is not None]

    async def advance_to_next_due(self) -> Mapping[str, Any]:
        """Jump the clock to the next due try and wait for it."""
        try:
            return await self.control.emulator.advance_to_next_due()
        except PermissionDeniedError:
            raise SimplyQError(
                "Only the emulator's admin key moves the clock: "
                "open the dashboard with `simplyq-emulator tui --admin-key KEY`"
            ) from None

    # ------------------------------------------------------------------ snapshot
    async def load_app(self, api_key: str, app: str) -> tuple[dict[str, Any], list[Any]]:
        """An application and its endpoints."""
        client = self.client(api_key)
        record = await client.applications.retrieve(app)
        endpoints = [e async for e in await client.endpoints.list(app, limit=PAGE)]
        return dict(record), endpoints

    async def load_attempts(
        self,
        api_key: str,
        app: str,
        endpoint: str,
        on_page: Callable[[list[dict[str, Any]]], None],
        after: float | None = None,
    ) -> None:
        """Every attempt to an endpoint (tried or due after ``after``), a page at a time."""
        client = self.client(api_key)
        since = None if after is None else datetime.fromtimestamp(after, tz=timezone.utc)
        attempts = client.endpoints.delivery_attempts
        page: AsyncPage[DeliveryAttempt] | None = await attempts(
            app, endpoint, limit=PAGE, after=since
        )
        while page is not None:
            on_page([dict(a) for a in page.data])
            page = await page.next_page()

    async def find_event_app(
        self, api_key: str, apps: list[str], data: Mapping[str, Any]
    ) -> str | None:
        """Which of the applications holds the event (the stream does not say)."""
        client = self.client(api_key)
        for app in apps:
            try:
                found = await client.events.retrieve(app, str(data["uid"]))
            except SimplyQError:
                continue
            if found.get("created_at") == data.get("created_at"):
                return app
        return None

    # ------------------------------------------------------------------ stream
    async def open_changes(self, env_keys: list[str]) -> AsyncIterator[Change]:
        """Subscribe to every change and return them as they come; iteration ends when the
        connection drops. Returns once subscribed, so nothing after it is missed.

        ``env_keys`` are the API keys to follow one by one when the emulator refuses the
        all-environments stream (it was started with ``--api-key``).
        """
        stream = self.control.emulator.stream(all_environments=True)
        try:
            await stream.connect()
        except (AuthenticationError, PermissionDeniedError):
            keys = [k for k in dict.fromkeys(env_keys) if k]
            keyed = [self.client(key).emulator.stream() for key in keys]
            try:
                for one in keyed:
                    await one.connect()
            except BaseException:
                for one in keyed:
                    await one.aclose()
                raise
            return _merged(keyed)
        return _merged([stream])

    async def load_events_after(
        self,
        api_key: str,
        app: str,
        after: str | None,
        on_page: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        """The events published after the one with uid ``after`` (all when None)."""
        events = self.client(api_key).events
        page: AsyncPage[Event] | None = await events.list(app, limit=PAGE, starting_after=after)
        while page is not None:
            on_page([dict(e) for e in page.data])
            page = await page.next_page()

    # ------------------------------------------------------------------ actions
    async def publish(self, api_key: str, app: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Publish an event (the application must exist)."""
        return dict(await self.client(api_key).events.create(app, body))

    async def retry(self, api_key: str, app: str, endpoint: str, event: str) -> None:
        """Deliver the event to the endpoint again (a manual attempt)."""
        await self.client(api_key).events.retry(app, endpoint, event)

    async def recover(self, api_key: str, app: str, endpoint: str, since: float) -> None:
        """Redeliver what failed to the endpoint since ``since`` (unix seconds)."""
        moment = datetime.fromtimestamp(since, tz=timezone.utc)
        await self.client(api_key).endpoints.recover(app, endpoint, moment)

    async def rotate_secret(self, api_key: str, app: str, endpoint: str) -> None:
        """Give the endpoint a new signing secret (the old one stays valid for a while)."""
        await self.client(api_key).endpoints.rotate_secret(app, endpoint)

    async def secret(self, api_key: str, app: str, endpoint: str) -> str:
        """The endpoint's current signing secret."""
        return await self.client(api_key).endpoints.retrieve_secret(app, endpoint)

    async def endpoint_chaos(self, api_key: str, app: str, endpoint: str) -> dict[str, Any] | None:
        """The chaos settings set on exactly this endpoint (None: none of its own)."""
        state = await self.control.emulator.chaos()
        for scope in state.get("scopes") or ():
            if (scope.get("api_key"), scope.get("app"), scope.get("endpoint")) == (
                api_key,
                app,
                endpoint,
            ):
                return dict(scope.get("settings") or {})
        return None

    async def set_endpoint_chaos(
        self, api_key: str, app: str, endpoint: str, *, duplicate: float, lost_ack: float
    ) -> dict[str, Any]:
        """Give the endpoint its own chaos; answers the settings in force (with the seed)."""
        return dict(
            await self.control.emulator.set_chaos(
                api_key=api_key, app=app, endpoint=endpoint, duplicate=duplicate, lost_ack=lost_ack
            )
        )

    async def clear_endpoint_chaos(self, api_key: str, app: str, endpoint: str) -> None:
        """Remove the endpoint's own chaos."""
        await self.control.emulator.set_chaos(api_key=api_key, app=app, endpoint=endpoint, off=True)

    async def set_active(self, api_key: str, app: str, endpoint: str, active: bool) -> None:
        """Enable or disable an endpoint."""
        await self.client(api_key).endpoints.update(app, endpoint, {"active": active})

    async def gather(self, *calls: Awaitable[Any]) -> list[Any]:
        """Run calls concurrently."""
        return list(await asyncio.gather(*calls))


async def _merged(streams: list[AsyncChangeStream]) -> AsyncIterator[Change]:
    """The changes of several connected streams; ends when any of them ends."""
    if len(streams) == 1:
        try:
            async for change in streams[0]:
                yield change
        finally:
            await streams[0].aclose()
        return
    queue: asyncio.Queue[Change | None] = asyncio.Queue()

    async def pump(stream: AsyncChangeStream) -> None:
        try:
            async for change in stream:
                await queue.put(change)
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    try:
        if not tasks:
            await asyncio.Event().wait()  # nothing to follow until a resync
        while True:
            item = await queue.get()
            if item is None:
                return  # one stream ended: the caller reconnects them all
            yield item
    finally:
        for task in tasks:
            task.cancel()
        for stream in streams:
            with contextlib.suppress(Exception):
                await stream.aclose()
