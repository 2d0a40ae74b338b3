"""Failing assertions say what was expected, what happened, and list every attempt or delivery
(the lines a developer reads in the pytest report)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.pytest_plugin.conftest import INNER_ARGS, clean_environment

FAILING = """
from pytest_plugin import TIMEOUT


def shop(simplyq, webhook_receiver, **fields):
    simplyq.client.applications.create({"uid": "shop", "name": "Shop"})
    simplyq.client.endpoints.create("shop", webhook_receiver.endpoint("orders", **fields))
    return simplyq.client


def publish(client, event_type="order.created"):
    return client.events.create("shop", {"event_type": event_type, "payload": {"id": 7}})["uid"]


def test_too_few_tries(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver)
    webhook_receiver.respond("orders", 500, 500, 200)
    event = publish(client)
    simplyq.clock.advance("30s")  # the first retry only: the second is 3 min later
    simplyq.assert_delivered("shop", event, "orders", attempts=3)


def test_expected_to_give_up(simplyq, webhook_receiver):
    event = publish(shop(simplyq, webhook_receiver))
    simplyq.assert_delivered("shop", event, "orders", status="fail")


def test_wrong_codes(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver)
    webhook_receiver.respond("orders", TIMEOUT)
    event = publish(client)
    simplyq.assert_delivered("shop", event, "orders", status="pending", status_codes=[503])


def test_never_tried(simplyq, webhook_receiver):
    event = publish(shop(simplyq, webhook_receiver, filter_types=["order.paid"]))
    simplyq.assert_delivered("shop", event, "orders")


def test_unexpected_delivery(simplyq, webhook_receiver):
    event = publish(shop(simplyq, webhook_receiver))
    simplyq.assert_not_delivered("shop", event, "orders")


def test_not_over(simplyq, webhook_receiver):
    client = shop(simplyq, webhook_receiver)
    webhook_receiver.respond("orders", 502)
    event = publish(client)
    # The first try must have been made before the short wait starts: in a new interpreter
    # it can take longer than the wait itself, and the report would list no try 1.
    webhook_receiver.assert_received("orders", count=1, timeout=10)
    simplyq.wait_for_final("shop", event, timeout=0.3)


def test_received_other_payload(simplyq, webhook_receiver):
    publish(shop(simplyq, webhook_receiver))
    webhook_receiver.assert_received("orders", payload={"id": 8})


def test_received_too_few(simplyq, webhook_receiver):
    publish(shop(simplyq, webhook_receiver))
    webhook_receiver.assert_received("orders", count=2, timeout=0.3)


def test_received_unsigned(simplyq, webhook_receiver):
    simplyq.client.applications.create({"uid": "shop", "name": "Shop"})
    url = webhook_receiver.url("orders")  # the emulator makes its own secret
    simplyq.client.endpoints.create("shop", {"uid": "orders", "url": url})
    publish(simplyq.client)
    webhook_receiver.assert_received("orders")


def test_wait_for_nothing(webhook_receiver):
    webhook_receiver.url("orders")
    webhook_receiver.wait_for(1, "orders", timeout=0.2)
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> pytest.LineMatcher:
    """One run of every failing test (in a new interpreter), shared by the checks below."""
    folder = tmp_path_factory.mktemp("failing")
    (folder / "test_failing.py").write_text(FAILING)
    run = subprocess.run(
        # Short enough for the TIMEOUT test to be quick, long enough that a loaded machine's
        # first delivery in a new interpreter (0.3 s was too little) still gets its answer.
        [sys.executable, "-m", "pytest", *INNER_ARGS, "--simplyq-delivery-timeout=1.5"],
        cwd=folder,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = pytest.LineMatcher(run.stdout.splitlines())
    output.fnmatch_lines(["*= 10 failed in *"])
    return output


def lines(output: pytest.LineMatcher, *patterns: str) -> None:
    output.fnmatch_lines(list(patterns))


def test_too_few_tries_lists_every_attempt(report: pytest.LineMatcher) -> None:
    lines(
        report,
        "E  *DeliveryAssertionError: event 'evte_*' to endpoint 'orders' of application "
        "'shop': expected success after 3 tries, but the last try failed, a retry is "
        "scheduled; 2 tries were made, not 3",
        "E  *  try 1: fail, HTTP 500, at 20*, response 'Internal Server Error'",
        # attempted_at has whole seconds: the 30 s wait shows as 30 or 31 s.
        "E  *  try 2: fail, HTTP 500, at 20* (+3? s), response 'Internal Server Error'",
        "E  *  try 3: scheduled, not made yet",
    )


def test_status_and_codes(report: pytest.LineMatcher) -> None:
    lines(
        report,
        "E  *expected fail, but the last try succeeded",
        "E  *  try 1: success, HTTP 200, at *, response 'OK'",
    )
    lines(
        report,
        # (fnmatch reads [...] as a set of characters: ? stands for the brackets)
        "E  *expected pending, but the tries were answered ?0?, not ?503?",
        "E  *  try 1: fail, no HTTP answer, at *, response 'timeout: no answer within 1.5 s'",
        "E  *  try 2: scheduled, not made yet",
    )


def test_never_tried_and_not_expected(report: pytest.LineMatcher) -> None:
    lines(
        report,
        "E  *expected success, but it was never tried",
        "E  *  (no attempts)",
    )
    lines(
        report,
        "E  *to endpoint 'orders' of application 'shop': expected no attempt, but there is 1",
        "E  *  try 1: success, HTTP 200*",
    )


def test_a_wait_that_times_out(report: pytest.LineMatcher) -> None:
    lines(
        report,
        "E  *event 'evte_*' of application 'shop': the delivery to its endpoints was not over "
        "within 0.3 s",
        "E  *  try 1: fail, HTTP 502, at *, response 'Bad Gateway'",
        "E  *  try 2: scheduled, not made yet",
    )
    lines(
        report,
        "E  *AssertionError: expected 1 delivery to endpoint 'orders' within 0.2 s, got 0",
        "E  *  (the receiver got nothing)",
    )


def test_receiver_assertions(report: pytest.LineMatcher) -> None:
    lines(
        report,
        "E  *AssertionError: expected 1 signed delivery to endpoint 'orders', but 1 had another "
        'payload than {"id":8}',
        "E  *  delivery 1: to 'orders': signature verified, answered 200, payload {\"id\":7}",
    )
    lines(
        report,
        "E  *AssertionError: expected 2 signed deliveries to endpoint 'orders', but it got 1 "
        "within 0.3 s",
    )
    lines(
        report,
        "E  *AssertionError: expected 1 signed delivery to endpoint 'orders', but 1 did not "
        "pass the signature check",
        "E  *  delivery 1: to 'orders': signature NOT verified (no matching signature), "
        'answered 200, payload {"id":7}',
    )
