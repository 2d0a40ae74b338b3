"""The started emulator's options, each from the command line, the ini file or the environment:
keeping the data, the time scale and the delivery timeout; and which source wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_plugin.settings import DEFAULT_DELIVERY_TIMEOUT, Settings
from tests.pytest_plugin.conftest import RunInner

WRITE = """
def test_write(simplyq, simplyq_server):
    assert str(simplyq_server.data_dir) == {folder!r}
    simplyq.client.applications.create({{"uid": "kept-app", "name": "Kept"}})
    with open({key_file!r}, "w") as out:
        out.write(simplyq.api_key)
"""

READ = """
from emulator.client import SimplyQ


def test_read(simplyq_server):
    # The same folder, a new emulator: it loads what the previous session stored.
    key = open({key_file!r}).read()
    with SimplyQ(key, base_url=simplyq_server.url) as client:
        assert [a["uid"] for a in client.applications.list()] == ["kept-app"]
"""


def test_keep_data(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept, key_file = tmp_path / "kept", str(tmp_path / "key.txt")
    pytester.makepyfile(test_write=WRITE.format(folder=str(kept / "main"), key_file=key_file))
    result = run_inner("--simplyq-data-dir", str(kept))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"simplyq: emulator started*data kept in {kept}/<worker>)"])
    # The started emulator wrote its TinyDB files there, and they outlive the session.
    stored = [p for p in (kept / "main").rglob("*") if p.is_file()]
    assert any("kept-app" in p.read_text(errors="replace") for p in stored)

    (pytester.path / "test_write.py").unlink()
    pytester.makepyfile(test_read=READ.format(key_file=key_file))
    monkeypatch.setenv("SIMPLYQ_PYTEST_DATA_DIR", str(kept))
    run_inner().assert_outcomes(passed=1)

    monkeypatch.delenv("SIMPLYQ_PYTEST_DATA_DIR")
    pytester.makeini(f"[pytest]\nsimplyq_data_dir = {kept}\n")
    run_inner().assert_outcomes(passed=1)


SCALED = """
import time


def test_scaled(simplyq, simplyq_server, webhook_receiver):
    assert simplyq.client.emulator.clock()["time_scale"] == 0.001
    assert simplyq_server.server.config.delivery_timeout == 0.7
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", webhook_receiver.endpoint("orders"))
    webhook_receiver.respond("orders", 500, 500, 200)
    began = time.monotonic()
    event = client.events.create("shop", {"event_type": "a", "payload": {}})["uid"]
    # No clock calls: 30 s and 3 min of retry delays pass in 0.21 s of real time.
    tries = simplyq.wait_for_final("shop", event, timeout=5)
    assert [t["response_status_code"] for t in tries] == [500, 500, 200]
    assert time.monotonic() - began < 3
"""


def test_time_scale_and_delivery_timeout(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile(test_scaled=SCALED)
    result = run_inner("--simplyq-time-scale=0.001", "--simplyq-delivery-timeout=0.7")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["simplyq: *(time scale 0.001, delivery timeout 0.7 s, *"])


@pytest.mark.parametrize("source", ["ini", "env"])
def test_time_scale_and_delivery_timeout_from_the_ini_file_and_the_environment(
    source: str, pytester: pytest.Pytester, run_inner: RunInner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The settings that configure the emulator are the ones the header shows.
    pytester.makepyfile("def test_nothing(): pass")
    if source == "ini":
        pytester.makeini("[pytest]\nsimplyq_time_scale = 0.001\nsimplyq_delivery_timeout = 0.7\n")
    else:
        monkeypatch.setenv("SIMPLYQ_PYTEST_TIME_SCALE", "0.001")
        monkeypatch.setenv("SIMPLYQ_PYTEST_DELIVERY_TIMEOUT", "0.7")
    result = run_inner()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["simplyq: *(time scale 0.001, delivery timeout 0.7 s, *"])


def test_the_command_line_wins_then_the_environment_then_the_ini(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makeini(
        "[pytest]\nsimplyq_time_scale = 0.5\nsimplyq_delivery_timeout = 3\n"
        f"simplyq_data_dir = {tmp_path}/ini\n"
    )
    environ = {"SIMPLYQ_PYTEST_TIME_SCALE": "0.25", "SIMPLYQ_PYTEST_DATA_DIR": f"{tmp_path}/env"}
    config = pytester.parseconfig("--simplyq-time-scale=0.125")
    settings = Settings.from_config(config, environ)
    assert settings.time_scale == 0.125
    assert settings.data_dir == tmp_path / "env"
    assert settings.delivery_timeout == 3
    assert settings.keep_data and not settings.external
    assert Settings.from_config(config, {}).data_dir == tmp_path / "ini"


def test_defaults(pytester: pytest.Pytester) -> None:
    settings = Settings.from_config(pytester.parseconfig(), {})
    assert settings == Settings(None, None, 1.0, DEFAULT_DELIVERY_TIMEOUT)
    assert DEFAULT_DELIVERY_TIMEOUT == 2.0
    assert not settings.keep_data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--simplyq-time-scale=0"], "--simplyq-time-scale must be a number > 0 and at most 1000"),
        (["--simplyq-time-scale=2000"], "--simplyq-time-scale must be a number > 0 and at most"),
        (["--simplyq-delivery-timeout=-1"], "--simplyq-delivery-timeout must be a number > 0"),
        (["--simplyq-url=127.0.0.1:8765"], "--simplyq-url must be an http:// or https:// URL"),
    ],
)
def test_bad_values_name_their_source(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    with pytest.raises(pytest.UsageError, match=message.replace("+", r"\+")):
        Settings.from_config(pytester.parseconfig(*args), {})
