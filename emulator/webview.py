"""The web view's files: where the page lives, which files it has, and their text.

The files ship inside the package (``emulator/ui_static/``: no build step, nothing from a CDN).
``emulator.web.ui`` serves them; the pytest plugin's report reuses the timeline drawing.
"""

from __future__ import annotations

from importlib import resources

UI_PATH = "/_emulator/ui"
ASSET_DIR = "ui_static"
# The only files served, with their types: a name not listed is a 404, so no path reaches
# anything else on disk.
ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "feed.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "signature.js": "text/javascript; charset=utf-8",
    "timeline.js": "text/javascript; charset=utf-8",
}


def asset_text(name: str) -> str:
    """One of the page's files, as shipped in the package (also used by the test report)."""
    return (resources.files("emulator") / ASSET_DIR / name).read_text(encoding="utf-8")
