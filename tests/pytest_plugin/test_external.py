"""The external-emulator option: ``--simplyq-url``, the ini option ``simplyq_url`` and
``$SIMPLYQ_EMULATOR_URL`` make the plugin use an emulator that is already running (here one
this outer test session started), and the inner tests' data is visible in it afterwards.
``$SIMPLYQ_EMULATOR_URL`` is tested with xdist workers, in test_xdist.py."""

from __future__ import annotations

import socket

import pytest

from emulator.client import SimplyQ
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.pytest_plugin.conftest import RunInner

INNER = """
def test_uses_the_running_emulator(simplyq, simplyq_server, webhook_receiver):
    assert simplyq_server.external and simplyq_server.server is None
    assert simplyq.base_url == {url!r}
    simplyq.client.applications.create({{"uid": "{uid}", "name": "from the inner run"}})
    simplyq.client.endpoints.create("{uid}", webhook_receiver.endpoint("hook"))
    simplyq.client.events.create("{uid}", {{"event_type": "ping", "payload": {{"n": 1}}}})
    webhook_receiver.assert_received("hook", payload={{"n": 1}})
    with open("key.txt", "w") as out:
        out.write(simplyq.api_key)
"""


def check_visible(pytester: pytest.Pytester, server: EmulatorServer, uid: str) -> None:
    """The inner test's environment is still in the running emulator, with its data."""
    key = (pytester.path / "key.txt").read_text()
    with SimplyQ(key, base_url=server.url) as client:
        assert [a["uid"] for a in client.applications.list()] == [uid]
        (event,) = client.events.list(uid)
        assert [a["status"] for a in client.events.delivery_attempts(uid, event["uid"])] == ["0"]


def test_the_command_line_option(
    pytester: pytest.Pytester, run_inner: RunInner, running_emulator: EmulatorServer
) -> None:
    url = running_emulator.url
    pytester.makepyfile(INNER.format(url=url, uid="by-option"))
    result = run_inner(f"--simplyq-url={url}/")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"simplyq: external emulator at {url} (already running; environments are kept*"]
    )
    check_visible(pytester, running_emulator, "by-option")


def test_the_ini_option(
    pytester: pytest.Pytester, run_inner: RunInner, running_emulator: EmulatorServer
) -> None:
    url = running_emulator.url
    pytester.makeini(f"[pytest]\nsimplyq_url = {url}\n")
    pytester.makepyfile(INNER.format(url=url, uid="by-ini"))
    run_inner().assert_outcomes(passed=1)
    check_visible(pytester, running_emulator, "by-ini")


def test_the_command_line_wins_over_the_environment_and_the_ini(
    pytester: pytest.Pytester,
    run_inner: RunInner,
    running_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIMPLYQ_EMULATOR_URL", "http://127.0.0.1:9/env")
    pytester.makeini("[pytest]\nsimplyq_url = http://127.0.0.1:9/ini\n")
    pytester.makepyfile(INNER.format(url=running_emulator.url, uid="precedence"))
    run_inner("--simplyq-url", running_emulator.url).assert_outcomes(passed=1)


def test_no_emulator_at_the_url_stops_the_run_clearly(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pytester.makepyfile("def test_a(simplyq): pass\ndef test_b(simplyq): pass")
    result = run_inner(f"--simplyq-url=http://127.0.0.1:{port}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        [
            f"*simplyq: no SimplyQ emulator answers at http://127.0.0.1:{port} (ConnectError*"
            "start one with `simplyq-emulator serve`*"
        ]
    )
    result.assert_outcomes()


def test_an_emulator_started_with_api_keys_stops_the_run_clearly(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    """Its configured keys are the only ones it accepts, and each test makes a fresh key: the
    run stops before any test, saying why, instead of failing every test with a 401."""
    config = EmulatorConfig(data_dir=None, port=0, api_keys=frozenset({"sk_team"}))
    with EmulatorServer(config) as server:
        pytester.makepyfile("def test_a(simplyq): pass")
        result = run_inner(f"--simplyq-url={server.url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        [f"*simplyq: the emulator at {server.url} was started with --api-key*fresh key*"]
    )
    result.assert_outcomes()
