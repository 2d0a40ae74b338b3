"""Pages of a list: this page's items, and iteration that follows every next page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from emulator.client._requests import Listing
from emulator.client.types import PageBody

if TYPE_CHECKING:
    from emulator.client._executors import AsyncExecutor, SyncExecutor

T = TypeVar("T")


class BasePage(Generic[T]):
    """One page of a list: ``data``, ``has_more`` and the whole answer as ``raw``."""

    def __init__(self, listing: Listing[T], body: PageBody, max_pages: int) -> None:
        self.data: list[T] = list(body["data"])
        self.has_more: bool = bool(body["has_more"])
        # The application list also carries "done" (= not has_more).
        self.raw: dict[str, Any] = dict(body)
        self._listing = listing
        self._max_pages = max_pages

    def _in_order(self) -> list[T]:
        # Paging backward goes from newer to older pages: yield newest first throughout.
        return list(reversed(self.data)) if self._listing.backward else self.data

    def _next_listing(self) -> Listing[T] | None:
        return self._listing.following(self.data, self.has_more, self._max_pages)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data=<{len(self.data)} items>, has_more={self.has_more})"


class Page(BasePage[T]):
    """One page of a list. Iterating it yields the items of this page and of every following
    one (``for event in client.events.list(app)``); ``data`` and ``has_more`` are this page's.

    Each next page starts after the previous page's last item, and the API rejects a cursor
    that no longer exists (422): to delete what you list, collect it first
    (``for app in list(client.applications.list()): ...``).
    """

    def __init__(self, executor: SyncExecutor, listing: Listing[T], body: PageBody) -> None:
        super().__init__(listing, body, executor.max_pages)
        self._executor = executor

    def next_page(self) -> Page[T] | None:
        """The following page (older ones when listing with ``ending_before``), or None."""
        listing = self._next_listing()
        return None if listing is None else self._executor.fetch_page(listing)

    def auto_paging_iter(self) -> Iterator[T]:
        """Every item of this page and the following pages, fetching them as needed."""
        page: Page[T] | None = self
        while page is not None:
            yield from page._in_order()
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        return self.auto_paging_iter()


class AsyncPage(BasePage[T]):
    """Async twin of ``Page``: ``async for item in await client.events.list(app)``."""

    def __init__(self, executor: AsyncExecutor, listing: Listing[T], body: PageBody) -> None:
        super().__init__(listing, body, executor.max_pages)
        self._executor = executor

    async def next_page(self) -> AsyncPage[T] | None:
        """The following page, or None."""
        listing = self._next_listing()
        return None if listing is None else await self._executor.fetch_page(listing)

    async def auto_paging_iter(self) -> AsyncIterator[T]:
        """Every item of this page and the following pages, fetching them as needed."""
        page: AsyncPage[T] | None = self
        while page is not None:
            for item in page._in_order():
                yield item
            page = await page.next_page()

    def __aiter__(self) -> AsyncIterator[T]:
        return self.auto_paging_iter()
