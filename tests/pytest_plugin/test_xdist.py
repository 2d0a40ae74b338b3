"""Under pytest-xdist each worker starts its own emulator, every test has its own environment,
and no test sees another's data (run in a new interpreter: ``pytest -n 2``)."""

from __future__ import annotations

import json

import pytest

from emulator.client import SimplyQ
from emulator.server import EmulatorServer
from tests.pytest_plugin.conftest import RunInner

TESTS = 6

INNER = """
import json
import os

import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_sees_only_its_own_data(n, simplyq, simplyq_server, webhook_receiver):
    client = simplyq.client
    client.applications.create({{"uid": "app-%d" % n, "name": "test %d" % n}})
    client.endpoints.create("app-%d" % n, webhook_receiver.endpoint("hook"))
    client.events.create("app-%d" % n, {{"event_type": "ping", "payload": {{"n": n}}}})
    webhook_receiver.assert_received("hook", payload={{"n": n}})
    assert [a["uid"] for a in client.applications.list()] == ["app-%d" % n]
    if not simplyq_server.external:
        # The worker's own emulator holds no other test's environment: each was reset.
        assert [e["api_key"] for e in client.emulator.environments()] == [simplyq.api_key]
    record = {{
        "worker": os.environ["PYTEST_XDIST_WORKER"],
        "url": simplyq_server.url,
        "data_dir": str(simplyq_server.data_dir),
        "api_key": simplyq.api_key,
    }}
    with open("seen-%d.json" % n, "w") as out:
        json.dump(record, out)
"""


def records(pytester: pytest.Pytester) -> list[dict[str, str]]:
    return [json.loads((pytester.path / f"seen-{n}.json").read_text()) for n in range(TESTS)]


def test_each_worker_has_its_own_emulator(
    pytester: pytest.Pytester, run_subprocess: RunInner
) -> None:
    pytester.makepyfile(INNER.format(tests=TESTS))
    result = run_subprocess("-n", "2")
    result.assert_outcomes(passed=TESTS)
    seen = records(pytester)
    workers = {r["worker"] for r in seen}
    assert workers == {"gw0", "gw1"}
    emulator_of = {w: {r["url"] for r in seen if r["worker"] == w} for w in workers}
    assert all(len(urls) == 1 for urls in emulator_of.values())
    assert emulator_of["gw0"] != emulator_of["gw1"]
    data_dirs = {r["data_dir"] for r in seen}
    assert len(data_dirs) == 2 and all("gw" in d for d in data_dirs)
    assert len({r["api_key"] for r in seen}) == TESTS


def test_workers_sharing_an_external_emulator_are_isolated_by_environment(
    pytester: pytest.Pytester,
    run_subprocess: RunInner,
    running_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Named by the environment variable: this is also the test of $SIMPLYQ_EMULATOR_URL.
    monkeypatch.setenv("SIMPLYQ_EMULATOR_URL", running_emulator.url)
    pytester.makepyfile(INNER.format(tests=TESTS))
    result = run_subprocess("-n", "2")
    result.assert_outcomes(passed=TESTS)
    seen = records(pytester)
    assert {r["worker"] for r in seen} == {"gw0", "gw1"}
    assert {r["url"] for r in seen} == {running_emulator.url}
    # Every test's environment is still in the running emulator (kept: it is external), and
    # holds only that test's application.
    for n, record in enumerate(seen):
        with SimplyQ(record["api_key"], base_url=running_emulator.url) as client:
            assert [a["uid"] for a in client.applications.list()] == [f"app-{n}"]
