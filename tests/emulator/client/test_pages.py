"""``emulator.client.pages``: iterating a list follows every page, forward and backward, with
its filters, and paging is bounded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from emulator.client import AsyncSimplyQ, SimplyQ, SimplyQError


def test_iteration_follows_every_page(client: SimplyQ) -> None:
    client.applications.create({"uid": "app", "name": "App"})
    uids = [f"ev-{n}" for n in range(7)]
    for uid in uids:
        kind = "even" if int(uid[-1]) % 2 == 0 else "odd"
        client.events.create("app", {"uid": uid, "event_type": kind, "payload": {}})

    first = client.events.list("app", limit=3)
    assert [e["uid"] for e in first.data] == uids[:3] and first.has_more is True
    assert [e["uid"] for e in first] == uids
    assert [e["uid"] for e in first.auto_paging_iter()] == uids
    second = first.next_page()
    assert second is not None and [e["uid"] for e in second.data] == uids[3:6]

    # Backward from a cursor: newest first, through the earlier pages.
    backward = client.events.list("app", limit=2, ending_before="ev-5")
    assert [e["uid"] for e in backward.data] == ["ev-3", "ev-4"]
    assert [e["uid"] for e in backward] == ["ev-4", "ev-3", "ev-2", "ev-1", "ev-0"]

    # Filters travel with every page: repeated keys, datetimes.
    odd = client.events.list("app", limit=1, event_types=["odd"])
    assert [e["uid"] for e in odd] == ["ev-1", "ev-3", "ev-5"]
    both = client.events.list("app", limit=2, event_types=("odd", "even"))
    assert len(list(both)) == 7
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert list(client.events.list("app", after=future)) == []
    assert len(list(client.events.list("app", before=future.replace(tzinfo=None)))) == 7

    with pytest.raises(TypeError, match="unknown list parameter"):
        client.events.list("app", limt=3)  # type: ignore[call-arg]


@pytest.mark.anyio
async def test_async_iteration_follows_every_page(emulator_url: str, api_key: str) -> None:
    async with AsyncSimplyQ(api_key, emulator_url) as client:
        for n in range(5):
            await client.applications.create({"uid": f"app-{n}", "name": "A"})
        page = await client.applications.list(limit=2)
        assert len(page.data) == 2 and page.has_more
        assert [a["uid"] async for a in page] == [f"app-{n}" for n in range(5)]


def test_paging_is_bounded(emulator_url: str, api_key: str) -> None:
    with SimplyQ(api_key, emulator_url, max_pages=2) as client:
        for n in range(5):
            client.applications.create({"uid": f"app-{n}", "name": "A"})
        with pytest.raises(SimplyQError, match="did not end after 2 pages"):
            list(client.applications.list(limit=2))

    # A server that always says "more" with the same page cannot loop forever.
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"uid": "a"}], "has_more": True})

    endless_client = SimplyQ("k", transport=httpx.MockTransport(endless))
    with endless_client, pytest.raises(SimplyQError, match="did not advance"):
        list(endless_client.applications.list())
