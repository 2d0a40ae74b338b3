"""The terminal dashboard of the SimplyQ emulator (``simplyq-emulator dashboard`` / ``tui``).

It talks to the emulator over HTTP only, through ``emulator.client``.
"""

from __future__ import annotations

from tui.app import DashboardApp

__all__ = ["DashboardApp"]
