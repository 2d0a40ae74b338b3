"""The shop's webhooks, tested with the fixtures simplyq-emulator's pytest plugin provides
(``simplyq``, ``webhook_receiver``): no server to start, no fixture to write."""

from __future__ import annotations

import pytest
import shop


@pytest.fixture
def subscriber(simplyq, webhook_receiver, monkeypatch):
    """The shop's application with one subscribed endpoint, and the app code pointed at it."""
    simplyq.setenv(monkeypatch)  # SIMPLYQ_API_KEY and SIMPLYQ_BASE_URL: this test's environment
    simplyq.client.applications.create({"uid": shop.APP, "name": "Shop"})
    simplyq.client.endpoints.create(shop.APP, webhook_receiver.endpoint("orders"))
    return webhook_receiver


def test_placing_an_order_delivers_a_signed_webhook(simplyq, subscriber):
    event = shop.place_order(1003, "19.90")

    (delivery,) = subscriber.assert_received("orders", payload={"id": 1003, "total": "19.90"})
    assert delivery.verified and delivery.signatures  # signed with the endpoint's secret
    assert delivery.timestamp is not None
    simplyq.assert_delivered(shop.APP, event, "orders", attempts=1, status_codes=[200])


def test_a_failing_subscriber_gets_the_order_on_the_third_try(simplyq, subscriber):
    subscriber.respond("orders", 500, 500, 200)

    event = shop.place_order(7, "5.00")
    simplyq.assert_delivered(shop.APP, event, "orders", status="pending", status_codes=[500])
    simplyq.clock.advance("30s")  # the first retry, without waiting 30 s
    simplyq.clock.advance("3m")  # the second

    simplyq.assert_delivered(shop.APP, event, "orders", attempts=3, status_codes=[500, 500, 200])
    assert [d.answer.status for d in subscriber.deliveries("orders")] == [500, 500, 200]
    assert all(d.verified for d in subscriber.deliveries("orders"))


def test_a_subscriber_that_never_recovers_gets_seven_tries(simplyq, subscriber):
    subscriber.respond("orders", *[503] * 7)

    event = shop.place_order(8, "1.00")
    simplyq.clock.run_until_idle()  # the default schedule: 10 h 43 min 30 s, in milliseconds

    simplyq.assert_delivered(shop.APP, event, "orders", attempts=7, status="fail")
