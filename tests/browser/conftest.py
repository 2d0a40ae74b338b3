"""A headless Chromium (the system's, driven by Selenium) and an emulator for the web view's
browser tests. Skipped, with the reason, where no Chromium is installed; CI installs it."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from bench.chromium import chromium, missing
from emulator.config import EmulatorConfig
from emulator.repository import environment_key
from emulator.server import EmulatorServer
from emulator.webview import UI_PATH
from tests.emulator.helpers import local_client

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

WAIT = 5.0


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the browser tests (a fresh profile)."""
    reason = missing()
    if reason is not None:
        pytest.skip(f"no browser: {reason}")
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def ui_server() -> Iterator[EmulatorServer]:
    """An in-memory emulator whose clock only moves when told (so retries wait for the test)."""
    with EmulatorServer(EmulatorConfig(data_dir=None, time_scale=1000.0)) as running:
        yield running


@pytest.fixture
def page(browser: WebDriver) -> Iterator[WebDriver]:
    """The browser, left on a blank page afterwards (its stream closed) and with no saved
    choice of environment, so tests run in any order."""
    yield browser
    browser.execute_script("localStorage.clear()")
    browser.get("about:blank")


@pytest.fixture
def env_client(ui_server: EmulatorServer) -> Iterator[httpx.Client]:
    """A client of ``ui_server`` with a fresh key (environment)."""
    key = "sk_ui_" + secrets.token_hex(8)
    with local_client(ui_server.url, key) as client:
        yield client


def open_app(driver: WebDriver, base_url: str, client: httpx.Client, app: str) -> None:
    """Open the web view on one application of the client's environment; returns when live."""
    key = client.headers["authorization"].split(" ", 1)[1]
    driver.get(f"{base_url}{UI_PATH}?env={environment_key(key)}&app={app}")
    wait_until(driver, lambda d: d.find_element("id", "conn").get_attribute("data-state") == "live")
    wait_until(driver, lambda d: selected(d, "app") == app)


def selected(driver: WebDriver, select_id: str) -> str:
    value = driver.execute_script(f"return document.getElementById('{select_id}').value")
    return str(value)


def wait_until(
    driver: WebDriver, condition: Callable[[WebDriver], object], timeout: float = WAIT
) -> object:
    """``condition``'s first truthy answer within ``timeout`` seconds (else a timeout error)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver,
        timeout,
        poll_frequency=0.02,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    return wait.until(condition)
