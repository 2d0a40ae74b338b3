"""Header injection: endpoint headers that could inject are refused, and deliveries carry exactly
the configured headers, checked on the raw wire, even when a bad value reached the disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.emulator.delivery_helpers import Env, running_emulator
from tests.hardening import tally
from tests.hardening.hostile.seeded import APP, EP, Seeded, refused
from tests.hardening.receivers import RawReceiver

# --------------------------------------------------------------------------- header injection
INJECTIONS: list[tuple[str, str]] = [
    ("X-Inject", "a\r\nX-Evil: 1"),
    ("X-Inject", "a\r\n\r\nGET /smuggled HTTP/1.1"),
    ("X-Lf", "a\nX-Evil: 1"),
    ("X-Cr", "a\rX-Evil: 1"),
    ("X-Nul", "a\x00b"),
    ("X-Vt", "a\x0bb"),
    ("X-Ff", "a\x0cb"),
    ("X-Del", "a\x7fb"),
    ("X-Esc", "\x1b[31m"),
    ("X-Long", "v" * 5000),
    ("X-Lead-Space", "  v"),
    ("X-Trail-Tab", "v\t"),
    ("X-Evil: 1\r\nX-A", "v"),
    ("X-A\r\n", "v"),
    ("X-Evil\nX-A", "v"),
    ("X\x00A", "v"),
    (" X-Lead", "v"),
    ("X-Trail ", "v"),
    ("X-Colon:", "v"),
    ("X(Paren)", "v"),
    ("X-\u00e9", "v"),
    ("", "v"),
    ("Content-Length", "0"),
    ("content-length", "0"),
    ("Transfer-Encoding", "chunked"),
    ("HOST", "evil.example"),
    ("Connection", "close"),
    ("Content-Type", "text/plain"),
    ("x-simplyq-signature", "forged"),
    ("X-SimplyQ-Timestamp", "0"),
]


@pytest.mark.parametrize("kind", ["headers", "sensitive"])
def test_header_names_and_values_that_could_inject_are_refused(env: Seeded, kind: str) -> None:
    for name, value in INJECTIONS:
        body = {"headers": {kind: {name: value}}}
        refused(
            env.send("POST", f"{APP}/endpoint", json={"url": "http://127.0.0.1:9/", **body}),
            422,
            f"headers.{kind}",
        )
        refused(env.send("PUT", EP, json=body), 422, f"headers.{kind}")


def test_deliveries_carry_exactly_the_headers_configured(
    fresh: Seeded, raw_receiver: RawReceiver
) -> None:
    """What is accepted (tabs, spaces, any Unicode text) goes out as one header line per name,
    its value as UTF-8 bytes: no control byte, no extra line, checked on the raw wire."""
    public = {
        "X-Tab": "a\tb",
        "X-Spaces": "a  b",
        "X-Unicode": "caf\u00e9 \u2603 \u0085\u2028",
        "X-Empty": "",
    }
    sensitive = {"Authorization": "Bearer t\u00f6ken", "X-Api-Key": 'k:v; x="y"'}
    env = fresh
    env.endpoint(
        "app",
        "wire",
        raw_receiver.hook("/wire"),
        headers={"headers": public, "sensitive": sensitive},
    )
    before = len(raw_receiver.received())
    created = env.publish("app", uid="wired", payload={"x": "y\r\nX-Evil: 1"})
    env.settle()
    [request] = [r for r in raw_receiver.wait_for(before + 1)[before:] if r.path == "/wire"]
    names = [line.partition(b":")[0].lower() for line in request.header_lines]
    assert len(names) == len(set(names)), names
    assert not [n for n in names if n.startswith(b"x-evil")]
    for line in request.header_lines:
        assert b"\r" not in line and b"\n" not in line and b"\x00" not in line
        assert all(byte >= 0x20 or byte == 0x09 for byte in line), line
    for name, value in {**public, **sensitive}.items():
        assert request.header(name) == [value.encode()], name
    assert request.header("Content-Length") == [str(len(request.body)).encode()]
    assert request.header("Transfer-Encoding") == []
    assert json.loads(request.body) == {"x": "y\r\nX-Evil: 1"}  # escaped inside the JSON body
    [attempt] = env.event_attempts("app", created["uid"])
    assert attempt["status"] == "0"
    tally.add("hostile inputs tried")


def test_an_injected_header_that_reached_the_disk_is_never_sent(
    tmp_path: Path, raw_receiver: RawReceiver
) -> None:
    """Defence in depth: even a stored endpoint whose header value holds CRLF (written to its
    TinyDB file behind the API's back) cannot put a line into a delivery: the try fails."""
    data = tmp_path / "data"
    with running_emulator(data_dir=data) as server:
        env = Env(server.url)
        env.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
        env.endpoint(
            "app", "ep", raw_receiver.hook("/disk"), headers={"headers": {"X-A": "PLACEHOLDER"}}
        )
        key = env.key
        env.close()
    [segment] = (data / "endpoints").glob("*.json")
    segment.write_bytes(segment.read_bytes().replace(b"PLACEHOLDER", b"a\\r\\nX-Evil: 1"))
    before = len(raw_receiver.received())
    with running_emulator(data_dir=data) as server:
        env = Env(server.url, key)
        try:
            created = env.publish("app")
            env.clock(run_until_idle=True)
            attempts = env.event_attempts("app", created["uid"])
            assert [(a["status"], a["response_status_code"]) for a in attempts] == [
                ("3", 0),
                ("3", 0),
            ]
            assert all("header" in a["response"].lower() for a in attempts), attempts
        finally:
            env.close()
    tally.add("hostile inputs tried")
    assert all(r.path != "/disk" for r in raw_receiver.received()[before:])
