"""``simplyq.chaos(...)``: chaos for a test's environment, visible in the attempt details, off
again with no settings; and a non-idempotent handler caught the same way for one seed."""

from __future__ import annotations

import pytest

from pytest_plugin import SimplyQEnvironment, WebhookReceiver
from tests.pytest_plugin.conftest import RunInner

DOUBLE_CHARGE = """
def test_charges_once(simplyq, webhook_receiver):
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", webhook_receiver.endpoint("pay"))
    simplyq.chaos(duplicate=0.5, seed=SEED)
    for n in range(8):
        client.events.create("shop", {"event_type": "charge", "payload": {"charge": n}})
    simplyq.settle()
    charged = [d.json["charge"] for d in webhook_receiver.deliveries("pay")]
    assert sorted(charged) == list(range(8))
"""


def test_chaos_is_recorded_on_the_attempts_and_turned_off(
    simplyq: SimplyQEnvironment, webhook_receiver: WebhookReceiver
) -> None:
    client = simplyq.client
    client.applications.create({"uid": "shop", "name": "Shop"})
    client.endpoints.create("shop", webhook_receiver.endpoint("orders"))
    answer = simplyq.chaos(app="shop", duplicate=1, seed=3)
    assert answer["settings"]["seed"] == 3
    event = client.events.create("shop", {"event_type": "a", "payload": {}})
    (attempt,) = simplyq.assert_delivered("shop", event["uid"], "orders", attempts=1)
    detail = client.emulator.attempt_detail(attempt["id"])
    assert detail["chaos"] == {"seed": 3, "duplicate": {"status_code": 200}}
    assert len(webhook_receiver.wait_for(2, "orders")) == 2

    simplyq.chaos(app="shop")  # no settings: off
    again = client.events.create("shop", {"event_type": "a", "payload": {}})
    (attempt,) = simplyq.assert_delivered("shop", again["uid"], "orders", attempts=1)
    assert client.emulator.attempt_detail(attempt["id"])["chaos"] is None
    assert len(webhook_receiver.deliveries("orders")) == 3


def test_an_endpoint_needs_its_app(simplyq: SimplyQEnvironment) -> None:
    with pytest.raises(ValueError, match="named with its app"):
        simplyq.chaos(endpoint="orders", duplicate=1)


def test_a_double_charge_fails_the_same_way_for_a_seed(
    pytester: pytest.Pytester, run_inner: RunInner
) -> None:
    outcomes = []
    for seed in (11, 11):
        pytester.makepyfile(test_charge=DOUBLE_CHARGE.replace("SEED", str(seed)))
        result = run_inner("-p", "no:randomly")
        result.assert_outcomes(failed=1)
        outcomes.append([line for line in result.outlines if line.startswith("E  ")][:3])
    assert outcomes[0] == outcomes[1]
    pytester.makepyfile(test_charge=DOUBLE_CHARGE.replace("SEED", "11").replace("0.5", "0"))
    run_inner("-p", "no:randomly").assert_outcomes(passed=1)
