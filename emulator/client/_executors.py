"""The only code that does I/O: an executor per face sends the described requests.

``BaseExecutor`` holds what both faces share (settings, headers, turning answers into results
or errors); ``SyncExecutor`` and ``AsyncExecutor`` differ only in the HTTP call itself. Each
has the same four entry points, which the resource methods (``_base``) call:
``call`` (one request), ``page`` (a list's first page), ``stream`` (a change stream) and
``fetch_page`` (a page after the first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, final

import httpx

from emulator import __version__
from emulator.client._requests import Listing, Request
from emulator.client.errors import APIConnectionError, connection_error, error_from
from emulator.client.pages import AsyncPage, Page
from emulator.client.stream import AsyncChangeStream, ChangeStream, StreamRequest

T = TypeVar("T")

USER_AGENT = f"simplyq-python/{__version__} (simplyq-emulator)"


def normalize_base_url(base_url: str) -> str:
    """The server root: without a trailing ``/`` or ``/v1``."""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class BaseExecutor:
    """Settings and answer handling shared by the sync and async executors."""

    def __init__(self, api_key: str, base_url: str, timeout: float, max_pages: int) -> None:
        if not isinstance(api_key, str):
            raise TypeError("api_key must be a string")
        self.api_key = api_key
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self.max_pages = max_pages

    def client_options(self) -> dict[str, Any]:
        """The ``httpx`` client's settings."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            # "Bearer " with nothing after it is not a valid header value: an empty key (the
            # dashboard's all-environments stream on an open emulator) sends none.
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {
            "base_url": self.base_url,
            "headers": headers,
            "timeout": httpx.Timeout(self.timeout),
            "trust_env": False,
        }

    @staticmethod
    def request_options(request: Request[Any]) -> dict[str, Any]:
        """The ``httpx`` arguments of a described request."""
        options: dict[str, Any] = {"params": request.params}
        if request.json is not None:
            options["json"] = request.json
        if request.timeout is not None:
            options["timeout"] = request.timeout
        return options

    def connection_error(self, error: httpx.TransportError, request: str) -> APIConnectionError:
        """The exception for a request that got no answer."""
        return connection_error(error, self.base_url, request)

    @staticmethod
    def answer(request: Request[T], response: httpx.Response) -> T:
        """The result of an answer, or its error."""
        if response.status_code >= 400:
            raise error_from(response, request.describe())
        return request.parse(response)


@final
class SyncExecutor(BaseExecutor):
    """Sends requests over ``httpx.Client``."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: float,
        max_pages: int,
        transport: httpx.BaseTransport | None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_pages)
        self.http = httpx.Client(transport=transport, **self.client_options())

    def run(self, request: Request[T]) -> T:
        """Send one request and read its answer."""
        try:
            response = self.http.request(
                request.method, request.path, **self.request_options(request)
            )
        except httpx.TransportError as error:
            raise self.connection_error(error, request.describe()) from error
        return self.answer(request, response)

    def call(self, describe: Callable[[], Request[T]]) -> T:
        """Describe the request, then send it."""
        return self.run(describe())

    def fetch_page(self, listing: Listing[T]) -> Page[T]:
        """One page of a list."""
        return Page(self, listing, self.run(listing.request()))

    def page(self, describe: Callable[[], Listing[T]]) -> Page[T]:
        """The first page of a described list."""
        return self.fetch_page(describe())

    def stream(self, describe: Callable[[], StreamRequest]) -> ChangeStream:
        """A change stream, not yet connected."""
        return ChangeStream(self, describe())


@final
class AsyncExecutor(BaseExecutor):
    """Sends requests over ``httpx.AsyncClient``."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: float,
        max_pages: int,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_pages)
        self.http = httpx.AsyncClient(transport=transport, **self.client_options())

    async def run(self, request: Request[T]) -> T:
        """Send one request and read its answer."""
        try:
            response = await self.http.request(
                request.method, request.path, **self.request_options(request)
            )
        except httpx.TransportError as error:
            raise self.connection_error(error, request.describe()) from error
        return self.answer(request, response)

    async def call(self, describe: Callable[[], Request[T]]) -> T:
        """Describe the request, then send it (a bad argument raises when awaited)."""
        return await self.run(describe())

    async def fetch_page(self, listing: Listing[T]) -> AsyncPage[T]:
        """One page of a list."""
        return AsyncPage(self, listing, await self.run(listing.request()))

    async def page(self, describe: Callable[[], Listing[T]]) -> AsyncPage[T]:
        """The first page of a described list."""
        return await self.fetch_page(describe())

    def stream(self, describe: Callable[[], StreamRequest]) -> AsyncChangeStream:
        """A change stream, not yet connected."""
        return AsyncChangeStream(self, describe())
