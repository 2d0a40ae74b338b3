"""Applications through HTTP (emulator/service/applications.py): updates and renames."""

from __future__ import annotations

import httpx

from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    field_errors,
    get_list,
    publish,
    uids,
)
from tests.emulator.service.common import advance


# --------------------------------------------------------------------------- application PUT
def test_application_put_changes_only_fields_given(api: httpx.Client) -> None:
    created = create_app(
        api,
        rate_limit=5,
        retry_strategy={"type": "fixed_wait", "max_retries": 4, "retry_delay": 9, "deadline": 2},
    )
    advance(api, 2)
    response = api.put(
        "/v1/application/app-1",
        json={
            "uid": None,
            "name": "Renamed",
            "rate_limit": None,
            "retry_strategy": {"type": None, "max_retries": 7, "retry_delay": None},
            "created_at": "2000-01-01T00:00:00+00:00",
            "updated_at": None,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["rate_limit"] == 5
    assert body["retry_strategy"] == {
        "type": "fixed_wait",
        "max_retries": 7,
        "retry_delay": 9,
        "deadline": 2,
    }
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] > created["updated_at"]


def test_application_put_zero_is_a_value_not_absence(api: httpx.Client) -> None:
    create_app(api, rate_limit=5, retry_strategy={"type": "fixed_wait", "max_retries": 4})
    body = api.put(
        "/v1/application/app-1",
        json={"name": "A", "rate_limit": 0, "retry_strategy": {"max_retries": 0}},
    ).json()
    assert body["rate_limit"] == 0
    assert body["retry_strategy"]["max_retries"] == 0


def test_application_put_still_requires_name(api: httpx.Client) -> None:
    create_app(api)
    assert field_errors(api.put("/v1/application/app-1", json={"name": None})) == ["name"]
    assert api.get("/v1/application/app-1").json()["name"] == "App app-1"


def test_application_uid_rename(api: httpx.Client) -> None:
    create_app(api, "old")
    create_endpoint(api, "old", "ep-1")
    publish(api, "old", "ev-1")
    response = api.put("/v1/application/old", json={"uid": "new", "name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["uid"] == "new"
    assert api.get("/v1/application/old").status_code == 404
    assert api.get("/v1/application/new").json()["name"] == "Renamed"
    assert uids(get_list(api, "/v1/application/new/endpoint")) == ["ep-1"]
    assert uids(get_list(api, "/v1/application/new/event")) == ["ev-1"]
    assert uids(get_list(api, "/v1/application")) == ["new"]
    # The old uid is free again.
    create_app(api, "old")


def test_application_rename_to_a_taken_uid_is_409(api: httpx.Client) -> None:
    create_app(api, "one")
    create_app(api, "two")
    response = api.put("/v1/application/one", json={"uid": "two", "name": "X"})
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"error", "code"} and body["code"] == 409 and body["error"]
    assert api.get("/v1/application/one").json()["name"] == "App one"
    # Renaming to its own uid is not a conflict.
    assert api.put("/v1/application/one", json={"uid": "one", "name": "Same"}).status_code == 200
