"""The plugin's pieces on their own: attempt descriptions, answers, the receiver on a real HTTP
server (without an emulator), the environment's values, the shared transport."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from emulator.signing import signed_headers
from pytest_plugin.helpers import (
    SimplyQEnvironment,
    describe_attempts,
    final,
    format_gap,
    made,
    plural,
)
from pytest_plugin.receiver import TIMEOUT, Answer, WebhookReceiver, start_server
from pytest_plugin.session import SharedTransport


def attempt(status: str, code: int = 0, at: str | None = None, **more: Any) -> Any:
    return {
        "id": "eda_1",
        "event_id": "evte_1",
        "endpoint_id": "orders",
        "response": more.get("response", "boom"),
        "response_status_code": code,
        "status": status,
        "trigger_type": more.get("trigger", "0"),
        "retry_count": 0,
        "attempted_at": at,
    }


# ====================================================================== helpers
@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (30, "30 s"), (180, "3 min"), (7200, "2 h"), (38610, "10 h 43 min 30 s")],
)
def test_format_gap(seconds: float, text: str) -> None:
    assert format_gap(seconds) == text


def test_plural() -> None:
    assert plural(1, "try") == "1 try"
    assert plural(3, "try") == "3 tries"
    assert plural(0, "delivery") == "0 deliveries"
    assert plural(2, "try was", "tries were") == "2 tries were"


def test_describe_attempts() -> None:
    tries = [
        attempt("3", 500, "2026-01-01T10:00:00+00:00"),
        attempt("3", 0, "2026-01-01T10:00:30+00:00", response="x" * 100),
        attempt("0", 200, "2026-01-01T10:03:31+00:00", trigger="1", response="OK"),
        attempt("1"),
    ]
    assert describe_attempts(tries).splitlines() == [
        "  try 1: fail, HTTP 500, at 2026-01-01T10:00:00+00:00, response 'boom'",
        "  try 2: fail, no HTTP answer, at 2026-01-01T10:00:30+00:00 (+30 s), response '"
        + "x" * 77
        + "...'",
        "  try 3: success, HTTP 200, at 2026-01-01T10:03:31+00:00 (+3 min 1 s), manual retry, "
        "response 'OK'",
        "  try 4: scheduled, not made yet",
    ]
    assert describe_attempts([]) == "  (no attempts)"
    assert len(made(tries)) == 3


def test_final() -> None:
    assert not final([])
    assert final([attempt("0", 200, "t")])
    assert final([attempt("3", 500, "t")])  # failed, no retry left
    assert not final([attempt("3", 500, "t"), attempt("1")])  # a retry is scheduled
    assert not final([attempt("2")])


def test_environment_values() -> None:
    environment = SimplyQEnvironment("http://127.0.0.1:1", "sk_test_x")
    assert environment.env == {
        "SIMPLYQ_API_KEY": "sk_test_x",
        "SIMPLYQ_BASE_URL": "http://127.0.0.1:1",
    }
    target: dict[str, str] = {}
    environment.setenv(target)
    assert target == environment.env
    assert SimplyQEnvironment("u").api_key != SimplyQEnvironment("u").api_key
    environment.close()  # no client made: nothing to close


def test_assert_delivered_rejects_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="status must be one of success, fail, pending"):
        SimplyQEnvironment("http://127.0.0.1:1").assert_delivered("a", "e", "p", status="ok")


def test_the_shared_transport_outlives_its_clients() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(204)

    transport = SharedTransport("http://127.0.0.1:1", httpx.MockTransport(answer))
    for _ in range(2):
        with httpx.Client(transport=transport) as client:
            assert client.get("http://127.0.0.1:1/x").status_code == 204
    assert len(calls) == 2
    transport.stop()


# ====================================================================== answers
def test_answers() -> None:
    assert Answer().text == "OK" and Answer(500).text == "Internal Server Error"
    assert Answer(418, body="teapot").text == "teapot"
    assert str(TIMEOUT) == "TIMEOUT" and str(Answer(200, delay=3)) == "200 after 3 s"
    with pytest.raises(ValueError, match="an HTTP status is 100 to 599"):
        Answer(99)
    with pytest.raises(ValueError, match="delay must be >= 0"):
        Answer(delay=-1)


# ====================================================================== the receiver
@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def receiver(http_server: HTTPServer) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(http_server).attach()
    yield receiver
    receiver.close()
    http_server.clear()


def deliver(
    url: str, secret: str, body: bytes = b'{"id": 1}', timeout: float = 5
) -> httpx.Response:
    headers = signed_headers([secret], int(time.time()), body)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)


def test_the_receiver_records_and_verifies(receiver: WebhookReceiver) -> None:
    assert receiver.url("orders").startswith("http://127.0.0.1:")
    assert receiver.url("orders").endswith(f"/{receiver.prefix}/orders")
    assert receiver.endpoint("orders", filter_types=["a"]) == {
        "uid": "orders",
        "url": receiver.url("orders"),
        "secret": receiver.secret("orders"),
        "filter_types": ["a"],
    }
    assert deliver(receiver.url("orders"), receiver.secret("orders")).text == "OK"
    assert deliver(receiver.url("orders"), "whsec_" + "0" * 64).status_code == 200
    good, bad = receiver.deliveries("orders")
    assert good.verified and good.json == {"id": 1} and good.answer == Answer()
    assert not bad.verified and bad.verification_error == "no matching signature"
    receiver.trust("orders", "whsec_" + "0" * 64)
    deliver(receiver.url("orders"), "whsec_" + "0" * 64)
    assert receiver.deliveries()[-1].verified


def test_scripted_answers_then_200(receiver: WebhookReceiver) -> None:
    receiver.respond("a", 500, Answer(202, body="later"))
    url, secret = receiver.url("a"), receiver.secret("a")
    answers = [deliver(url, secret) for _ in range(3)]
    assert [(r.status_code, r.text) for r in answers] == [
        (500, "Internal Server Error"),
        (202, "later"),
        (200, "OK"),
    ]


def test_a_slow_answer_and_a_timeout(receiver: WebhookReceiver) -> None:
    receiver.respond("slow", Answer(201, delay=0.3), TIMEOUT)
    url, secret = receiver.url("slow"), receiver.secret("slow")
    began = time.monotonic()
    assert deliver(url, secret).status_code == 201
    assert 0.3 <= time.monotonic() - began < 2
    with pytest.raises(httpx.ReadTimeout):
        deliver(url, secret, timeout=0.3)
    # Teardown lets the held request go.
    receiver.close()


def test_waiting_does_not_sleep(receiver: WebhookReceiver) -> None:
    url, secret = receiver.url("late"), receiver.secret("late")
    sender = threading.Timer(0.2, lambda: deliver(url, secret))
    began = time.monotonic()
    sender.start()
    try:
        (got,) = receiver.wait_for(1, "late", timeout=5)
    finally:
        sender.join(5)
    assert got.endpoint == "late" and time.monotonic() - began < 2
    assert receiver.assert_received("late", payload={"id": 1}) == [got]


def test_other_receivers_paths_are_not_ours(
    receiver: WebhookReceiver, http_server: HTTPServer
) -> None:
    other = WebhookReceiver(http_server)  # not attached
    answer = deliver(other.url("orders"), other.secret("orders"))
    assert answer.status_code == 500  # pytest-httpserver: no handler
    assert receiver.deliveries() == []
