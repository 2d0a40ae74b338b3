"""Generated test files that use every fixture and helper of the plugin pass (run in-process by
pytester: the plugin is loaded by its entry point, as in a user's project)."""

from __future__ import annotations

import threading

import pytest

from tests.pytest_plugin.conftest import INNER_ARGS, RunInner

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

EVERY_FIXTURE = """
import os
import time

import pytest

from emulator.client import SimplyQ
from pytest_plugin import TIMEOUT, Answer, SimplyQEnvironment, SimplyQServer

SEEN_KEYS = []


def shop(simplyq, webhook_receiver, *names, **fields):
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    for name in names:
        client.endpoints.create("shop", webhook_receiver.endpoint(name, **fields))
    return client


def publish(client, payload, event_type="order.created"):
    return client.events.create("shop", {"event_type": event_type, "payload": payload})["uid"]


def test_session_emulator(simplyq_server, simplyq_receiver_server):
    assert isinstance(simplyq_server, SimplyQServer)
    assert simplyq_server.url.startswith("http://127.0.0.1:")
    assert not simplyq_server.external
    assert simplyq_server.server.config.delivery_timeout == 0.5
    assert simplyq_server.data_dir.is_dir()
    assert simplyq_receiver_server.is_running()
    assert simplyq_receiver_server.host == "127.0.0.1"


def test_environment_values(simplyq, simplyq_server, monkeypatch):
    assert isinstance(simplyq, SimplyQEnvironment)
    assert simplyq.base_url == simplyq_server.url
    assert simplyq.api_key.startswith("sk_test_")
    assert simplyq.env == {"SIMPLYQ_API_KEY": simplyq.api_key, "SIMPLYQ_BASE_URL": simplyq.base_url}
    simplyq.setenv(monkeypatch)
    assert os.environ["SIMPLYQ_API_KEY"] == simplyq.api_key
    child = {}
    simplyq.setenv(child)
    assert child == simplyq.env
    # The code under test builds its own client from the variables: same environment.
    with SimplyQ(os.environ["SIMPLYQ_API_KEY"], base_url=os.environ["SIMPLYQ_BASE_URL"]) as own:
        own.applications.create({"uid": "mine", "name": "Mine"})
    assert [a["uid"] for a in simplyq.client.applications.list()] == ["mine"]
    SEEN_KEYS.append(simplyq.api_key)


def test_environments_are_fresh_and_reset(simplyq):
    # Same uid as another test: no conflict, each test has its own environment.
    assert list(simplyq.client.applications.list()) == []
    simplyq.client.applications.create({"uid": "mine", "name": "Mine"})
    # The previous test's environment was deleted at its teardown.
    keys = [e["api_key"] for e in simplyq.client.emulator.environments()]
    assert SEEN_KEYS and SEEN_KEYS[0] not in keys
    assert simplyq.api_key in keys


def test_publish_and_receive(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver, "orders", "refunds", filter_types=["order.created"])
    event = publish(client, {"id": 1})
    deliveries = webhook_receiver.assert_received("orders", payload={"id": 1})
    webhook_receiver.assert_received("refunds", payload={"id": 1})
    first = deliveries[0]
    assert first.verified and first.verification_error is None
    assert first.json == {"id": 1} and first.timestamp and len(first.signatures) == 1
    assert first.answer.status == 200
    assert first.path == "/" + webhook_receiver.prefix + "/orders"
    assert len(webhook_receiver.wait_for(2)) == 2
    assert webhook_receiver.endpoints() == ["orders", "refunds"]
    tries = simplyq.assert_delivered("shop", event, "orders", attempts=1, status_codes=[200])
    assert tries[0]["response"] == "OK"
    other = publish(client, {"id": 2}, event_type="order.refunded")
    simplyq.assert_not_delivered("shop", other, "orders")


def test_wrong_secret_is_recorded_unverified(simplyq, webhook_receiver):
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    # No secret given: the emulator makes one the receiver does not know...
    client.endpoints.create("shop", {"uid": "orders", "url": webhook_receiver.url("orders")})
    publish(client, {"id": 1})
    (delivery,) = webhook_receiver.wait_for(1, "orders")
    assert not delivery.verified and "signature" in delivery.verification_error
    # ... until the test tells it.
    webhook_receiver.trust("orders", client.endpoints.retrieve_secret("shop", "orders"))
    publish(client, {"id": 2})
    assert webhook_receiver.wait_for(2, "orders")[1].verified


def test_scripted_answers_and_the_clock(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver, "orders")
    webhook_receiver.respond("orders", 500, Answer(503, body="busy"), 200)
    event = publish(client, {"id": 1})
    started = simplyq.clock.now()
    simplyq.assert_delivered("shop", event, "orders", status="pending", attempts=1)
    simplyq.clock.advance("30s")
    simplyq.clock.to_next_due()
    tries = simplyq.assert_delivered("shop", event, "orders", attempts=3)
    assert [t["response"] for t in tries] == ["Internal Server Error", "busy", "OK"]
    assert simplyq.clock.now() - started >= 30 + 180
    assert [d.answer.status for d in webhook_receiver.deliveries("orders")] == [500, 503, 200]


def test_timeout_and_slow_answers(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver, "orders")
    # 0.5 s delivery timeout (--simplyq-delivery-timeout): no answer, then one too slow, then
    # one slow but in time.
    webhook_receiver.respond("orders", TIMEOUT, Answer(200, delay=0.8), Answer(201, delay=0.1))
    event = publish(client, {"id": 1})
    began = time.monotonic()
    simplyq.clock.run_until_idle()
    tries = simplyq.assert_delivered("shop", event, "orders", attempts=3, status_codes=[0, 0, 201])
    assert all("timeout" in t["response"] for t in tries[:2])
    assert time.monotonic() - began < 5


def test_run_until_idle_and_wait_for_final(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver, "orders")
    webhook_receiver.respond("orders", *[500] * 7)
    event = publish(client, {"id": 1})
    simplyq.clock.run_until_idle()
    tries = simplyq.wait_for_final("shop", event, timeout=2)
    assert len(tries) == 7
    simplyq.assert_delivered("shop", event, "orders", attempts=7, status="fail")
"""


def test_every_fixture_and_helper_works(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile(test_generated=EVERY_FIXTURE)
    result = run_inner("-p", "no:randomly", "--simplyq-delivery-timeout=0.5")
    result.assert_outcomes(passed=8)


def test_report_header_names_the_emulator(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = run_inner("--simplyq-time-scale=0.01")
    result.stdout.fnmatch_lines(
        [
            "simplyq: emulator started in-process on 127.0.0.1, a free port per session or "
            "xdist worker (time scale 0.01, delivery timeout 2 s, scratch data)"
        ]
    )


def test_a_bad_setting_is_a_usage_error(pytester: pytest.Pytester, run_inner: RunInner) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    pytester.makeini("[pytest]\nsimplyq_delivery_timeout = soon\n")
    result = run_inner()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*simplyq: the ini option simplyq_delivery_timeout must be a number > 0, got 'soon'"]
    )


def test_nothing_is_left_running_after_an_interrupted_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_interrupted(simplyq, webhook_receiver):
            simplyq.client.applications.create({"uid": "a", "name": "A"})
            raise KeyboardInterrupt
        """
    )
    before = set(threading.enumerate())
    result = pytester.inline_run(*INNER_ARGS, no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert "simplyq-emulator" not in left


def test_the_safety_net_stops_what_a_fixture_left(pytester: pytest.Pytester) -> None:
    from pytest_plugin.settings import register, stop_all

    class Thing:
        stopped = 0

        def stop(self) -> None:
            self.stopped += 1

    config = pytester.parseconfig()
    things = [Thing(), Thing()]
    for thing in things:
        register(config, thing)
    assert stop_all(config) == things[::-1]
    assert [t.stopped for t in things] == [1, 1]
    assert stop_all(config) == []
