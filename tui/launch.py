"""How ``simplyq-emulator dashboard`` and ``simplyq-emulator tui`` open the dashboard.

The emulator's command line finds ``run`` through the ``dashboard`` entry point of group
``simplyq_emulator.dashboard`` (see pyproject.toml), so the emulator never imports the
dashboard; the dashboard, for its part, talks to the emulator over HTTP only.
"""

from __future__ import annotations

from tui.app import DashboardApp


def run(url: str, api_key: str, admin_key: str | None = None) -> None:
    """Open the dashboard on the emulator at ``url`` until the user quits (``admin_key``: the
    emulator's, when it was started with ``--api-key``)."""
    DashboardApp(url, api_key, admin_key=admin_key).run()
