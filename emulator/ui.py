"""The web view: static files under ``/_emulator/ui``, and ``GET /`` sending a browser there.

The page holds no data: everything it shows it fetches from the SimplyQ API and the control API
with the key the user gives, so ``--api-key`` is enforced by those routes, not here. The files
ship inside the package (no build step, nothing from a CDN) and are read once, at start-up.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from emulator.errors import NotFound
from emulator.http import error_response

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
# Defence in depth behind the page's rule of rendering data as text only: no inline script,
# nothing from another origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def asset_text(name: str) -> str:
    """One of the page's files, as shipped in the package (also used by the test report)."""
    return (resources.files("emulator") / ASSET_DIR / name).read_text(encoding="utf-8")


def ui_routes() -> list[Route]:
    """The routes of the web view."""
    files = {name: asset_text(name).encode() for name in ASSETS}

    def serve(name: str) -> Response:
        return Response(files[name], media_type=ASSETS[name], headers=SECURITY_HEADERS)

    async def index(request: Request) -> Response:
        return serve("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in files:
            return error_response(NotFound())
        return serve(name)

    async def root(request: Request) -> Response:
        # A browser opening the base URL gets the page; API clients keep production's 404.
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(UI_PATH, status_code=307)
        return error_response(NotFound(), {"Link": f'<{UI_PATH}>; rel="alternate"'})

    return [
        Route(UI_PATH, index, methods=["GET"]),
        Route(UI_PATH + "/", index, methods=["GET"]),
        Route(UI_PATH + "/{name}", asset, methods=["GET"]),
        Route("/", root, methods=["GET"]),
    ]
