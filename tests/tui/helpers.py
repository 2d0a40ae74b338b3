"""Waiting in Pilot tests: poll a condition while the app runs, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from tui.app import DashboardApp

TIMEOUT = 10.0


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], object], timeout: float = TIMEOUT, what: str = ""
) -> None:
    """Let the app run until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def live(pilot: Pilot[None]) -> DashboardApp:
    """Wait until the dashboard has listed everything and follows the change stream."""
    app = pilot.app
    assert isinstance(app, DashboardApp)
    await wait_for(pilot, lambda: app.settled, what="the dashboard to be live")
    await pilot.pause()
    return app


def screen_text(app: DashboardApp) -> str:
    """What the terminal shows, as plain text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(s.text for s in strip).rstrip() for strip in strips)


def rows(app: DashboardApp) -> list[str]:
    """The uids of the event list's rows, top to bottom."""
    return [e.uid for e in app.model.visible]


def attempt_rows(app: DashboardApp) -> list[list[str]]:
    """The attempt table's cells, as plain text."""
    table = app.main.attempts
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
