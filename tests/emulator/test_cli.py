"""The ``simplyq-emulator`` command as a user runs it: serve, publish, listen, reset, and the
dashboard commands (which find the dashboard through its entry point)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from emulator import cli
from emulator.cli import main
from emulator.config import EmulatorConfig
from emulator.listener import Listener
from emulator.server import EmulatorServer

WAIT = 10.0


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(data_dir=None)) as running:
        yield running


def read_until(process: subprocess.Popen[str], pattern: str, limit: float = WAIT) -> str:
    """Lines of the child's stdout until one matches (bounded)."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        if re.search(pattern, line):
            return seen
    raise AssertionError(f"no line matching {pattern!r} in:\n{seen}")


def stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_prints_url_key_and_data_dir_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_until(process, "Ctrl-C")
        url = re.search(r"Base URL:\s+(http://127\.0\.0\.1:\d+)", banner)
        assert url, banner
        assert "API key:" in banner and str(data.resolve()) in banner
        assert f"Web view:  {url.group(1)}/_emulator/ui" in banner
        created = httpx.post(
            url.group(1) + "/v1/application",
            headers={"Authorization": "Bearer cli-test"},
            json={"uid": "kept", "name": "Kept"},
        )
        assert created.status_code == 201
    finally:
        code = stop(process)
    assert code == 0
    assert "Traceback" not in (process.stdout.read() if process.stdout else "")
    assert list((data / "applications").glob("*.json")), "the acknowledged write is on disk"


def test_serve_on_a_busy_port_says_so_without_a_traceback(server: EmulatorServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", str(server.port), "--in-memory"],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 1
    assert "cannot listen" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["serve", "--help"],
        ["publish", "--help"],
        ["listen", "--help"],
        ["reset", "--help"],
        ["dashboard", "--help"],
        ["tui", "--help"],
    ],
)
def test_every_command_has_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    assert "usage: simplyq-emulator" in capsys.readouterr().out


def test_bad_option_value_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "http"])
    assert exit_info.value.code == 2
    assert "not a port number" in capsys.readouterr().err


def test_publish_creates_the_app_and_reports_each_delivery(
    server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "cli-publish"
    common = ["--url", server.url, "--api-key", key]
    code = main(
        [
            "publish",
            *common,
            "--app",
            "shop",
            "--type",
            "order.created",
            "--data",
            '{"id": 7}',
            "--topic",
            "eu",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    event = json.loads(captured.out)
    assert event["event_type"] == "order.created" and event["payload"] == {"id": 7}
    assert event["topics"] == ["eu"]
    assert "created application shop" in captured.err
    listed = httpx.get(
        server.url + "/v1/application/shop/event", headers={"Authorization": f"Bearer {key}"}
    ).json()["data"]
    assert [e["uid"] for e in listed] == [event["uid"]]


def test_publish_with_bad_json_or_no_emulator_fails_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["publish", "--url", "http://127.0.0.1:9", "--data", "{not json"]) == 1
    assert "--data is not JSON" in capsys.readouterr().err
    assert main(["publish", "--url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "http://127.0.0.1:9" in err and "Traceback" not in err


def test_listen_registers_itself_and_prints_verified_deliveries(server: EmulatorServer) -> None:
    key = "cli-listen"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "listen",
            "--url",
            server.url,
            "--api-key",
            key,
            "--app",
            "inbox",
            "--status",
            "500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        read_until(process, "Listening on")
        published = httpx.post(
            server.url + "/v1/application/inbox/event",
            headers={"Authorization": f"Bearer {key}"},
            json={"event_type": "ping", "payload": {"hello": "listener"}},
        )
        assert published.status_code == 201
        report = read_until(process, '"hello": "listener"')
        assert "-> 500" in report and "signature ok" in report
    finally:
        stop(process)


def test_listen_takes_over_an_existing_endpoint_at_its_own_url(server: EmulatorServer) -> None:
    """The README's walk-through: the endpoint exists, listen serves exactly its URL."""
    auth = {"Authorization": "Bearer cli-listen-existing"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/webhooks"
    httpx.post(server.url + "/v1/application", headers=auth, json={"uid": "shop", "name": "Shop"})
    created = httpx.post(
        server.url + "/v1/application/shop/endpoint",
        headers=auth,
        json={"uid": "orders", "url": url, "filter_types": ["order.created"]},
    )
    assert created.status_code == 201
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "listen",
            "--url",
            server.url,
            "--api-key",
            auth["Authorization"].removeprefix("Bearer "),
            "--app",
            "shop",
            "--endpoint",
            "orders",
            "--port",
            str(port),
            "--path",
            "/webhooks",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_until(process, "Listening on")
        assert f"Listening on {url}," in banner
        endpoint = httpx.get(server.url + "/v1/application/shop/endpoint/orders", headers=auth)
        assert endpoint.json()["url"] == url
        assert endpoint.json()["filter_types"] == ["order.created"]
        for event_type in ("order.shipped", "order.created"):
            published = httpx.post(
                server.url + "/v1/application/shop/event",
                headers=auth,
                json={"event_type": event_type, "payload": {"type": event_type}},
            )
            assert published.status_code == 201
        report = read_until(process, '"type": "order.created"')
        assert "POST /webhooks -> 200  signature ok" in report
        assert "order.shipped" not in report, "the endpoint's filter still applies"
    finally:
        stop(process)


def test_reset_deletes_one_environment_or_all(
    server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def apps(key: str) -> list[str]:
        response = httpx.get(
            server.url + "/v1/application", headers={"Authorization": f"Bearer {key}"}
        )
        return [a["uid"] for a in response.json()["data"]]

    for key in ("reset-a", "reset-b"):
        httpx.post(
            server.url + "/v1/application",
            headers={"Authorization": f"Bearer {key}"},
            json={"uid": "x", "name": "x"},
        )
    assert main(["reset", "--url", server.url, "--api-key", "reset-a"]) == 0
    assert apps("reset-a") == [] and apps("reset-b") == ["x"]
    assert main(["reset", "--url", server.url, "--all"]) == 0
    assert apps("reset-b") == []
    assert "reset everything" in capsys.readouterr().out


def test_serve_takes_its_settings_from_the_environment_too() -> None:
    env = {**os.environ, "SIMPLYQ_EMULATOR_PORT": "0", "SIMPLYQ_EMULATOR_IN_MEMORY": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        banner = read_until(process, "Ctrl-C")
        assert "in memory" in banner and ":8765" not in banner
    finally:
        assert stop(process) == 0


SERVE_IN_MEMORY = [sys.executable, "-m", "emulator", "serve", "--port", "0", "--in-memory"]


def test_serve_with_keys_and_an_admin_key_keeps_each_key_to_its_own_environment() -> None:
    """The team set-up of issue 15: `serve --api-key k1 --api-key k2`, the admin key from the
    environment; k2 cannot reset k1's data, the admin key lists every environment."""
    env = {**os.environ, "SIMPLYQ_EMULATOR_ADMIN_KEY": "sk_boss"}
    process = subprocess.Popen(
        [*SERVE_IN_MEMORY, "--api-key", "k1", "--api-key", "k2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        banner = read_until(process, "Ctrl-C")
        assert "Admin key: given" in banner and "sk_boss" not in banner
        found = re.search(r"Base URL:\s+(http://127\.0\.0\.1:\d+)", banner)
        assert found, banner
        url = found.group(1)

        def call(key: str, method: str, path: str, body: object = None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {key}"}
            return httpx.request(method, url + path, headers=headers, json=body, timeout=WAIT)

        assert call("k1", "POST", "/v1/application", {"uid": "a", "name": "a"}).status_code == 201
        assert call("k2", "POST", "/_emulator/reset", {"api_key": "k1"}).status_code == 403
        assert call("k1", "GET", "/v1/application/a").status_code == 200
        listed = call("sk_boss", "GET", "/_emulator/environments").json()["data"]
        assert [e["api_key"] for e in listed] == ["k1"]
    finally:
        assert stop(process) == 0


def test_serve_without_an_admin_key_says_what_is_closed() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--port",
            "0",
            "--in-memory",
            "--api-key",
            "k1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_until(process, "Ctrl-C")
        assert "Admin key: none; reset --all, moving the clock" in banner
    finally:
        assert stop(process) == 0


def test_the_admin_key_must_differ_from_the_api_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--api-key", "k1", "--admin-key", "k1", "--in-memory"]) == 2
    assert "the admin key must differ from every --api-key" in capsys.readouterr().err


def test_reset_all_on_a_keyed_emulator_needs_the_admin_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = EmulatorConfig(data_dir=None, port=0, api_keys=frozenset({"k1"}), admin_key="sk_boss")
    with EmulatorServer(config) as keyed:
        base = ["reset", "--url", keyed.url, "--api-key", "k1"]
        assert main([*base, "--all"]) == 1
        err = capsys.readouterr().err
        assert "needs its admin key: --admin-key or $SIMPLYQ_EMULATOR_ADMIN_KEY" in err
        assert main(base) == 0  # its own environment
        assert main([*base, "--all", "--admin-key", "sk_boss"]) == 0
        assert "reset everything" in capsys.readouterr().out


def test_a_bad_environment_variable_is_a_message() -> None:
    env = {**os.environ, "SIMPLYQ_EMULATOR_PORT": "eighty"}
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "serve"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=env,
    )
    assert done.returncode == 2
    assert "SIMPLYQ_EMULATOR_" in done.stderr and "Traceback" not in done.stderr


def test_publish_names_each_attempt_status_with_its_code(
    server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "cli-publish-names"
    receiver = Listener(out=io.StringIO())
    serving = threading.Thread(target=receiver.serve_forever, daemon=True)
    serving.start()
    try:
        headers = {"Authorization": f"Bearer {key}"}
        httpx.post(server.url + "/v1/application", headers=headers, json={"uid": "s", "name": "s"})
        for uid, url in (("up", receiver.url), ("down", "http://127.0.0.1:9/hook")):
            created = httpx.post(
                server.url + "/v1/application/s/endpoint",
                headers=headers,
                json={"uid": uid, "url": url},
            )
            assert created.status_code == 201
        assert main(["publish", "--url", server.url, "--api-key", key, "--app", "s"]) == 0
    finally:
        receiver.close()
        serving.join(WAIT)
    err = capsys.readouterr().err
    assert "  -> up: success (0), HTTP 200" in err
    assert re.search(r"  -> down: failed \(3\), no answer: \S", err), err
    assert "  -> down: pending (1), try 2 due later" in err


def test_the_dashboard_is_found_through_its_entry_point() -> None:
    launcher = cli.dashboard_launcher()
    assert (launcher.__module__, getattr(launcher, "__name__", "")) == ("tui.launch", "run")


class FakeDashboard:
    """Stands in for the dashboard (a terminal UI cannot run here): records what it was
    asked to open and whether that emulator answered."""

    opened: ClassVar[list[tuple[str, str, int]]] = []
    admin_keys: ClassVar[list[str | None]] = []
    environments: ClassVar[list[int]] = []

    @classmethod
    def run(cls, url: str, api_key: str, admin_key: str | None = None) -> None:
        health = httpx.get(url + "/_emulator/health", timeout=WAIT)
        cls.opened.append((url, api_key, health.status_code))
        cls.admin_keys.append(admin_key)
        if admin_key is not None:
            listing = httpx.get(
                url + "/_emulator/environments",
                headers={"Authorization": f"Bearer {admin_key}"},
                timeout=WAIT,
            )
            cls.environments.append(listing.status_code)


def use_dashboard(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    """Make the entry point lookup find ``value`` (None: no dashboard installed)."""
    found = [EntryPoint("dashboard", value, cli.DASHBOARD_ENTRY_POINTS)] if value else []

    def entry_points(*, group: str, name: str) -> list[EntryPoint]:
        assert (group, name) == (cli.DASHBOARD_ENTRY_POINTS, "dashboard")
        return found

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    FakeDashboard.opened = []
    FakeDashboard.admin_keys = []
    FakeDashboard.environments = []


def test_dashboard_runs_an_emulator_for_the_dashboard_and_stops_it_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_dashboard(monkeypatch, f"{__name__}:FakeDashboard.run")
    args = ["dashboard", "--in-memory", "--port", "0", "--api-key", "sk_dash"]
    assert main(args) == 0
    ((url, key, status),) = FakeDashboard.opened
    assert key == "sk_dash" and status == 200
    # Started with --api-key, the emulator gets an admin key for the dashboard to see it all.
    ((admin_key,),) = [FakeDashboard.admin_keys]
    assert admin_key is not None and admin_key != "sk_dash"
    assert FakeDashboard.environments == [200]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/_emulator/health", timeout=WAIT)


def test_dashboard_passes_the_given_admin_key(monkeypatch: pytest.MonkeyPatch) -> None:
    use_dashboard(monkeypatch, f"{__name__}:FakeDashboard.run")
    args = ["dashboard", "--in-memory", "--port", "0", "--api-key", "sk_dash"]
    assert main([*args, "--admin-key", "sk_boss"]) == 0
    assert FakeDashboard.admin_keys == ["sk_boss"] and FakeDashboard.environments == [200]


def test_dashboard_without_api_keys_needs_no_admin_key(monkeypatch: pytest.MonkeyPatch) -> None:
    use_dashboard(monkeypatch, f"{__name__}:FakeDashboard.run")
    assert main(["dashboard", "--in-memory", "--port", "0"]) == 0
    assert FakeDashboard.admin_keys == [None]


def test_tui_opens_the_dashboard_on_the_given_emulator(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_dashboard(monkeypatch, f"{__name__}:FakeDashboard.run")
    assert main(["tui", "--url", server.url, "--api-key", "sk_attach"]) == 0
    assert FakeDashboard.opened == [(server.url, "sk_attach", 200)]
    assert FakeDashboard.admin_keys == [None]


def test_tui_takes_the_admin_key_from_the_option_or_the_environment(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_dashboard(monkeypatch, f"{__name__}:FakeDashboard.run")
    assert main(["tui", "--url", server.url, "--admin-key", "sk_boss"]) == 0
    monkeypatch.setenv("SIMPLYQ_EMULATOR_ADMIN_KEY", "sk_boss_env")
    assert main(["tui", "--url", server.url]) == 0
    assert FakeDashboard.admin_keys == ["sk_boss", "sk_boss_env"]


@pytest.mark.parametrize(
    ("value", "said"),
    [(None, "the dashboard is not installed"), ("no_such_module:run", "cannot load the dashboard")],
)
@pytest.mark.parametrize("command", [["dashboard", "--in-memory", "--port", "0"], ["tui"]])
def test_a_missing_dashboard_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str | None,
    said: str,
    command: list[str],
) -> None:
    use_dashboard(monkeypatch, value)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"simplyq-emulator {command[0]}: {said}") and "Traceback" not in err
