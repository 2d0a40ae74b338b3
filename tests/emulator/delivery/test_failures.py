"""How tries fail and what is recorded: hanging, refusing, remote and rejected URLs, non-2xx
answers, huge bodies; deleting what has pending tries; connections of deleted endpoints."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    Blackhole,
    Env,
    Receiver,
    Reply,
    closed_port,
    paths,
    running_emulator,
    wait_until,
)


# --------------------------------------------------------------------------- failures
def test_hanging_endpoint_does_not_delay_a_healthy_one() -> None:
    timeout = 1.5
    with (
        running_emulator(delivery_timeout=timeout) as server,
        Blackhole() as hole,
        Receiver() as healthy,
    ):
        env = Env(server.url)
        try:
            env.app(
                "app", retry_strategy={"type": "fixed_wait", "max_retries": 1, "retry_delay": 60}
            )
            env.endpoint("app", "hang", hole.hook())
            env.endpoint("app", "ok", healthy.hook())

            began = time.monotonic()
            created = env.publish("app", payload={"n": 0})
            [first] = healthy.wait_for(1)
            assert first.at - began < timeout * 0.8
            hanging = env.endpoint_attempts("app", "hang")
            assert [a["status"] for a in hanging] == ["2"]  # still waiting for an answer

            # More events while the first still hangs: the healthy endpoint gets them at once.
            for n in range(1, 4):
                env.publish("app", payload={"n": n})
            healthy.wait_for(4)
            assert healthy.received()[-1].at - began < timeout * 0.8
            assert wait_until(lambda: hole.requests_seen() >= 1, what="the hanging request")

            def all_failed() -> list[dict[str, Any]] | None:
                tries = [a for a in env.endpoint_attempts("app", "hang") if a["retry_count"] == 0]
                done = len(tries) == 4 and all(a["status"] == "3" for a in tries)
                return tries if done else None

            failed = wait_until(all_failed, timeout=timeout + 4, what="the hanging tries to fail")
            for attempt in failed:
                assert attempt["response_status_code"] == 0
                assert "timeout" in attempt["response"]
                assert f"{timeout:g} s" in attempt["response"]
            [attempt] = [a for a in failed if a["event_id"] == created["uid"]]
            assert env.detail(attempt["id"])["response_headers"] is None
            # The hung tries were followed by scheduled retries, 60 s later.
            clock = env.http.get("/_emulator/clock").json()
            assert clock["next_due_unix"] == pytest.approx(env.now() + 60, abs=2)
        finally:
            env.close()


def test_deleting_an_endpoint_cancels_its_pending_retries(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "gone", failing.hook("/gone"))
    env.endpoint("app", "kept", failing.hook("/kept"))
    created = env.publish("app")
    env.settle()
    assert paths(failing) == ["/gone", "/kept"]

    assert env.http.delete("/v1/application/app/endpoint/gone").status_code == 204
    env.clock(run_until_idle=True)
    assert len(failing.received("/gone")) == 1
    assert len(failing.received("/kept")) == 7
    assert {a["endpoint_id"] for a in env.event_attempts("app", created["uid"])} == {"kept"}


def test_deleting_an_application_cancels_everything(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "a", failing.hook("/a"))
    env.endpoint("app", "b", failing.hook("/b"))
    env.publish("app")
    env.publish("app")
    env.settle()
    assert len(failing.received()) == 4
    assert env.http.get("/_emulator/clock").json()["next_due"] is not None

    assert env.http.delete("/v1/application/app").status_code == 204
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    env.advance(86_400)
    assert len(failing.received()) == 4


def connections_to(port: int) -> int:
    """Established TCP connections to 127.0.0.1:``port`` (from the kernel's socket table)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp here")
    remote = f"0100007F:{port:04X}"
    rows = [line.split() for line in table.read_text().splitlines()[1:]]
    return sum(1 for row in rows if row[2] == remote and row[3] == "01")


def test_a_deleted_endpoints_connections_are_closed_at_once(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    for _ in range(16):
        env.publish("app")
    env.settle()
    assert connections_to(receiver.port) >= 1  # kept alive for the next delivery
    # A reset (or deleting the endpoint) leaves nothing to deliver there: the connections close
    # within a second or so, not after the minute an idle endpoint's are kept.
    env.reset()
    wait_until(lambda: connections_to(receiver.port) == 0, what="the connections to close")


def test_remote_urls_are_stored_but_never_contacted(receiver: Receiver) -> None:
    made: list[httpx.AsyncClient] = []
    requested: list[str] = []

    async def record(request: httpx.Request) -> None:
        requested.append(str(request.url))

    def client_factory() -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            timeout=5.0, trust_env=False, verify=CLIENT_SSL, event_hooks={"request": [record]}
        )
        made.append(client)
        return client

    remote = ["http://example.com/hook", "http://10.255.255.1/", "https://8.8.8.8:8443/x"]
    with running_emulator(client_factory=client_factory) as server:
        env = Env(server.url)
        try:
            env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
            for n, url in enumerate(remote):
                stored = env.endpoint("app", f"remote{n}", url)
                assert stored["url"] == url
            env.endpoint("app", "local", receiver.hook())
            created = env.publish("app")
            env.clock(run_until_idle=True)

            assert len(receiver.received()) == 1
            attempts = env.event_attempts("app", created["uid"])
            for n, url in enumerate(remote):
                mine = [a for a in attempts if a["endpoint_id"] == f"remote{n}"]
                assert [a["retry_count"] for a in mine] == [0, 1]
                for attempt in mine:
                    assert attempt["status"] == "3"
                    assert attempt["response_status_code"] == 0
                    assert "--allow-remote-delivery" in attempt["response"]
                    assert url in attempt["response"]
        finally:
            env.close()
    # The engine only ever made a client for the loopback endpoint and sent one request.
    assert requested == [receiver.hook()]
    assert len(made) == 1


def test_connection_refused_fails_with_the_error_text(env: Env) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    env.app("app")
    env.endpoint("app", "ep", url)
    created = env.publish("app")
    env.settle()
    failed, pending = env.event_attempts("app", created["uid"])
    assert failed["status"] == "3"
    assert failed["response_status_code"] == 0
    assert failed["response"]
    assert "connect" in failed["response"].lower()
    assert failed["attempted_at"] is not None
    assert (pending["status"], pending["retry_count"], pending["response"]) == ("1", 1, None)
    detail = env.detail(failed["id"])
    assert detail["endpoint_url"] == url
    assert detail["response_headers"] is None


def test_localhost_url_is_delivered(env: Env, receiver: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", f"http://localhost:{receiver.port}/local")
    env.publish("app")
    env.settle()
    assert paths(receiver) == ["/local"]


def test_url_the_http_client_rejects_fails_the_try(env: Env) -> None:
    """``xn--.localhost`` passes URL validation but is not valid IDNA: the try fails cleanly
    (it used to crash the sender and leave the attempt "sending" forever)."""
    env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
    env.endpoint("app", "ep", "http://xn--.localhost/hook")
    created = env.publish("app")
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    attempts = env.event_attempts("app", created["uid"])
    assert [(a["status"], a["retry_count"], a["response_status_code"]) for a in attempts] == [
        ("3", 0, 0),
        ("3", 1, 0),
    ]
    assert all(a["response"] for a in attempts)


@pytest.mark.parametrize(
    "status", [301, 302, 303, 307, 308, 400, 401, 404, 410, 429, 500, 502, 503]
)
def test_non_2xx_answers_fail_with_code_and_body(
    env: Env, make_receiver: Callable[..., Receiver], status: int
) -> None:
    receiver = make_receiver()
    receiver.default = Reply(
        status, f"nope {status}".encode(), {"Location": receiver.hook("/elsewhere")}
    )
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    env.settle()
    attempt = env.event_attempts("app", created["uid"])[0]
    assert attempt["status"] == "3"
    assert attempt["response_status_code"] == status
    assert attempt["response"] == f"nope {status}"
    # Redirects are not followed.
    assert paths(receiver) == ["/hook"]
    assert env.detail(attempt["id"])["response_headers"]["location"] == receiver.hook("/elsewhere")
    filtered = env.http.get(
        f"/v1/application/app/event/{created['uid']}/delivery_attempt",
        params={"response_status_code": status // 100 * 100},
    ).json()["data"]
    assert [a["id"] for a in filtered] == [attempt["id"]]


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_answers_succeed(env: Env, make_receiver: Callable[..., Receiver], status: int) -> None:
    receiver = make_receiver(default=Reply(status, b"" if status == 204 else b"thanks"))
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    answer = env.clock(run_until_idle=True)
    assert answer["next_due"] is None
    [attempt] = env.event_attempts("app", created["uid"])
    assert attempt["status"] == "0"
    assert attempt["response_status_code"] == status
    assert attempt["response"] == ("" if status == 204 else "thanks")


@pytest.mark.parametrize("status", [200, 500])
def test_huge_response_body_is_truncated(
    env: Env, make_receiver: Callable[..., Receiver], status: int
) -> None:
    limit = 64 * 1024
    receiver = make_receiver(default=Reply(status, b"0123456789" * 200_000))
    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    created = env.publish("app")
    env.settle()
    attempt = env.event_attempts("app", created["uid"])[0]
    assert attempt["status"] == ("0" if status == 200 else "3")
    assert attempt["response_status_code"] == status
    assert len(attempt["response"]) == limit
    assert attempt["response"] == ("0123456789" * 7000)[:limit]
