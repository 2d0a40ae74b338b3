"""The dashboard app: owns the model, the backend and the sync worker, and routes their news
to the screens. Layout is in ``app.tcss``; the screens hold the actions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from emulator.client import APIConnectionError, Health, SimplyQError
from tui.backend import Backend
from tui.clock import EmulatorClock
from tui.keys import DETAILS, MAIN
from tui.messages import (
    AttemptStepped,
    ConnectionChanged,
    CurlRequested,
    HealthUpdated,
    ModelChanged,
    RetryRequested,
    SnapshotLoaded,
)
from tui.model import Applied, Model
from tui.publish_form import PublishForm
from tui.screens.details import DetailsScreen
from tui.screens.main import MainScreen
from tui.sync import Sync

if TYPE_CHECKING:
    from tui.context import Dashboard

DEFAULT_API_KEY = "sk_test_emulator"
STATUS_DELAY = 0.2
UI_INTERVAL = 0.05
LOADING_INTERVAL = 0.25  # while listing, drawing less leaves more time to list


class DashboardApp(App[None]):
    """The SimplyQ emulator dashboard.

    ``url`` is the emulator; ``api_key`` authenticates control calls when the emulator was
    started with ``--api-key`` (and is the publish form's default); ``admin_key``, that
    emulator's admin key, lets it show every environment and move the clock. Tests pass
    ``transport`` (an httpx transport), ``tz`` (to show times in a fixed zone),
    ``display_url`` (shown instead of the URL) and ``ticks=False`` (no once-a-second
    refresh: a still screen).
    """

    CSS_PATH = "app.tcss"
    TITLE = "SimplyQ emulator"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        url: str,
        api_key: str = "",
        *,
        admin_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        tz: tzinfo | None = None,
        display_url: str | None = None,
        ticks: bool = True,
    ) -> None:
        super().__init__()
        self.backend = Backend(url, api_key, admin_key=admin_key, transport=transport)
        self.model = Model()
        self.tz = tz
        self.display_url = display_url
        self.ticks = ticks
        self.default_api_key = api_key or DEFAULT_API_KEY
        self.last_publish: PublishForm | None = None
        self.connection = "connecting"
        self.connection_detail = ""
        self.snapshot_seconds: float | None = None
        self.health: Health | None = None
        self.clock = EmulatorClock(running=ticks)
        self._deliveries: int | None = None
        self._last_tick = 0.0
        self._status_pending = False
        self._pending_change: ModelChanged | None = None
        self._last_draw = 0.0
        self.main = MainScreen()
        self.sync = Sync(self.backend, self.model, self.post_message)

    # ------------------------------------------------------------------ lifecycle
    def on_load(self) -> None:
        # Start listing while Textual sets up the screen: that is most of the start-up time.
        self.run_sync()

    def on_mount(self) -> None:
        self.push_screen(self.main)
        if self.ticks:
            self.set_interval(1.0, self.poll_health)

    async def on_unmount(self) -> None:
        await self.backend.aclose()

    @work(exclusive=True, group="sync")
    async def run_sync(self) -> None:
        """Stay in step with the emulator until the app ends."""
        await self.sync.run()

    @work(exclusive=True, group="health", exit_on_error=False)
    async def poll_health(self) -> None:
        """Health, clock and the delivery rate, once a second."""
        try:
            health = await self.backend.health()
        except (APIConnectionError, SimplyQError):
            return
        self.post_message(HealthUpdated(health))

    @property
    def settled(self) -> bool:
        """Live, everything listed, and every change drawn (tests wait for this)."""
        return (
            self.connection == "live"
            and not self.sync.loading
            and self._pending_change is None
            and self.main.ready
        )

    # ------------------------------------------------------------------ news
    def on_model_changed(self, message: ModelChanged) -> None:
        # Bursts (a listing, a flood of deliveries) are drawn at most every UI_INTERVAL; the
        # first change after a quiet spell is drawn at once.
        if self._pending_change is None:
            self._pending_change = ModelChanged(Applied(), reloaded=False)
            interval = UI_INTERVAL if self.sync.state != "connecting" else LOADING_INTERVAL
            wait = interval - (time.monotonic() - self._last_draw)
            if wait <= 0:
                self.call_later(self._draw_changes)
            else:
                self.set_timer(wait, self._draw_changes)
        self._pending_change.applied.merge(message.applied)
        self._pending_change.reloaded |= message.reloaded

    def _draw_changes(self) -> None:
        change, self._pending_change = self._pending_change, None
        if change is None or not self.main.ready:
            return
        self._last_draw = time.monotonic()
        self.main.model_changed(change)
        if isinstance(self.screen, DetailsScreen):
            self.screen.attempt_changed()
        if not self._status_pending:
            # The counts walk every event: at most 5 times a second.
            self._status_pending = True
            self.set_timer(STATUS_DELAY, self._status_due)

    def _status_due(self) -> None:
        self._status_pending = False
        self.refresh_status()

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.connection, self.connection_detail = message.state, message.detail
        if message.state == "offline" and self._deliveries is not None:
            self._deliveries = None
        self.refresh_status()
        if self.main.ready:
            self.main.refresh_titles()

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        self.snapshot_seconds = message.seconds
        self._draw_changes()  # every event is in: draw them now, not at the next interval
        self.poll_health()

    def on_health_updated(self, message: HealthUpdated) -> None:
        health = message.health
        self.health = health
        self.clock.take(health["clock"])
        now = time.monotonic()
        delivered = int(health.get("deliveries") or 0)
        if self._deliveries is not None and self.ticks and self.main.ready:
            elapsed = max(0.5, now - self._last_tick)
            self.main.status.push_rate(max(0, delivered - self._deliveries) / elapsed)
        self._deliveries, self._last_tick = delivered, now
        self.refresh_status()
        if self.main.ready:
            self.main.tick()

    def refresh_status(self) -> None:
        """Redraw the status bar."""
        if not self.main.ready:
            return  # not composed yet, or shutting down
        model = self.model
        counts = [
            ("apps", len(model.apps)),
            ("endpoints", len(model.endpoints)),
            ("events", len(model.events)),
            ("attempts", model.attempt_count),
            ("failing", model.failed_count()),
        ]
        self.main.status.show(
            self.connection,
            self.connection_detail,
            counts,
            self.clock.now(),
            self.clock.next_due,
            self.clock.time_scale,
            self.tz,
        )

    # ------------------------------------------------------------------ details requests
    def on_retry_requested(self, message: RetryRequested) -> None:
        self.main.retry(message.event, message.endpoint)

    def on_curl_requested(self, message: CurlRequested) -> None:
        self.main.show_curl(message.attempt_id)

    def on_attempt_stepped(self, message: AttemptStepped) -> None:
        self.main.attempts.select_attempt(message.attempt_id)

    # ------------------------------------------------------------------ command palette
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of the current screen, then Textual's own (theme, quit, ...)."""
        actions = DETAILS if isinstance(screen, DetailsScreen) else MAIN
        for action in actions:
            if action.action == "app.quit":
                continue  # Textual's own "Quit" follows
            title = f"{action.label}  ({action.display_key})"
            yield SystemCommand(title, action.help, partial(self._run_on, screen, action.action))
        yield from super().get_system_commands(screen)

    async def _run_on(self, screen: Screen[Any], action: str) -> None:
        await self.run_action(action, screen)


if TYPE_CHECKING:
    # The screens reach the app through this protocol only: mypy checks the app satisfies it.
    _app_is_a_dashboard: type[Dashboard] = DashboardApp
