"""The emulator's change stream (``GET /_emulator/stream``, server-sent events) as an
iterator of ``Change`` dicts: ``ChangeStream`` (sync) and ``AsyncChangeStream``."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from emulator.client.errors import error_from
from emulator.client.types import Change

if TYPE_CHECKING:
    from typing_extensions import Self

    from emulator.client._executors import AsyncExecutor, BaseExecutor, SyncExecutor

_REQUEST = "GET /_emulator/stream"


@dataclass(frozen=True)
class StreamRequest:
    """A change stream, described: its idle timeout and whose changes it follows."""

    timeout: float | None  # None: never ends on its own
    all_environments: bool = False

    def build(
        self, executor: BaseExecutor, http: httpx.Client | httpx.AsyncClient
    ) -> httpx.Request:
        """The HTTP request; without an ``api_key`` filter the emulator sends every change."""
        params = {} if self.all_environments else {"api_key": executor.api_key}
        return http.build_request(
            "GET",
            "/_emulator/stream",
            params=params,
            headers={"Accept": "text/event-stream"},
            timeout=httpx.Timeout(executor.timeout, read=self.timeout),
        )


class _ChangeParser:
    """Turns the stream's lines into changes (the subset of SSE the emulator sends)."""

    def __init__(self) -> None:
        self._id = ""
        self._data: list[str] = []

    def feed(self, line: str) -> Change | None:
        """Take one line; returns a change when the line ends one."""
        if line == "":
            data, self._data = self._data, []
            if not data:
                return None
            parsed = json.loads("\n".join(data))
            change: Change = {
                "id": int(self._id) if self._id.isdigit() else 0,
                "kind": parsed["kind"],
                "action": parsed["action"],
                "env": parsed["env"],
                "data": parsed["data"],
            }
            return change
        if line.startswith(":"):
            return None  # a comment: the greeting or a keep-alive ping
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


class _Idle(Exception):
    """No change arrived within the stream's timeout."""


class _StreamState:
    """What the sync and async streams share: the request, parsing and the idle timeout."""

    def __init__(self, request: StreamRequest) -> None:
        self._request = request
        self._parser = _ChangeParser()
        self._last_change = time.monotonic()
        self._done = False

    def _take(self, line: str) -> Change | None:
        """Parse one line; raises ``_Idle`` when no change came within the timeout."""
        change = self._parser.feed(line)
        now = time.monotonic()
        if change is not None:
            self._last_change = now
        elif self._request.timeout is not None and now - self._last_change >= self._request.timeout:
            raise _Idle()
        return change


class ChangeStream(_StreamState):
    """The emulator's changes for this client's API key (or, with ``all_environments``, for
    every key), as an iterator of ``Change`` dicts.

    It connects on ``with`` (or on the first ``next``): use ``with`` to be sure the stream is
    subscribed before you cause the changes you wait for. Iteration ends when no change came
    for ``timeout`` seconds (None: never; keep-alive pings every 15 s are not changes, so a
    longer timeout can overrun by up to one ping interval) or after ``close()``.
    """

    def __init__(self, executor: SyncExecutor, request: StreamRequest) -> None:
        super().__init__(request)
        self._executor = executor
        self._response: httpx.Response | None = None
        self._lines: Iterator[str] | None = None

    def connect(self) -> Self:
        """Open the stream (once); returns when the emulator has subscribed it."""
        if self._response is None and not self._done:
            http = self._executor.http
            try:
                response = http.send(self._request.build(self._executor, http), stream=True)
            except httpx.TransportError as error:
                raise self._executor.connection_error(error, _REQUEST) from error
            if response.status_code >= 400:
                response.read()
                response.close()
                raise error_from(response, _REQUEST)
            self._response, self._lines = response, response.iter_lines()
        return self

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Change:
        self.connect()
        while not self._done and self._lines is not None:
            try:
                line = next(self._lines)
                change = self._take(line)
            except (StopIteration, httpx.TransportError, _Idle):
                # The end of the stream, the idle timeout, or the emulator going away.
                break
            if change is not None:
                return change
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Disconnect; iteration ends."""
        self._done = True
        if self._response is not None:
            self._response.close()
            self._response = None

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChangeStream(_StreamState):
    """Async twin of ``ChangeStream``: ``async with`` / ``async for`` / ``aclose()``."""

    def __init__(self, executor: AsyncExecutor, request: StreamRequest) -> None:
        super().__init__(request)
        self._executor = executor
        self._response: httpx.Response | None = None
        self._lines: AsyncIterator[str] | None = None

    async def connect(self) -> Self:
        """Open the stream (once); returns when the emulator has subscribed it."""
        if self._response is None and not self._done:
            http = self._executor.http
            try:
                response = await http.send(self._request.build(self._executor, http), stream=True)
            except httpx.TransportError as error:
                raise self._executor.connection_error(error, _REQUEST) from error
            if response.status_code >= 400:
                await response.aread()
                await response.aclose()
                raise error_from(response, _REQUEST)
            self._response, self._lines = response, response.aiter_lines()
        return self

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Change:
        await self.connect()
        while not self._done and self._lines is not None:
            try:
                line = await self._lines.__anext__()
                change = self._take(line)
            except (StopAsyncIteration, httpx.TransportError, _Idle):
                break
            if change is not None:
                return change
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Disconnect; iteration ends."""
        self._done = True
        if self._response is not None:
            await self._response.aclose()
            self._response = None

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
