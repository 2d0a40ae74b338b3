"""The web view in a real (headless) Chromium: rows appear as events are published, the detail
shows what was sent and received, retry and the clock act, the timeline fills, hostile values
stay text, and the page reconnects to a restarted emulator."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from emulator.webview import UI_PATH
from tests.browser.conftest import open_app, wait_until
from tests.emulator.helpers import create_app, create_endpoint, failing_hook, local_client

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HOSTILE = "<img src=x onerror=window.__pwned=1>"
CSS = "css selector"


def publish(client: httpx.Client, app: str, **fields: Any) -> dict[str, Any]:
    body = {"event_type": "order.created", "payload": {"id": 1}, **fields}
    answer = client.post(f"/v1/application/{app}/event", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


# The page redraws rows as changes arrive, so elements are read and clicked in one script
# (a WebElement found first could be replaced before it is used).
def text(driver: WebDriver, selector: str) -> str | None:
    """The shown text of the first element matching ``selector``, or None."""
    found = driver.execute_script(
        "const n = document.querySelector(arguments[0]); return n ? n.innerText : null", selector
    )
    return None if found is None else str(found)


def click(driver: WebDriver, selector: str) -> bool:
    """Click the first element matching ``selector``; False when there is none yet."""
    return bool(
        driver.execute_script(
            "const n = document.querySelector(arguments[0]); if (n) n.click(); return !!n",
            selector,
        )
    )


def row_selector(uid: str) -> str:
    return f'#window [data-event="{uid}"]'


def row(driver: WebDriver, uid: str) -> str | None:
    """The text of the event's row (None while it is not shown)."""
    return text(driver, row_selector(uid))


def cells(driver: WebDriver, uid: str) -> list[str]:
    found = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' > span')].map(s => s.innerText)",
        row_selector(uid),
    )
    return [str(c) for c in found]


def count(driver: WebDriver, selector: str) -> int:
    script = "return document.querySelectorAll(arguments[0]).length"
    return int(driver.execute_script(script, selector))


def connection(driver: WebDriver) -> str:
    """The page's connection badge: connecting, live, reconnecting, unauthorized."""
    return str(driver.find_element("id", "conn").get_attribute("data-state"))


def keep_screenshot(driver: WebDriver, name: str) -> None:
    """With SIMPLYQ_SCREENSHOTS=1, the picture for the docs (docs/screenshots/NAME)."""
    if os.environ.get("SIMPLYQ_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / name))


def test_a_published_event_appears_as_a_row(
    page: WebDriver, ui_server: EmulatorServer, env_client: httpx.Client
) -> None:
    create_app(env_client, "shop")
    create_endpoint(env_client, "shop", "orders")
    open_app(page, ui_server.url, env_client, "shop")
    started = time.monotonic()
    event = publish(env_client, "shop", uid="evt-live-1", event_type="order.paid")
    wait_until(page, lambda d: row(d, event["uid"]))
    assert time.monotonic() - started < 2.0
    assert cells(page, event["uid"])[1:3] == ["evt-live-1", "order.paid"]
    # Its delivery lands in the same row without a reload.
    wait_until(page, lambda d: count(d, row_selector("evt-live-1") + " .badge.s-0") == 1)
    assert "orders" in (row(page, "evt-live-1") or "")


def test_the_detail_shows_the_exchange_and_retry_adds_an_attempt(
    page: WebDriver, ui_server: EmulatorServer, env_client: httpx.Client
) -> None:
    create_app(env_client, "shop")
    create_endpoint(env_client, "shop", "orders")
    event = publish(env_client, "shop", uid="evt-detail", payload={"total": 1.0, "n": 2})
    env_client.post("/_emulator/clock", json={"timeout": 5})
    open_app(page, ui_server.url, env_client, "shop")
    wait_until(page, lambda d: click(d, row_selector(event["uid"])))
    wait_until(page, lambda d: count(d, '#detail [data-event="evt-detail"]') == 1)
    assert count(page, "#detail table.attempts tbody tr") == 1
    click(page, "#detail table.attempts tbody tr")
    shown = str(wait_until(page, lambda d: text(d, "#detail .attempt-detail")))
    assert "X-Simplyq-Signature" in shown and "Response: 200" in shown
    # The body exactly as sent (1.0 stays 1.0; a re-serialised payload would say 1).
    assert text(page, "#detail .request-body") == '{"total":1.0,"n":2}'
    assert " ms" in (text(page, "#detail .kv") or "")  # latency
    # The signature check: the endpoint's secret matches, another one does not.
    click(page, "#detail .sig button:nth-of-type(2)")
    wait_until(page, lambda d: "signature 1 of 1 matches" in (text(d, ".sig") or ""))
    wrong = "whsec_" + "A" * 64
    page.execute_script("document.getElementById('secret').value = arguments[0]", wrong)
    click(page, "#check-signature")
    wait_until(page, lambda d: "no signature matches" in (text(d, ".sig") or ""))
    # Retry from the attempt, then back to the event: a second, manual attempt.
    click(page, "#detail .attempt-detail button.retry")
    wait_until(page, lambda d: "scheduled" in (text(d, "#notice") or ""))
    click(page, "#detail .attempt-detail button")  # back to the event
    wait_until(page, lambda d: count(d, "#detail table.attempts tbody tr") == 2)
    wait_until(page, lambda d: "(manual)" in (text(d, "#detail table.attempts") or ""))


def test_running_the_clock_fills_the_timeline(
    page: WebDriver, ui_server: EmulatorServer, env_client: httpx.Client
) -> None:
    create_app(env_client, "shop")  # the default schedule: 7 tries over 10 h 43 min
    create_endpoint(env_client, "shop", "orders")
    for n in range(4):  # neighbours in the list, delivered at once
        publish(env_client, "shop", event_type="order.paid", payload={"n": n})
    create_endpoint(env_client, "shop", "broken", url=failing_hook(500))
    event = publish(env_client, "shop", uid="evt-retries")
    env_client.post("/_emulator/clock", json={"timeout": 5})
    open_app(page, ui_server.url, env_client, "shop")
    wait_until(page, lambda d: click(d, row_selector(event["uid"])))
    wait_until(page, lambda d: count(d, "#detail svg.timeline") == 1)
    made_before = count(page, "#detail svg.timeline circle.made")
    assert made_before == 2  # one try to each endpoint
    click(page, "#run-idle")
    # 7 tries to the broken endpoint (the default schedule), each drawn as it is made.
    wait_until(page, lambda d: count(d, '#detail svg.timeline g.try[data-status="fail"]') == 7)
    assert count(page, "#detail svg.timeline circle.made") == 8
    lanes = page.execute_script(
        "return [...document.querySelectorAll('#detail svg.timeline text.lane')]"
        ".map(t => t.firstChild.textContent)"
    )
    assert sorted(lanes) == ["broken", "orders"]
    # The clock's "now" line follows the clock to the last try.
    now_at_last_try = (
        "const marks = [...document.querySelectorAll('#detail svg.timeline circle.made')];"
        "const now = document.querySelector('#detail svg.timeline line.now');"
        "return !!now && Math.max(...marks.map(m => +m.getAttribute('cx')))"
        " <= +now.getAttribute('x1') + 0.5"
    )
    wait_until(page, lambda d: d.execute_script(now_at_last_try))
    keep_screenshot(page, "ui.png")


class _Hostile(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = f"<script>window.__pwned=2</script>{HOSTILE}".encode()
        self.send_response(500)
        self.send_header("X-Evil", HOSTILE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hostile_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_hostile_payloads_and_headers_render_as_text(
    page: WebDriver, ui_server: EmulatorServer, env_client: httpx.Client, hostile_receiver: str
) -> None:
    create_app(env_client, "shop", name=HOSTILE)
    create_endpoint(env_client, "shop", "evil", url=hostile_receiver, headers={"X-Mine": HOSTILE})
    # uids and event types are identifiers (validated); payloads and headers are anything.
    publish(env_client, "shop", uid="evt-hostile", payload={HOSTILE: [HOSTILE, {"html": HOSTILE}]})
    env_client.post("/_emulator/clock", json={"timeout": 5})
    open_app(page, ui_server.url, env_client, "shop")
    wait_until(page, lambda d: click(d, row_selector("evt-hostile")))
    assert HOSTILE in str(wait_until(page, lambda d: text(d, "#detail pre.payload")))
    click(page, "#detail table.attempts tbody tr")
    shown = str(wait_until(page, lambda d: text(d, "#detail .attempt-detail")))
    assert "<script>window.__pwned=2</script>" in shown  # the response body, as text
    assert shown.count(HOSTILE) >= 3  # request header, response header, body
    assert page.execute_script("return window.__pwned") is None
    assert count(page, "#detail img, #detail script, #window img") == 0


def test_the_page_reconnects_to_a_restarted_emulator(page: WebDriver, tmp_path: Path) -> None:
    config = EmulatorConfig(data_dir=tmp_path, durable=False, time_scale=1000.0)
    first = EmulatorServer(config).start()
    port, url = first.port, first.url
    key = "sk_restart_" + secrets.token_hex(4)
    try:
        with local_client(url, key) as client:
            create_app(client, "shop")
            publish(client, "shop", uid="before")
            open_app(page, url, client, "shop")
            wait_until(page, lambda d: row(d, "before"))
    finally:
        first.stop()
    wait_until(page, lambda d: connection(d) != "live")
    with EmulatorServer(config, port=port), local_client(url, key) as client:
        wait_until(page, lambda d: connection(d) == "live")
        publish(client, "shop", uid="after")
        wait_until(page, lambda d: row(d, "after"))
        assert row(page, "before")


def test_with_api_key_the_page_asks_for_it(page: WebDriver) -> None:
    config = EmulatorConfig(data_dir=None, api_keys=frozenset({"sk_team"}), time_scale=1000.0)
    with EmulatorServer(config) as server, local_client(server.url, "sk_team") as client:
        create_app(client, "shop")
        publish(client, "shop", uid="guarded")
        page.get(server.url + UI_PATH)
        wait_until(page, lambda d: connection(d) == "unauthorized")
        assert count(page, '#window [data-event="guarded"]') == 0
        page.find_element("id", "key").send_keys("sk_team")
        click(page, "#keyform button")
        wait_until(page, lambda d: row(d, "guarded"), timeout=8)


def test_the_actions_publish_toggle_rotate_and_recover(
    page: WebDriver, ui_server: EmulatorServer, env_client: httpx.Client
) -> None:
    create_app(env_client, "shop")
    create_endpoint(env_client, "shop", "orders")
    secret = env_client.get("/v1/application/shop/endpoint/orders/secret").json()["key"]
    open_app(page, ui_server.url, env_client, "shop")
    wait_until(page, lambda d: count(d, '#endpoint-list tr[data-endpoint="orders"]') == 1)
    fill_form = (
        "const f = document.getElementById('publish'); f.uid.value = arguments[0]; "
        "f.payload.value = arguments[1]; f.requestSubmit()"
    )
    page.execute_script(fill_form, "evt-form", "{not json")
    wait_until(page, lambda d: "the payload is not JSON" in (text(d, "#notice") or ""))
    page.execute_script(fill_form, "evt-form", '{"from": "the form"}')
    wait_until(page, lambda d: row(d, "evt-form"))
    assert env_client.get("/v1/application/shop/event/evt-form").json()["payload"] == {
        "from": "the form"
    }

    click(page, '#endpoint-list tr[data-endpoint="orders"] button.toggle')
    wait_until(
        page, lambda d: "Enable" in (text(d, '#endpoint-list tr[data-endpoint="orders"]') or "")
    )
    assert env_client.get("/v1/application/shop/endpoint/orders").json()["active"] is False
    click(page, '#endpoint-list tr[data-endpoint="orders"] button.toggle')
    wait_until(
        page, lambda d: "Disable" in (text(d, '#endpoint-list tr[data-endpoint="orders"]') or "")
    )

    click(page, '#endpoint-list tr[data-endpoint="orders"] button.rotate')
    wait_until(page, lambda d: "rotated" in (text(d, "#notice") or ""))
    rotated = env_client.get("/v1/application/shop/endpoint/orders/secret").json()["key"]
    assert rotated != secret

    page.execute_script(
        "document.querySelector('#endpoint-list input[type=datetime-local]').value = arguments[0]",
        "2020-01-01T00:00:00",
    )
    click(page, '#endpoint-list tr[data-endpoint="orders"] button.recover')
    wait_until(
        page,
        lambda d: (
            "recovery of orders since 2020-01-01T00:00:00Z started" in (text(d, "#notice") or "")
        ),
    )


def test_a_reset_environment_empties_the_page(
    page: WebDriver, ui_server: EmulatorServer, env_client: httpx.Client
) -> None:
    create_app(env_client, "shop")
    publish(env_client, "shop", uid="evt-doomed")
    open_app(page, ui_server.url, env_client, "shop")
    wait_until(page, lambda d: row(d, "evt-doomed"))
    key = env_client.headers["authorization"].split(" ", 1)[1]
    assert env_client.post("/_emulator/reset", json={"api_key": key}).status_code == 204
    wait_until(page, lambda d: count(d, "#window .row") == 0)
    assert "(none yet)" in (text(page, "#app") or "")
