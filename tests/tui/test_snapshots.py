"""Snapshots of the main screen, the details screen and the help screen, against a fixed
emulator (``fake_emulator``): fixed data, terminal size, time zone and URL, and no clock
ticking, so every run draws the same screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timezone

from textual.pilot import Pilot

from tests.tui import fake_emulator
from tests.tui.helpers import wait_for
from tui.app import DashboardApp
from tui.screens.details import DetailsScreen
from tui.widgets.signature_panel import SignaturePanel

SIZE = (160, 45)
SnapCompare = Callable[..., bool]


def app() -> DashboardApp:
    return DashboardApp(
        "http://emulator.test",
        transport=fake_emulator.transport(),
        tz=timezone.utc,
        display_url="http://127.0.0.1:8765",
        ticks=False,
    )


async def settled(pilot: Pilot[None]) -> None:
    dashboard = pilot.app
    assert isinstance(dashboard, DashboardApp)
    await wait_for(pilot, lambda: dashboard.settled and dashboard.health is not None)
    await wait_for(pilot, lambda: dashboard.main.attempts.row_count > 0)
    await pilot.pause()


async def details(pilot: Pilot[None]) -> None:
    await settled(pilot)
    await pilot.press("enter", "enter")
    screen = pilot.app.screen
    assert isinstance(screen, DetailsScreen)
    await wait_for(pilot, lambda: screen.query_one(SignaturePanel).check is not None)
    await pilot.pause()


async def help_screen(pilot: Pilot[None]) -> None:
    await settled(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


def test_main_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=settled)


def test_details_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=details)


def test_help_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=help_screen)
