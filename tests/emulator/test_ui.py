"""The web view over HTTP: the page and its files are served with the right types, nothing is
loaded from elsewhere, ``GET /`` sends a browser to it, and ``--api-key`` still guards the data
the page asks for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from emulator.webview import ASSETS, UI_PATH, asset_text
from tests.emulator.helpers import NOT_FOUND, local_client

SCRIPTS = [name for name in ASSETS if name.endswith(".js")]


@pytest.fixture(scope="module")
def keyed() -> Iterator[EmulatorServer]:
    """An emulator started with --api-key."""
    config = EmulatorConfig(data_dir=None, api_keys=frozenset({"sk_only"}))
    with EmulatorServer(config) as running:
        yield running


def test_the_page_is_served_as_html_with_a_strict_policy(server: EmulatorServer) -> None:
    with local_client(server.url) as http:
        for url in (UI_PATH, UI_PATH + "/"):
            answer = http.get(url)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "text/html; charset=utf-8"
            assert "<title>SimplyQ emulator</title>" in answer.text
            policy = answer.headers["content-security-policy"]
            assert "script-src 'self'" in policy
            assert "connect-src 'self'" in policy
            assert "unsafe-inline" not in policy
            assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", list(ASSETS))
def test_every_asset_is_served_with_its_type(server: EmulatorServer, name: str) -> None:
    with local_client(server.url) as http:
        answer = http.get(f"{UI_PATH}/{name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == ASSETS[name]
    assert answer.text == asset_text(name)


def test_the_page_references_only_files_that_are_served(server: EmulatorServer) -> None:
    page = asset_text("index.html")
    referenced = re.findall(r'(?:src|href)="/_emulator/ui/([^"]+)"', page)
    imported = {
        name for script in SCRIPTS for name in re.findall(r'from "\./([^"]+)"', asset_text(script))
    }
    assert referenced and imported
    with local_client(server.url) as http:
        for name in {*referenced, *imported}:
            assert http.get(f"{UI_PATH}/{name}").status_code == 200, name


@pytest.mark.parametrize("name", list(ASSETS))
def test_no_asset_loads_anything_from_another_origin(name: str) -> None:
    text = asset_text(name)
    # The SVG namespace is an identifier, not something fetched.
    urls = [u for u in re.findall(r"https?://[^\s\"'`)]+", text) if "www.w3.org" not in u]
    assert urls == []
    assert "//cdn" not in text and "@import" not in text


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_writes_markup(name: str) -> None:
    # Every value is put in as text (textContent / createElement); markup sinks are banned.
    text = asset_text(name)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in text, f"{name} uses {sink}"


@pytest.mark.parametrize(
    "path", [f"{UI_PATH}/nope.js", f"{UI_PATH}/..%2Fui.py", f"{UI_PATH}/%2e%2e%2fapp.py"]
)
def test_unknown_files_are_production_404s(server: EmulatorServer, path: str) -> None:
    with local_client(server.url) as http:
        answer = http.get(path)
    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND


def test_a_browser_opening_the_base_url_is_sent_to_the_page(server: EmulatorServer) -> None:
    with local_client(server.url) as http:
        answer = http.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.status_code == 307
    assert answer.headers["location"] == UI_PATH


def test_an_api_client_at_the_base_url_still_gets_production_404(server: EmulatorServer) -> None:
    with local_client(server.url) as http:
        answer = http.get("/", headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND
    assert UI_PATH in answer.headers["link"]


def test_with_api_key_the_page_loads_but_its_data_needs_the_key(keyed: EmulatorServer) -> None:
    # The page itself holds no data; what it fetches is checked like any control call.
    with httpx.Client(base_url=keyed.url, trust_env=False) as http:
        assert http.get(UI_PATH).status_code == 200
        assert http.get(f"{UI_PATH}/app.js").status_code == 200
        assert http.get("/_emulator/environments").status_code == 401
        assert http.get("/_emulator/stream").status_code == 401
        wrong = {"Authorization": "Bearer sk_other"}
        assert http.get("/_emulator/environments", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer sk_only"}
        assert http.get("/_emulator/environments", headers=right).status_code == 200


def test_the_package_data_carries_every_file_of_the_page() -> None:
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    shipped = {
        str(path.relative_to(root / "emulator"))
        for pattern in package_data["emulator"]
        for path in (root / "emulator").glob(pattern)
    }
    assert {f"ui_static/{name}" for name in ASSETS} <= shipped
    # Nothing in the folder that the server would not serve (a forgotten file).
    assert {p.name for p in (root / "emulator" / "ui_static").iterdir()} == set(ASSETS)
    report = {
        str(path.relative_to(root / "pytest_plugin"))
        for pattern in package_data["pytest_plugin"]
        for path in (root / "pytest_plugin").glob(pattern)
    }
    assert report == {"py.typed", "report_assets/report.js", "report_assets/report.css"}
