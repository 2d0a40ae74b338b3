"""``/_emulator/health`` and ``/_emulator/reset`` (emulator/web/control.py, emulator/admin.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import __version__
from tests.emulator.delivery_helpers import (
    CLIENT_SSL,
    FROZEN,
    Env,
    Receiver,
    running_emulator,
)
from tests.emulator.helpers import BAD_BODY_MESSAGE, hint


# --------------------------------------------------------------------------- health
def test_health(env: Env, control: httpx.Client, receiver: Receiver) -> None:
    response = control.get("/_emulator/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["in_memory"] is True
    assert body["data_dir"] is None
    assert body["clock"]["time_scale"] == FROZEN
    assert body["counts"] == {
        "environments": 0,
        "applications": 0,
        "endpoints": 0,
        "events": 0,
        "attempts": 0,
    }
    assert body["deliveries"] == 0

    env.app("app")
    env.endpoint("app", "ep", receiver.hook())
    env.publish("app")
    env.settle()
    body = control.get("/_emulator/health").json()
    assert body["counts"] == {
        "environments": 1,
        "applications": 1,
        "endpoints": 1,
        "events": 1,
        "attempts": 1,
    }
    assert body["deliveries"] == 1


def test_health_shows_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_emulator(data_dir=data) as server:
        body = httpx.get(server.url + "/_emulator/health", verify=CLIENT_SSL).json()
    assert body["in_memory"] is False
    assert body["data_dir"] == str(data)


# --------------------------------------------------------------------------- reset
def seed(env: Env, failing: Receiver) -> None:
    """An application whose endpoint fails: a retry stays pending."""
    env.app("app")
    env.endpoint("app", "ep", failing.hook(f"/{env.key}"))
    env.publish("app")
    env.settle()


def test_reset_one_environment(
    new_env: Callable[[], Env], control: httpx.Client, failing: Receiver
) -> None:
    one, two = new_env(), new_env()
    seed(one, failing)
    seed(two, failing)
    listed = control.get("/_emulator/environments").json()["data"]
    assert sorted(e["api_key"] for e in listed) == sorted([one.key, two.key])

    response = control.post("/_emulator/reset", json={"api_key": one.key})
    assert response.status_code == 204
    assert response.content == b""

    assert one.http.get("/v1/application/app").status_code == 404
    assert one.http.get("/v1/application").json()["data"] == []
    assert two.http.get("/v1/application/app").status_code == 200
    listed = control.get("/_emulator/environments").json()["data"]
    assert [e["api_key"] for e in listed] == [two.key]
    assert control.get("/_emulator/health").json()["counts"]["applications"] == 1

    # The reset environment's pending retries are gone; the other's go on.
    two.clock(run_until_idle=True)
    assert len(failing.received(f"/{one.key}")) == 1
    assert len(failing.received(f"/{two.key}")) == 7

    # The key can be used again, from scratch.
    one.app("app")
    assert [a["uid"] for a in one.http.get("/v1/application").json()["data"]] == ["app"]


def test_reset_unknown_key_changes_nothing(env: Env, control: httpx.Client) -> None:
    env.app("app")
    response = control.post("/_emulator/reset", json={"api_key": "sk_nobody"})
    assert response.status_code == 204
    assert env.http.get("/v1/application/app").status_code == 200


@pytest.mark.parametrize("body", [None, {}, {"api_key": None}])
def test_reset_everything(
    new_env: Callable[[], Env],
    control: httpx.Client,
    failing: Receiver,
    body: dict[str, Any] | None,
) -> None:
    one, two = new_env(), new_env()
    seed(one, failing)
    seed(two, failing)
    if body is None:
        response = control.post("/_emulator/reset")
    else:
        response = control.post("/_emulator/reset", json=body)
    assert response.status_code == 204
    for env in (one, two):
        assert env.http.get("/v1/application/app").status_code == 404
    health = control.get("/_emulator/health").json()
    assert set(health["counts"].values()) == {0}
    answer = one.clock(run_until_idle=True)
    assert answer["next_due"] is None
    assert len(failing.received()) == 2


@pytest.mark.parametrize(
    ("content", "field"),
    [(b'{"api_key": 5}', "api_key"), (b'{"api_key": ["k"]}', "api_key"), (b"not json", None)],
)
def test_reset_bad_body_is_400(control: httpx.Client, content: bytes, field: str | None) -> None:
    response = control.post("/_emulator/reset", content=content)
    assert response.status_code == 400
    assert response.json() == {"error": BAD_BODY_MESSAGE}
    if field is not None:
        assert hint(response).startswith(f"field `{field}`:")
