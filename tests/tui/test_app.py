"""The dashboard against a live emulator, driven with Pilot: what a developer sees and does."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest
from textual.widgets import Input

from emulator.client import AsyncSimplyQ, SimplyQ, SimplyQError
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.tui.helpers import attempt_rows, live, rows, screen_text, wait_for
from tui.app import DashboardApp
from tui.keys import DETAILS, MAIN
from tui.screens.curl import CurlScreen
from tui.screens.details import DetailsScreen
from tui.screens.help import HelpScreen
from tui.screens.publish import PublishScreen
from tui.widgets.signature_panel import SignaturePanel

pytestmark = pytest.mark.anyio
SIZE = (160, 45)


def shop(client: SimplyQ, hook: str, endpoint: str = "orders") -> None:
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", {"uid": endpoint, "url": hook})


async def test_a_published_event_appears_in_the_list(
    emulator: EmulatorServer, client: SimplyQ, ok_hook: str, api_key: str
) -> None:
    shop(client, ok_hook)
    client.events.create("shop", {"uid": "before", "event_type": "a", "payload": {}})
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        assert rows(app) == ["before"]
        async with AsyncSimplyQ(api_key, emulator.url) as publisher:
            await publisher.events.create(
                "shop", {"uid": "after", "event_type": "user.created", "payload": {"id": 1}}
            )
        await wait_for(pilot, lambda: rows(app) == ["before", "after"], what="the new row")
        # The cursor was on the newest row, so it follows the new one.
        events = app.main.events
        await wait_for(pilot, lambda: events.current is not None and events.current.uid == "after")
        await wait_for(
            pilot,
            lambda: (
                app.model.by_key[(app.model.visible[1].env, "shop", "after")].status()
                == "delivered"
            ),
        )
        assert "Events 2" in str(app.main.events.border_title)


async def test_selecting_an_event_shows_its_attempts(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str, ok_hook: str
) -> None:
    shop(client, failing_hook)
    client.endpoints.create("shop", {"uid": "audit", "url": ok_hook})
    client.events.create("shop", {"uid": "first", "event_type": "order.created", "payload": {}})
    client.events.create("shop", {"uid": "second", "event_type": "order.paid", "payload": {}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        assert app.main.events.current is not None and app.main.events.current.uid == "second"
        await pilot.press("up")
        assert app.main.events.current is not None and app.main.events.current.uid == "first"
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 3, what="3 attempts")
        table = attempt_rows(app)
        by_endpoint = {(r[1], r[0]): r for r in table}
        assert by_endpoint[("orders", "1")][2].endswith("failed")
        assert by_endpoint[("orders", "1")][3] == "500"
        assert by_endpoint[("orders", "2")][2].endswith("pending")  # the retry, scheduled
        assert re.search(r"\(in (2\d|30)s\)$", by_endpoint[("orders", "2")][7])
        assert by_endpoint[("audit", "1")][2].endswith("success")
        assert "Attempts of first" in str(app.main.attempts.border_title)


async def test_r_on_a_failed_attempt_makes_a_manual_attempt(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    shop(client, failing_hook)
    client.events.create("shop", {"uid": "ev", "event_type": "order.created", "payload": {}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 2)
        assert app.main.attempts.current is not None
        assert app.main.attempts.current.status == 3  # the cursor starts on the failure
        await pilot.press("r")

        def manual_row() -> bool:
            return any(r[5] == "manual" for r in attempt_rows(app))

        await wait_for(pilot, manual_row, what="a manual attempt in the table")

        def first_manual() -> list[str]:
            return next(r for r in attempt_rows(app) if r[5] == "manual" and r[0] == "1")

        await wait_for(pilot, lambda: first_manual()[3] == "500", what="the manual try")
        assert first_manual()[1:3] == ["orders", "✗ failed"]
    attempts = list(client.events.delivery_attempts("shop", "ev"))
    manual = [a for a in attempts if a["trigger_type"] == "1"]
    assert [a["retry_count"] for a in manual if a["status"] == "3"] == [0]


async def test_filters_narrow_the_list(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str, ok_hook: str
) -> None:
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create(
        "shop", {"uid": "bad", "url": failing_hook, "filter_types": ["order.paid"]}
    )
    client.endpoints.create(
        "shop", {"uid": "good", "url": ok_hook, "filter_types": ["order.created"]}
    )
    for uid, kind, topic in [
        ("o1", "order.created", "eu"),
        ("o2", "order.created", "us"),
        ("p1", "order.paid", "eu"),
        ("u1", "user.signup", "eu"),
    ]:
        client.events.create(
            "shop", {"uid": uid, "event_type": kind, "topics": [topic], "payload": {}}
        )
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(
            pilot,
            lambda: app.model.by_key[(app.model.visible[0].env, "shop", "p1")].status() == "failed",
        )
        assert rows(app) == ["o1", "o2", "p1", "u1"]

        await pilot.press("slash")
        await pilot.press(*"order.")
        await pilot.press("enter")
        assert rows(app) == ["o1", "o2", "p1"]
        assert "type~order." in str(app.main.events.border_title)

        await pilot.press("slash")
        for _ in range(6):
            await pilot.press("backspace")
        await pilot.press("tab", *"eu", "enter")
        assert rows(app) == ["o1", "p1", "u1"]

        app.main.apply_filter(app.model.filter.__class__(status="failed"))
        await pilot.pause()
        assert rows(app) == ["p1"]
        app.main.apply_filter(app.model.filter.__class__(status="delivered"))
        await pilot.pause()
        assert rows(app) == ["o1", "o2"]
        app.main.apply_filter(app.model.filter.__class__(status="none"))
        await pilot.pause()
        assert rows(app) == ["u1"]

        await pilot.press("escape")
        assert rows(app) == ["o1", "o2", "p1", "u1"]
        assert str(app.main.events.border_title) == "Events 4"


async def test_the_tree_scopes_the_list_to_an_endpoint(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str, ok_hook: str
) -> None:
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", {"uid": "bad", "url": failing_hook, "filter_types": ["b"]})
    client.endpoints.create("shop", {"uid": "good", "url": ok_hook, "filter_types": ["g"]})
    client.events.create("shop", {"uid": "to-bad", "event_type": "b", "payload": {}})
    client.events.create("shop", {"uid": "to-good", "event_type": "g", "payload": {}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: app.model.attempt_count >= 3)
        sidebar = app.main.sidebar
        await wait_for(
            pilot, lambda: sidebar.highlighted_endpoint is None and len(app.model.endpoints) == 2
        )
        sidebar.focus()
        # root, env, app, bad, good
        for _ in range(3):
            await pilot.press("down")
        assert sidebar.highlighted_endpoint is not None
        assert sidebar.highlighted_endpoint.uid == "bad"
        await pilot.press("enter")
        assert rows(app) == ["to-bad"]
        label = str(sidebar.cursor_node.label if sidebar.cursor_node else "")
        assert "bad" in label and "0%" in label  # health: every try failed
        await pilot.press("escape")
        assert rows(app) == ["to-bad", "to-good"]


async def test_details_show_request_response_and_signature(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    shop(client, failing_hook)
    client.events.create("shop", {"uid": "ev", "event_type": "a", "payload": {"total": 12}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 2)
        await pilot.press("enter", "enter")  # the event, then its (failed) attempt
        assert isinstance(app.screen, DetailsScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.detail is not None, what="the attempt detail")
        panel = screen.query_one(SignaturePanel)
        await wait_for(pilot, lambda: panel.check is not None, what="the signature check")
        assert panel.check is not None and panel.check.ok
        assert panel.check.matching_index == 0 and panel.check.body_rebuilt
        await pilot.pause()
        text = screen_text(app)
        assert "X-Simplyq-Signature:" in text and "X-Simplyq-Timestamp:" in text
        assert '"total": 12' in text
        assert "Status 500" in text and "boom: handler crashed" in text
        assert "✓ valid" in text and "current secret" in text and "Skew at send" in text
        await pilot.press("right_square_bracket")  # the next attempt: the pending retry
        await wait_for(pilot, lambda: screen.detail is not None and screen.detail["status"] == "1")
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailsScreen)


async def test_the_details_keys_retry_copy_and_move_the_attempt_table(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    shop(client, failing_hook)
    client.events.create("shop", {"uid": "ev", "event_type": "a", "payload": {"n": 2}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 2)
        await pilot.press("enter", "enter")
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        failed = screen.attempt_id

        def table_on(attempt_id: str) -> bool:
            current = app.main.attempts.current
            return current is not None and current.id == attempt_id

        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: screen.attempt_id != failed, what="the next attempt")
        await wait_for(pilot, lambda: table_on(screen.attempt_id), what="the table following")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: table_on(failed), what="the table back on the failure")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CurlScreen), what="the curl screen")
        assert app.clipboard.startswith(f"curl -sS -X POST {failing_hook}")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back on the details")
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: any(r[5] == "manual" for r in attempt_rows(app)),
            what="the manual attempt",
        )
    manual = [a for a in client.events.delivery_attempts("shop", "ev") if a["trigger_type"] == "1"]
    assert manual and manual[0]["endpoint_id"] == "orders"


async def test_curl_copies_the_delivery(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    shop(client, failing_hook)
    client.events.create("shop", {"uid": "ev", "event_type": "a", "payload": {"n": 1}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 2)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CurlScreen), what="the curl screen")
        command = app.clipboard
        assert command.startswith(f"curl -sS -X POST {failing_hook}")
        assert "X-Simplyq-Signature: " in command and """--data-raw '{"n":1}'""" in command


async def test_endpoint_actions_next_due_rotate_and_toggle(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    shop(client, failing_hook)
    client.events.create("shop", {"uid": "ev", "event_type": "a", "payload": {}})
    client.emulator.settle()
    secret = client.endpoints.retrieve_secret("shop", "orders")
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 2)
        endpoint = next(iter(app.model.endpoints.values()))

        await pilot.press("n")  # the retry 30 s later runs now
        await wait_for(
            pilot,
            lambda: any(r[0] == "2" and r[3] == "500" for r in attempt_rows(app)),
            what="the retry",
        )

        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: client.endpoints.retrieve_secret("shop", "orders") != secret,
            what="a new secret",
        )

        await pilot.press("a")
        await wait_for(pilot, lambda: not endpoint.active, what="the endpoint to be inactive")
        await pilot.press("a")
        await wait_for(pilot, lambda: endpoint.active, what="the endpoint to be active again")


def endpoint_chaos(client: SimplyQ, key: str) -> list[dict[str, object]]:
    """The chaos scopes the emulator holds for the shop's orders endpoint."""
    scopes = client.emulator.chaos()["scopes"]
    return [s for s in scopes if (s["api_key"], s["app"], s["endpoint"]) == (key, "shop", "orders")]


async def test_x_turns_the_endpoints_chaos_on_and_off(
    emulator: EmulatorServer, client: SimplyQ, api_key: str, ok_hook: str
) -> None:
    shop(client, ok_hook)
    client.events.create("shop", {"uid": "ev", "event_type": "a", "payload": {}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_for(pilot, lambda: len(attempt_rows(app)) == 1)

        await pilot.press("x")
        await wait_for(pilot, lambda: bool(endpoint_chaos(client, api_key)), what="chaos on")
        [scope] = endpoint_chaos(client, api_key)
        settings = scope["settings"]
        assert isinstance(settings, dict)
        assert (settings["duplicate"], settings["lost_ack"]) == (0.2, 0.1)

        await pilot.press("x")
        await wait_for(pilot, lambda: not endpoint_chaos(client, api_key), what="chaos off")


async def test_recover_redelivers_the_failures_since_a_time(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    no_retries = {"type": "exponential_backoff_with_deadline", "deadline": 1}
    client.applications.create({"uid": "shop", "name": "Shop", "retry_strategy": no_retries})
    client.endpoints.create("shop", {"uid": "orders", "url": failing_hook})
    for uid in ("a", "b"):
        client.events.create("shop", {"uid": uid, "event_type": "t", "payload": {}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        assert app.model.attempt_count == 2 and app.model.failed_count() == 2
        await pilot.press("R")
        await pilot.press("enter")  # since 1 h ago
        await wait_for(pilot, lambda: app.model.attempt_count == 4, what="two recoveries")
        await wait_for(pilot, lambda: [r[5] for r in attempt_rows(app)] == ["system", "manual"])


async def test_the_application_retry_schedule_is_shown_and_follows_changes(
    emulator: EmulatorServer, client: SimplyQ, failing_hook: str
) -> None:
    fixed = {"type": "fixed_wait", "max_retries": 2, "retry_delay": 90}
    client.applications.create({"uid": "shop", "name": "Shop", "retry_strategy": fixed})
    client.endpoints.create("shop", {"uid": "orders", "url": failing_hook})
    client.events.create("shop", {"uid": "ev", "event_type": "t", "payload": {}})
    client.emulator.settle()
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        attempts = app.main.attempts
        await wait_for(
            pilot,
            lambda: attempts.border_subtitle == "retry: fixed wait 1m 30s, 2 retries",
            what="the schedule under the attempts",
        )
        exponential = {"type": "exponential_backoff", "max_retries": 3}
        client.applications.update("shop", {"name": "Shop", "retry_strategy": exponential})
        await wait_for(
            pilot,
            lambda: attempts.border_subtitle == "retry: exponential backoff 2s, 4s, 8s",
            what="the new schedule",
        )
        await pilot.press("enter", "enter")
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        await wait_for(pilot, lambda: screen.detail is not None, what="the attempt detail")
        await pilot.pause()
        text = screen_text(app)
        assert "retry exponential backoff 2s, 4s, 8s" in text
        assert "✗ failed (3)" in text and "system (0) trigger" in text


async def test_publish_form_remembers_the_last_event(
    emulator: EmulatorServer, api_key: str
) -> None:
    app = DashboardApp(emulator.url, api_key)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, PublishScreen)
        screen = app.screen
        screen.query_one("#p-type", Input).value = "invoice.paid"
        screen.query_one("#p-topics", Input).value = "eu, billing"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: rows(app) != [], what="the published event")
        event = app.model.visible[0]
        assert (event.app, event.event_type, event.topics) == (
            "demo",
            "invoice.paid",
            ["eu", "billing"],
        )
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PublishScreen)
        assert screen.query_one("#p-type", Input).value == "invoice.paid"
        assert screen.query_one("#p-topics", Input).value == "eu, billing"
        await pilot.press("escape")
        assert not isinstance(app.screen, PublishScreen)


async def test_help_and_command_palette_list_every_action(emulator: EmulatorServer) -> None:
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(screen_text(app).split())
        for action in (*MAIN, *DETAILS):
            assert action.help in text, action
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for action in MAIN:
            if action.action != "app.quit":
                assert any(t.startswith(action.label) for t in titles), action
        assert "Quit" in titles
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert app.screen.__class__.__name__ == "CommandPalette"
        await pilot.press("escape")
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="q to quit")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_reconnects_after_the_emulator_restarts(api_key: str) -> None:
    port = free_port()
    config = EmulatorConfig(data_dir=None)
    server = EmulatorServer(config, port=port).start()
    try:
        with SimplyQ(api_key, server.url) as client:
            client.applications.create({"uid": "shop", "name": "Shop"})
            client.events.create("shop", {"uid": "old", "event_type": "a", "payload": {}})
        app = DashboardApp(server.url)
        async with app.run_test(size=SIZE) as pilot:
            await live(pilot)
            assert rows(app) == ["old"]
            # In a thread: the server waits (up to 5 s) for the dashboard's stream to close.
            await asyncio.to_thread(server.stop)
            await wait_for(pilot, lambda: app.connection == "offline", what="offline")
            assert "offline" in screen_text(app)
            server = EmulatorServer(config, port=port).start()  # same port, empty (in memory)
            with SimplyQ(api_key, server.url) as client:
                client.applications.create({"uid": "shop", "name": "Shop"})
                client.events.create("shop", {"uid": "new", "event_type": "a", "payload": {}})
            await wait_for(pilot, lambda: app.connection == "live", what="reconnected")
            await wait_for(pilot, lambda: rows(app) == ["new"], what="the new emulator's event")
            await pilot.pause(0.3)
            shown = screen_text(app)  # drawn anew, not from the old emulator's rows
            assert re.search(r" new +", shown) and not re.search(r" old +", shown)
            with SimplyQ(api_key, server.url) as client:
                client.events.create("shop", {"uid": "live", "event_type": "a", "payload": {}})
            await wait_for(pilot, lambda: rows(app) == ["new", "live"], what="the stream")
    finally:
        server.stop()


async def test_says_clearly_when_the_emulator_is_not_reachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = DashboardApp(url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.connection == "offline", what="offline")
        message = app.main.events.empty_message
        assert f"Cannot reach the emulator at {url}" in message
        assert "connection refused" in message and "simplyq-emulator serve" in message


async def test_every_environment_and_application_is_followed(
    emulator: EmulatorServer, client: SimplyQ, ok_hook: str
) -> None:
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.applications.create({"uid": "blog", "name": "Blog"})
    client.endpoints.create("blog", {"uid": "ep", "url": ok_hook})
    app = DashboardApp(emulator.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        # Two applications: the stream does not say whose event it is; the dashboard finds out.
        client.events.create("blog", {"uid": "post", "event_type": "post.created", "payload": {}})
        await wait_for(
            pilot,
            lambda: [(e.app, e.uid) for e in app.model.visible] == [("blog", "post")],
            what="the blog's event",
        )
        await wait_for(pilot, lambda: app.model.visible[0].status() == "delivered")
        # A new environment (API key) appears as it is used.
        with SimplyQ("sk_test_newcomer", emulator.url) as newcomer:
            newcomer.applications.create({"uid": "solo", "name": "Solo"})
            newcomer.events.create("solo", {"uid": "hello", "event_type": "x", "payload": {}})
        await wait_for(pilot, lambda: "hello" in rows(app), what="the new environment's event")
        await wait_for(
            pilot, lambda: app.model.api_key_of(app.model.visible[-1].env) == "sk_test_newcomer"
        )
        await pilot.pause(0.3)
        assert "sk_test_newcomer" in screen_text(app)


async def test_attaches_to_an_emulator_that_accepts_only_some_keys(ok_hook: str) -> None:
    config = EmulatorConfig(data_dir=None, api_keys=frozenset({"sk_only"}))
    with EmulatorServer(config) as server, SimplyQ("sk_only", server.url) as client:
        shop(client, ok_hook)
        client.events.create("shop", {"uid": "before", "event_type": "a", "payload": {}})
        app = DashboardApp(server.url, "sk_only")
        async with app.run_test(size=SIZE) as pilot:
            await live(pilot)  # the all-environments stream is refused: one per key instead
            client.events.create("shop", {"uid": "after", "event_type": "a", "payload": {}})
            await wait_for(pilot, lambda: rows(app) == ["before", "after"], what="the stream")


async def test_a_configured_key_shows_its_own_environment_and_the_admin_key_all(
    ok_hook: str,
) -> None:
    """A team's emulator (two keys and an admin key): the dashboard opened with one key sees
    that key's events only and cannot move the clock; with the admin key it follows both."""
    config = EmulatorConfig(
        data_dir=None, api_keys=frozenset({"sk_a", "sk_b"}), admin_key="sk_boss"
    )
    with (
        EmulatorServer(config) as server,
        SimplyQ("sk_a", server.url) as a,
        SimplyQ("sk_b", server.url) as b,
    ):
        shop(a, ok_hook)
        shop(b, ok_hook)
        a.events.create("shop", {"uid": "from-a", "event_type": "a", "payload": {}})
        b.events.create("shop", {"uid": "from-b", "event_type": "a", "payload": {}})
        own = DashboardApp(server.url, "sk_a")
        async with own.run_test(size=SIZE) as pilot:
            await live(pilot)
            assert rows(own) == ["from-a"]
            with pytest.raises(SimplyQError, match="tui --admin-key"):
                await own.backend.advance_to_next_due()
        everything = DashboardApp(server.url, "sk_a", admin_key="sk_boss")
        async with everything.run_test(size=SIZE) as pilot:
            await live(pilot)
            assert sorted(rows(everything)) == ["from-a", "from-b"]
            b.events.create("shop", {"uid": "later-b", "event_type": "a", "payload": {}})
            await wait_for(
                pilot, lambda: "later-b" in rows(everything), what="the other key's event"
            )
