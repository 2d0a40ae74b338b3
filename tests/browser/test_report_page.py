"""The test report, opened from its file in a real (headless) Chromium: it draws itself offline,
failing tests first and open, with each event's timeline and attempts; hostile values are text."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.server import EmulatorServer
from pytest_plugin.helpers import SimplyQEnvironment
from pytest_plugin.report import Report
from tests.browser.conftest import wait_until
from tests.browser.test_web_view import HOSTILE, count, keep_screenshot, text
from tests.emulator.helpers import failing_hook, hook

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


def published(server: EmulatorServer, refused: bool) -> SimplyQEnvironment:
    """An environment as a test would leave it: one event, delivered or refused and retried."""
    environment = SimplyQEnvironment(server.url)
    client = environment.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", {"uid": "orders", "url": hook("orders")})
    if refused:
        client.endpoints.create("shop", {"uid": "billing", "url": failing_hook(503)})
    payload = {"html": HOSTILE, "total": 12.5}
    event = {"uid": "evt-1", "event_type": "order.created", "payload": payload}
    client.events.create("shop", event)
    environment.clock.settle()
    for _ in range(3 if refused else 0):
        environment.clock.to_next_due()
    return environment


def test_the_report_opens_offline_failing_tests_first(
    page: WebDriver, ui_server: EmulatorServer, tmp_path: Path
) -> None:
    report = Report(tmp_path / "report.html")
    for nodeid, refused in (("test_shop.py::test_ok", False), ("test_shop.py::test_bad", True)):
        environment = published(ui_server, refused)
        report.collect(nodeid, environment)
        environment.close()
    bad = report.entry("test_shop.py::test_bad")
    bad.outcome, bad.failure = "failed", f"AssertionError: billing refused {HOSTILE}"
    report.entry("test_shop.py::test_plain").duration = 0.01
    written = report.finish()
    assert written is not None

    started = time.monotonic()
    page.get(written.as_uri())
    wait_until(page, lambda d: count(d, "details.test") == 3)
    order = page.execute_script(
        "return [...document.querySelectorAll('details.test')].map(d => d.dataset.nodeid)"
    )
    assert order[0] == "test_shop.py::test_bad"
    assert page.execute_script("return document.querySelector('details.test').open") is True
    failing = text(page, 'details.test[data-outcome="failed"]') or ""
    assert f"AssertionError: billing refused {HOSTILE}" in failing
    # The refused delivery to billing: 4 tries made (at 0, 30 s, 3 min 30 s, 13 min 30 s) and
    # the next one waiting, beside the delivered one to orders.
    svg = 'details.test[data-outcome="failed"] svg.timeline'
    assert count(page, svg) == 1
    assert count(page, svg + ' g.try[data-status="fail"]') == 4
    assert count(page, svg + ' g.try[data-status="pending"]') == 1
    assert count(page, svg + ' g.try[data-status="success"]') == 1
    assert HOSTILE in (text(page, 'details.test[data-outcome="failed"] pre.payload') or "")
    assert page.execute_script("return window.__pwned") is None
    assert count(page, "main img, main script") == 0
    assert time.monotonic() - started < 5
    page.execute_script(
        "document.querySelector('details.test[data-outcome=\"failed\"] details.attempt')"
        ".open = true"
    )
    keep_screenshot(page, "report.png")
