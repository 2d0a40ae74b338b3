"""The ``simplyq-emulator`` command as a user runs it: serve, publish, listen, reset."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.cli import main
from emulator.config import EmulatorConfig
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
