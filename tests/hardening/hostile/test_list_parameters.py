"""Hostile list parameters: limits, cursors, dates and filters out of range or unparsable."""

from __future__ import annotations

import pytest

from tests.hardening.hostile.seeded import APP, EP, EVT, Seeded, refused

# --------------------------------------------------------------------------- list parameters
LISTS = [
    "/v1/application",
    f"{APP}/endpoint",
    f"{APP}/event",
    f"{EP}/event",
    f"{EP}/delivery_attempt",
    f"{EVT}/delivery_attempt",
    f"{EVT}/endpoint",
]
BAD_LIMITS = [
    "0",
    "-1",
    "151",
    "1000000",
    "abc",
    "",
    "1.5",
    "1e2",
    " 5",
    "5 ",
    "+5",
    "0x10",
    "1_0",
    "\u0663",
    "\uff15",
    "9" * 40,
    "\x00",
    "5\x00",
]
BAD_DATES = [
    "yesterday",
    "2022-13-01T00:00:00Z",
    "2022-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2022-10-29T25:00:00Z",
    "2022-10-29T03:20:14+25:00",
    "nan",
    "x" * 100,
    "2022-10-29T03:20:14\x00",
    "\u0662\u0660\u0662\u0662-01-01",
]
BAD_CURSORS = ["nope", "x" * 10_000, "\u00e9", "\x00", "evte_" + "0" * 27, "eda_" + "Z" * 27]


@pytest.mark.parametrize("path", LISTS)
def test_limit_cursors_and_dates_out_of_range(env: Seeded, path: str) -> None:
    for limit in BAD_LIMITS:
        refused(env.send("GET", path, params={"limit": limit}), 422, "limit")
    for name in ("starting_after", "ending_before", "start_after"):
        for cursor in BAD_CURSORS:
            expected = "starting_after" if name == "start_after" else name
            refused(env.send("GET", path, params={name: cursor}), 422, expected)
    refused(env.send("GET", path, params={"starting_after": "a", "ending_before": "b"}), 422)
    if path != f"{EVT}/endpoint":
        for name in ("before", "after"):
            for date in BAD_DATES:
                refused(env.send("GET", path, params={name: date}), 422, name)
    if "delivery_attempt" in path or path == f"{EP}/event":
        for status in ("4", "-1", "a", "\u0663", "1.0"):
            refused(env.send("GET", path, params={"status": status}), 422, "status")
    if "delivery_attempt" in path:
        for code in ("201", "abc", "-0", "2e2"):
            refused(
                env.send("GET", path, params={"response_status_code": code}),
                422,
                "response_status_code",
            )


def test_cursor_of_another_list_is_unknown_there(env: Seeded) -> None:
    # An attempt id on the events list, an event uid on the attempts list, and so on.
    for path, cursor in [
        (f"{APP}/event", env.attempt),
        (f"{EVT}/delivery_attempt", "evt"),
        (f"{APP}/endpoint", "evt"),
        ("/v1/application", "ep"),
    ]:
        refused(env.send("GET", path, params={"starting_after": cursor}), 422, "starting_after")


def test_dates_that_do_not_parse_in_recover(env: Seeded) -> None:
    for date in [*BAD_DATES, "", " "]:
        refused(env.send("POST", f"{EP}/recover", json={"since": date}), 400, "since")
