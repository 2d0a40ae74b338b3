"""``/_emulator/clock``: reading, advancing, time scale, settling and running until idle."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from emulator.timestamps import format_timestamp
from tests.emulator.delivery_helpers import (
    FROZEN,
    Env,
    Receiver,
    Reply,
    running_emulator,
    wait_until,
)
from tests.emulator.helpers import BAD_BODY_MESSAGE, hint


# --------------------------------------------------------------------------- clock
def test_clock_read(control: httpx.Client) -> None:
    before = time.time()
    body = control.get("/_emulator/clock").json()
    assert set(body) >= {"now", "unix", "time_scale", "next_due", "next_due_unix"}
    assert isinstance(body["unix"], float)
    assert before - 30 < body["unix"] < time.time() + 1
    assert body["now"] == format_timestamp(body["unix"])
    assert body["now"].endswith("+00:00")
    assert body["time_scale"] == FROZEN
    assert body["next_due"] is None
    assert body["next_due_unix"] is None


@pytest.mark.parametrize(
    ("advance", "seconds"),
    [
        ("1h30m", 5400),
        ("1h30m15s", 5415),
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1.5h", 5400),
        ("2H", 7200),
        (" 10m ", 600),
        (45, 45),
        (0.25, 0.25),
        (0, 0),
        ("0", 0),
    ],
)
def test_clock_advance(env: Env, advance: object, seconds: float) -> None:
    before = env.now()
    answer = env.clock(advance=advance)
    assert answer["unix"] - before == pytest.approx(seconds, abs=1e-3)
    assert answer["now"] == format_timestamp(answer["unix"])
    assert env.now() == pytest.approx(answer["unix"], abs=1e-3)


BAD_CLOCK_BODIES: list[tuple[dict[str, Any], int, str]] = [
    ({"advance": "abc"}, 422, "advance"),
    ({"advance": "1x"}, 422, "advance"),
    ({"advance": ""}, 422, "advance"),
    ({"advance": "h"}, 422, "advance"),
    ({"advance": "1h30"}, 422, "advance"),
    ({"advance": "-5"}, 422, "advance"),
    ({"advance": -1}, 422, "advance"),
    ({"advance": "nan"}, 422, "advance"),
    ({"advance": "inf"}, 422, "advance"),
    ({"advance": 1e12}, 422, "advance"),
    ({"advance": True}, 400, "advance"),
    ({"advance": [1]}, 400, "advance"),
    ({"advance": {"s": 1}}, 400, "advance"),
    ({"time_scale": 0}, 422, "time_scale"),
    ({"time_scale": -1}, 422, "time_scale"),
    ({"time_scale": 1001}, 422, "time_scale"),
    ({"time_scale": 1e-300}, 422, "time_scale"),  # would overflow the clock at once
    ({"time_scale": 1e-7}, 422, "time_scale"),
    ({"time_scale": "fast"}, 400, "time_scale"),
    ({"time_scale": True}, 400, "time_scale"),
    ({"to_next_due": "yes"}, 400, "to_next_due"),
    ({"run_until_idle": 1}, 400, "run_until_idle"),
    ({"settle": "no"}, 400, "settle"),
    ({"timeout": 0}, 422, "timeout"),
    ({"timeout": -3}, 422, "timeout"),
    ({"timeout": 601}, 422, "timeout"),
    ({"timeout": "5"}, 422, "timeout"),
    ({"timeout": True}, 422, "timeout"),
    # Nothing is applied when any field is bad.
    ({"advance": 60, "time_scale": 0}, 422, "time_scale"),
    ({"advance": 60, "timeout": 0}, 422, "timeout"),
    ({"time_scale": 2, "settle": "x"}, 400, "settle"),
]


@pytest.mark.parametrize(
    ("body", "status", "field"), BAD_CLOCK_BODIES, ids=[str(b[0]) for b in BAD_CLOCK_BODIES]
)
def test_clock_bad_input_is_a_4xx_naming_the_field(
    control: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    before = control.get("/_emulator/clock").json()
    response = control.post("/_emulator/clock", json=body)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    answer = response.json()
    if status == 400:
        assert answer == {"error": BAD_BODY_MESSAGE}
        assert hint(response).startswith(f"field `{field}`:")
    else:
        assert [e["field"] for e in answer["errors"]] == [field]
        assert answer["errors"][0]["error"]
    after = control.get("/_emulator/clock").json()
    assert after["unix"] == pytest.approx(before["unix"], abs=1e-3)
    assert after["time_scale"] == before["time_scale"]


def test_clock_reports_every_bad_value_at_once(control: httpx.Client) -> None:
    before = control.get("/_emulator/clock").json()
    response = control.post(
        "/_emulator/clock", json={"advance": "soon", "time_scale": 0, "timeout": 0}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["advance", "time_scale", "timeout"]
    said = hint(response)
    for field in ("advance", "time_scale", "timeout"):
        assert f"field `{field}`: " in said
    after = control.get("/_emulator/clock").json()
    assert after["unix"] == pytest.approx(before["unix"], abs=1e-3)
    assert after["time_scale"] == before["time_scale"]


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'"advance"', b"{"])
def test_clock_body_not_an_object_is_400(control: httpx.Client, content: bytes) -> None:
    response = control.post("/_emulator/clock", content=content)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


def test_clock_stays_within_formattable_dates(control: httpx.Client) -> None:
    """Advances that would take the clock past year 9000 are refused, and it keeps working."""
    century = 100 * 365 * 86400
    for _ in range(80):
        response = control.post("/_emulator/clock", json={"advance": century})
        if response.status_code != 200:
            break
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["advance"]
    clock = control.get("/_emulator/clock")
    assert clock.status_code == 200
    assert clock.json()["now"] < "9000"
    assert control.get("/_emulator/health").status_code == 200

    response = control.post("/_emulator/clock", json={"time_scale": 1e-6})
    assert response.status_code == 200, response.text
    assert control.get("/_emulator/clock").status_code == 200


def test_clock_empty_body_just_settles(control: httpx.Client) -> None:
    response = control.post("/_emulator/clock", content=b"")
    assert response.status_code == 200, response.text
    assert response.json()["settled"] is True


def test_time_scale_change() -> None:
    with running_emulator(time_scale=1.0) as server, Receiver(default=Reply(500)) as failing:
        env = Env(server.url)
        try:
            assert env.http.get("/_emulator/clock").json()["time_scale"] == 1.0
            before = env.now()
            answer = env.clock(time_scale=0.001)  # 1 ms of real time per emulated second
            assert answer["time_scale"] == 0.001
            assert answer["unix"] >= before
            began = time.monotonic()
            start = answer["unix"]
            wait_until(lambda: env.now() - start >= 120, what="120 emulated seconds")
            assert time.monotonic() - began < 2.0

            # Retries run on the fast clock without any advance.
            env.app("app", retry_strategy={"type": "fixed_wait", "retry_delay": 30})
            env.endpoint("app", "ep", failing.hook())
            created = env.publish("app")
            failing.wait_for(4)
            attempts = wait_until(
                lambda: [
                    a for a in env.event_attempts("app", created["uid"]) if a["status"] == "3"
                ][3:],
                what="the last retry to be recorded",
            )
            assert attempts[0]["retry_count"] == 3

            # Slowing down does not move time back or jump it forward.
            last = env.now()
            answer = env.clock(time_scale=1000)
            assert answer["time_scale"] == 1000
            assert answer["unix"] >= last
            assert answer["unix"] - last < 1000  # at most ~1 s of real time at this scale
            settled = env.now()
            assert settled >= answer["unix"]
            assert settled - answer["unix"] < 0.01
        finally:
            env.close()


def test_to_next_due(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", failing.hook())
    env.publish("app")
    env.settle()
    start = env.now()
    answer = env.http.get("/_emulator/clock").json()
    assert answer["next_due_unix"] == pytest.approx(start + 30, abs=1e-3)
    assert answer["next_due"] == format_timestamp(answer["next_due_unix"])

    answer = env.clock(to_next_due=True)
    assert answer["unix"] == pytest.approx(start + 30, abs=1e-3)
    assert len(failing.received()) == 2
    assert answer["next_due_unix"] == pytest.approx(start + 210, abs=1e-3)

    answer = env.clock(to_next_due=True)
    assert len(failing.received()) == 3
    assert answer["unix"] == pytest.approx(start + 210, abs=1e-3)


def test_to_next_due_with_nothing_scheduled_does_not_move(env: Env) -> None:
    start = env.now()
    answer = env.clock(to_next_due=True)
    assert answer["unix"] == pytest.approx(start, abs=1e-3)
    assert answer["next_due"] is None


def test_run_until_idle(env: Env, failing: Receiver) -> None:
    env.app("app")
    env.endpoint("app", "ep", failing.hook())
    created = env.publish("app")
    start = env.now()
    began = time.monotonic()
    answer = env.clock(run_until_idle=True)
    assert time.monotonic() - began < 5.0
    assert answer["next_due"] is None
    assert answer["unix"] - start == pytest.approx(38_610, abs=1e-2)
    assert len(failing.received()) == 7
    attempts = env.event_attempts("app", created["uid"])
    assert [a["retry_count"] for a in attempts] == list(range(7))
    assert {a["status"] for a in attempts} == {"3"}


def test_settle_false_answers_without_waiting(env: Env) -> None:
    response = env.http.post("/_emulator/clock", json={"advance": 10, "settle": False})
    assert response.status_code == 200
    assert response.json()["settled"] is True  # nothing was due
