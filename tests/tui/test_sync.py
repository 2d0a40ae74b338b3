"""The sync layer's fallback: an emulator without a change stream is polled."""

from __future__ import annotations

import pytest

from tests.tui import fake_emulator
from tests.tui.helpers import wait_for
from tui.app import DashboardApp


@pytest.mark.anyio
async def test_without_a_change_stream_it_polls() -> None:
    app = DashboardApp("http://emulator.test", transport=fake_emulator.transport(stream=False))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.connection == "polling", what="polling")
        assert len(app.model.events) == 14 and app.model.attempt_count == 39
        assert "no change stream" in app.connection_detail
        await pilot.pause(2.5)  # a poll: nothing new, nothing doubled
        assert len(app.model.events) == 14 and app.model.attempt_count == 39
