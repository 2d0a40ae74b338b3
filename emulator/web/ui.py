"""The web view over HTTP: the page's files under ``/_emulator/ui``, and ``GET /`` sending a
browser there.

The page holds no data: everything it shows it fetches from the SimplyQ API and the control API
with the key the user gives, so ``--api-key`` is enforced by those routes, not here. The files
are read once, when the app is made.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from emulator.errors import NotFound
from emulator.web.responses import error_response
from emulator.webview import ASSETS, UI_PATH, asset_text

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
            return error_response(NotFound(), request)
        return serve(name)

    async def root(request: Request) -> Response:
        # A browser opening the base URL gets the page; API clients keep production's 404.
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(UI_PATH, status_code=307)
        return error_response(NotFound(), request, {"Link": f'<{UI_PATH}>; rel="alternate"'})

    return [
        Route(UI_PATH, index, methods=["GET"]),
        Route(UI_PATH + "/", index, methods=["GET"]),
        Route(UI_PATH + "/{name}", asset, methods=["GET"]),
        Route("/", root, methods=["GET"]),
    ]
