"""Timestamps as production writes them, and the per-second text reuse behind them."""

from __future__ import annotations

import tracemalloc

import pytest

from emulator.timestamps import format_optional, format_timestamp, parse_timestamp


def test_a_unix_time_is_written_in_whole_utc_seconds() -> None:
    assert format_timestamp(1_667_013_614.987) == "2022-10-29T03:20:14+00:00"
    assert format_optional(None) is None


def test_alternating_seconds_each_get_their_own_text() -> None:
    # Listing interleaves old creation times with fresh attempt times: reusing the last
    # second's text must never hand one second's text to another.
    seconds = [1_667_013_614, 1_700_000_000, 1_667_013_614, 1_667_013_615, 1_700_000_000]
    assert [format_timestamp(s) for s in seconds] == [
        "2022-10-29T03:20:14+00:00",
        "2023-11-14T22:13:20+00:00",
        "2022-10-29T03:20:14+00:00",
        "2022-10-29T03:20:15+00:00",
        "2023-11-14T22:13:20+00:00",
    ]


def test_formatting_many_distinct_seconds_keeps_only_a_few() -> None:
    # A fast emulated clock (time_scale) makes every record's second new: a cache of the
    # texts by second grew with the run (seen as steady RSS growth in bench.soak).
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for second in range(1_700_000_000, 1_700_020_000):
            format_timestamp(second)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert held < 64 * 1024, f"{held} bytes kept after formatting 20,000 seconds"


@pytest.mark.parametrize(
    ("text", "unix"),
    [
        ("2022-10-29T03:20:14+00:00", 1_667_013_614.0),
        ("2022-10-29T03:20:14Z", 1_667_013_614.0),
        ("2022-10-29 05:20:14+02:00", 1_667_013_614.0),
        ("2022-10-29T03:20:14", 1_667_013_614.0),
    ],
)
def test_rfc3339_date_times_parse(text: str, unix: float) -> None:
    assert parse_timestamp(text) == unix


@pytest.mark.parametrize("text", ["2022-10-29", "2022-W43-6", "20221029T032014Z", "soon"])
def test_what_is_not_an_rfc3339_date_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_timestamp(text)
