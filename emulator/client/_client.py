"""The clients: ``SimplyQ`` (sync) and ``AsyncSimplyQ`` (over ``httpx.AsyncClient``).

``BaseClient`` holds what both share (the executor, the resources, ``api_key``,
``base_url``); the two clients only make their executor and close it.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Generic

import httpx

from emulator.client._base import X
from emulator.client._executors import AsyncExecutor, SyncExecutor
from emulator.client.control import EmulatorControl
from emulator.client.resources import Applications, Endpoints, Events

if TYPE_CHECKING:
    from typing_extensions import Self

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
DEFAULT_TIMEOUT = 10.0
# Auto-paging stops with an error past this many pages: a server that always answers
# ``has_more: true`` must not make a loop run forever.
MAX_PAGES = 10_000


class BaseClient(Generic[X]):
    """The resources over one executor: ``applications``, ``endpoints``, ``events`` and
    ``emulator`` (the control API)."""

    def __init__(self, executor: X) -> None:
        self._executor = executor
        self.applications = Applications(executor)
        self.endpoints = Endpoints(executor)
        self.events = Events(executor)
        self.emulator = EmulatorControl(executor)

    @property
    def api_key(self) -> str:
        """The API key (environment) this client uses."""
        return self._executor.api_key

    @property
    def base_url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:8765``."""
        return self._executor.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class SimplyQ(BaseClient[SyncExecutor]):
    """The SimplyQ API client (sync).

    ``base_url`` is the server root (a trailing ``/v1`` is dropped); ``transport`` lets tests
    plug in an ``httpx`` transport; ``max_pages`` bounds auto-paging. An empty ``api_key``
    sends no ``Authorization`` header.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        super().__init__(SyncExecutor(api_key, base_url, timeout, max_pages, transport))

    def close(self) -> None:
        """Close the connections."""
        self._executor.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSimplyQ(BaseClient[AsyncExecutor]):
    """The SimplyQ API client over ``httpx.AsyncClient``; same shape as ``SimplyQ``, every
    method awaited, list pages iterated with ``async for``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        super().__init__(AsyncExecutor(api_key, base_url, timeout, max_pages, transport))

    async def aclose(self) -> None:
        """Close the connections."""
        await self._executor.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
