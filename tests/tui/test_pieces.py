"""The signature check, the curl command, the recover form's time parsing and formatting."""

from __future__ import annotations

import json
import shlex
from datetime import timezone

import pytest

from emulator.signing import signed_headers
from tui.curl import curl_command
from tui.format import duration, latency
from tui.screens.recover import parse_since
from tui.signature import check_signature, delivery_body

SECRET = "whsec_" + "a" * 64
OLD = "whsec_" + "b" * 64
PAYLOAD = {"id": 7, "name": "Zoë", "tags": ["a", "b"]}


def headers(secrets: list[str], timestamp: int = 1_700_000_000) -> dict[str, str]:
    body = delivery_body(PAYLOAD)
    return {"Content-Length": str(len(body)), **signed_headers(secrets, timestamp, body)}


def test_a_delivery_signed_with_the_current_secret_checks_out() -> None:
    check = check_signature(
        headers([SECRET]), PAYLOAD, SECRET, attempted_at=1_700_000_000.4, now=1_700_000_100
    )
    assert check.ok and check.matching_index == 0 and check.body_rebuilt
    assert check.sent_skew == pytest.approx(-0.4) and check.age == 100 and not check.too_old
    assert check.problems == []


def test_during_a_rotation_the_header_has_one_signature_per_secret() -> None:
    check = check_signature(
        headers([SECRET, OLD]), PAYLOAD, OLD, attempted_at=None, now=1_700_000_400
    )
    assert check.matches == [False, True] and check.matching_index == 1
    assert check.too_old  # 400 s: past the default 300 s tolerance


def test_a_secret_rotated_since_does_not_match() -> None:
    check = check_signature(headers([OLD]), PAYLOAD, SECRET, attempted_at=None, now=None)
    assert not check.ok and "rotated" in check.problems[0]


def test_a_try_not_sent_has_nothing_to_check() -> None:
    check = check_signature(None, PAYLOAD, SECRET, attempted_at=None, now=None)
    assert not check.ok and check.timestamp is None and "never sent" in check.problems[0]


def test_a_body_that_does_not_rebuild_is_reported() -> None:
    sent = headers([SECRET])
    sent["Content-Length"] = "3"
    check = check_signature(sent, PAYLOAD, SECRET, attempted_at=None, now=None)
    assert not check.body_rebuilt and "may be wrong" in check.problems[0]


def test_curl_replays_the_exact_body_and_headers() -> None:
    command = curl_command("http://127.0.0.1:9000/hook?x=1", headers([SECRET]), PAYLOAD)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:9000/hook?x=1"]
    assert words[words.index("--data-raw") + 1].encode() == delivery_body(PAYLOAD)
    assert json.loads(words[-1]) == PAYLOAD
    sent = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
    assert any(h.startswith("X-Simplyq-Signature: ") for h in sent)
    assert not any(h.startswith("Content-Length") for h in sent)


def test_recover_since_accepts_durations_times_and_dates() -> None:
    now = 1_714_564_800.0  # 2024-05-01 12:00:00 UTC
    assert parse_since("30m", now, timezone.utc) == now - 1800
    assert parse_since("2h", now, timezone.utc) == now - 7200
    assert parse_since("11:15", now, timezone.utc) == now - 2700
    assert parse_since("2024-05-01T11:00:00Z", now, timezone.utc) == now - 3600
    with pytest.raises(ValueError):
        parse_since("yesterday", now, timezone.utc)


def test_durations_and_latencies_read_well() -> None:
    assert [duration(s) for s in (5, 90, 3600, 5400, 90000, -30)] == [
        "5s",
        "1m 30s",
        "1h",
        "1h 30m",
        "1d 1h",
        "-30s",
    ]
    assert (latency(None), latency(12.3), latency(1500)) == ("-", "12 ms", "1.5 s")
