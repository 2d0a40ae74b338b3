"""What the screens use of the dashboard app, so that they need not import it.

The app (``tui.app.DashboardApp``) owns these and satisfies ``Dashboard``; the screens reach
them through ``dashboard_of(self.app)`` and ask the app for the rest with messages
(``tui.messages``).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any, Protocol, cast

from textual.app import App

from tui.backend import Backend
from tui.clock import EmulatorClock
from tui.model import Model
from tui.publish_form import PublishForm


class Dashboard(Protocol):
    """The dashboard's shared state, as the screens see it."""

    model: Model
    backend: Backend
    clock: EmulatorClock
    tz: tzinfo | None
    display_url: str | None
    default_api_key: str
    last_publish: PublishForm | None
    connection: str
    connection_detail: str

    def refresh_status(self) -> None:
        """Redraw the status bar."""


def dashboard_of(app: App[Any]) -> Dashboard:
    """The running app as a ``Dashboard`` (the screens only ever run in the dashboard)."""
    return cast(Dashboard, app)
