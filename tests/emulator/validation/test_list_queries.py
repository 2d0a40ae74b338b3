"""List parameters (emulator/validation.py parse_list_query): each bad one is a 422 on it."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    field_errors,
    publish,
)

# --------------------------------------------------------------------------- list queries
LIST_PATHS = [
    "/v1/application",
    "/v1/application/app-1/endpoint",
    "/v1/application/app-1/event",
    "/v1/application/app-1/endpoint/ep-1/event",
    "/v1/application/app-1/endpoint/ep-1/delivery_attempt",
    "/v1/application/app-1/event/ev-1/delivery_attempt",
    "/v1/application/app-1/event/ev-1/endpoint",
]


@pytest.fixture
def listable(api: httpx.Client) -> httpx.Client:
    """An environment where every list route exists."""
    create_app(api)
    create_endpoint(api)
    publish(api, uid="ev-1")
    return api


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("limit", ["0", "151", "-1", "abc", "1.5", ""])
def test_limit_outside_1_to_150_is_422(listable: httpx.Client, path: str, limit: str) -> None:
    assert field_errors(listable.get(path, params={"limit": limit})) == ["limit"]


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("limit", ["1", "150"])
def test_limit_bounds_are_accepted(listable: httpx.Client, path: str, limit: str) -> None:
    assert listable.get(path, params={"limit": limit}).status_code == 200


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("name", ["before", "after"])
def test_bad_date_bound_is_422(listable: httpx.Client, path: str, name: str) -> None:
    assert field_errors(listable.get(path, params={name: "yesterday"})) == [name]
    response = listable.get(path, params={name: "2022-10-29T03:20:14+00:00"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize("name", ["starting_after", "ending_before", "start_after"])
def test_unknown_cursor_is_422_on_that_field(listable: httpx.Client, path: str, name: str) -> None:
    field = "starting_after" if name == "start_after" else name
    assert field_errors(listable.get(path, params={name: "no-such-item"})) == [field]


@pytest.mark.parametrize(
    "path",
    [p for p in LIST_PATHS if "delivery_attempt" in p or p.endswith("ep-1/event")],
)
@pytest.mark.parametrize("status", ["4", "-1", "x", "01a"])
def test_bad_status_filter_is_422(listable: httpx.Client, path: str, status: str) -> None:
    assert field_errors(listable.get(path, params={"status": status})) == ["status"]


@pytest.mark.parametrize("path", [p for p in LIST_PATHS if "delivery_attempt" in p])
@pytest.mark.parametrize("code", ["201", "404", "1", "x", "600"])
def test_bad_response_status_code_filter_is_422(
    listable: httpx.Client, path: str, code: str
) -> None:
    assert field_errors(listable.get(path, params={"response_status_code": code})) == [
        "response_status_code"
    ]


def test_both_cursors_at_once_is_one_entry_per_field(listable: httpx.Client) -> None:
    response = listable.get(
        "/v1/application/app-1/event", params={"starting_after": "ev-1", "ending_before": "nope"}
    )
    assert field_errors(response) == ["ending_before"]
    response = listable.get(
        "/v1/application/app-1/event", params={"starting_after": "x", "ending_before": "ev-1"}
    )
    assert sorted(field_errors(response)) == ["ending_before", "starting_after"]


def test_several_bad_parameters_are_one_entry_each(listable: httpx.Client) -> None:
    response = listable.get(
        "/v1/application/app-1/event/ev-1/delivery_attempt",
        params={"limit": "0", "before": "x", "status": "9", "starting_after": "nope"},
    )
    assert sorted(field_errors(response)) == ["before", "limit", "starting_after", "status"]
