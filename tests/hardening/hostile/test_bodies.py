"""Hostile bodies: not a JSON object, a wrong JSON type at every field, too deep, too big,
huge arrays. Refused with a 4xx naming the problem; nothing stored."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from tests.emulator.helpers import BAD_BODY_MESSAGE, HINT_HEADER
from tests.hardening import tally
from tests.hardening.hostile.seeded import APP, EP, LIMIT, MAX_NESTING, Seeded, refused

# Every route that takes a body: (method, path, a valid body, whether an empty body is fine).
BODY_ROUTES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("POST", "/v1/application", {"uid": "new-app", "name": "n"}, False),
    ("PUT", APP, {"name": "n"}, False),
    ("POST", f"{APP}/endpoint", {"uid": "new-ep", "url": "http://127.0.0.1:9/x"}, False),
    ("PUT", EP, {"description": "d"}, False),
    ("POST", f"{EP}/recover", {"since": "2020-01-01T00:00:00Z"}, False),
    ("POST", f"{EP}/secret", {"key": "k" * 32}, True),
    ("POST", f"{APP}/event", {"uid": "new-evt", "event_type": "t", "payload": {}}, False),
    ("POST", "/_emulator/reset", {"api_key": "sk_nobody"}, True),
    ("POST", "/_emulator/clock", {"settle": False}, True),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _, _ in BODY_ROUTES]

NOT_JSON: list[bytes] = [
    b"{",
    b"not json",
    b"[]",
    b"[1, 2]",
    b'"text"',
    b"42",
    b"true",
    b"null",
    b'{"a": 1} trailing',
    b'{"a": 1,}',
    b"{'single': 'quotes'}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e999}',
    b"\x00",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00",  # gzip magic
    b"\xff\xfe{\x00}\x00",  # UTF-16
    b'{"name": "\xff"}',  # not UTF-8
    b'{"name": "\xc3\x28"}',  # a broken UTF-8 sequence
    b'{"name": "\xed\xa0\x80"}',  # an encoded surrogate
    b'{"name": "\\ud800"}',  # a lone surrogate escape
    b'{"name": "x", "uid": "\\udfff"}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
]


@pytest.mark.parametrize(("method", "path", "valid", "empty_ok"), BODY_ROUTES, ids=ROUTE_IDS)
def test_bodies_that_are_not_a_json_object(
    env: Seeded, method: str, path: str, valid: dict[str, Any], empty_ok: bool
) -> None:
    inputs = list(NOT_JSON) if empty_ok else [b"", b"  \r\n\t ", *NOT_JSON]
    for raw in inputs:
        response = env.send(method, path, content=raw)
        refused(response, 400)
        body = response.json()
        assert body == {"error": BAD_BODY_MESSAGE}
        assert response.headers[HINT_HEADER].startswith("body "), response.headers


# --------------------------------------------------------------------------- wrong JSON types
WRONG: dict[str, list[Any]] = {
    "str": [1, 1.5, True, False, [], ["x"], {}, {"a": "b"}],
    "int": ["1", "", 1.5, 1.0, True, [], [1], {}, {"n": 1}, 2**63, -(2**63) - 1, 10**30],
    "bool": ["true", "", 1, 0, 1.5, [], [True], {}],
    "strs": ["a", 1, True, {}, {"a": "b"}, ["a", 1], ["a", None], ["a", ["b"]], ["a", {}]],
    "object": ["a", 1, 1.5, True, [], ["a"], [{}]],
    "headers": ["a", 1, True, [], [["X-A", "v"]], {"X-A": 1}, {"X-A": None}, {"X-A": ["v"]}],
    "sensitive": ["a", 1, [], {"X-A": 1}, {"X-A": False}, {"X-A": {"v": 1}}],
    "number": [True, [], {}, None],
}
# (method, path, valid body, field path, kind)
FIELDS: list[tuple[str, str, dict[str, Any], str, str]] = []
for _name, _kind in [("uid", "str"), ("name", "str"), ("rate_limit", "int")]:
    FIELDS += [("POST", "/v1/application", {"name": "n"}, _name, _kind)]
    FIELDS += [("PUT", APP, {"name": "n"}, _name, _kind)]
for _name, _kind in [
    ("type", "str"),
    ("max_retries", "int"),
    ("retry_delay", "int"),
    ("deadline", "int"),
]:
    FIELDS += [("POST", "/v1/application", {"name": "n"}, f"retry_strategy.{_name}", _kind)]
    FIELDS += [("PUT", APP, {"name": "n"}, f"retry_strategy.{_name}", _kind)]
FIELDS += [("POST", "/v1/application", {"name": "n"}, "retry_strategy", "object")]
_endpoint_fields = [
    ("uid", "str"),
    ("url", "str"),
    ("version", "str"),
    ("description", "str"),
    ("secret", "str"),
    ("filter_types", "strs"),
    ("topics", "strs"),
    ("active", "bool"),
    ("rate_limit", "int"),
    ("headers", "object"),
    ("headers.headers", "headers"),
    ("headers.sensitive", "sensitive"),
]
for _name, _kind in _endpoint_fields:
    FIELDS += [("POST", f"{APP}/endpoint", {"url": "http://127.0.0.1:9/x"}, _name, _kind)]
    FIELDS += [("PUT", EP, {}, _name, _kind)]
for _name, _kind in [
    ("uid", "str"),
    ("event_type", "str"),
    ("version", "str"),
    ("topics", "strs"),
    ("payload", "object"),
    ("retention_period", "int"),
]:
    FIELDS += [("POST", f"{APP}/event", {"event_type": "t", "payload": {}}, _name, _kind)]
FIELDS += [("POST", f"{EP}/recover", {}, "since", "str")]
FIELDS += [("POST", f"{EP}/secret", {}, "key", "str")]
FIELDS += [("POST", "/_emulator/reset", {}, "api_key", "str")]
for _name in ("to_next_due", "run_until_idle", "settle"):
    FIELDS += [("POST", "/_emulator/clock", {}, _name, "bool")]
FIELDS += [("POST", "/_emulator/clock", {}, "advance", "number")]
FIELDS += [("POST", "/_emulator/clock", {}, "time_scale", "number")]


def nest(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``a.b``."""
    head, _, rest = path.partition(".")
    return {head: nest(rest, value) if rest else value}


@pytest.mark.parametrize(
    ("method", "path", "valid", "field", "kind"),
    FIELDS,
    ids=[f"{m} {p} {f}" for m, p, _, f, _ in FIELDS],
)
def test_wrong_json_type_at_every_field(
    env: Seeded, method: str, path: str, valid: dict[str, Any], field: str, kind: str
) -> None:
    for value in WRONG[kind]:
        if kind == "number" and value is None:
            continue  # null is "not given"
        body = {**valid, **nest(field, value)}
        response = env.send(method, path, content=json.dumps(body).encode())
        refused(response, 400, field)


# --------------------------------------------------------------------------- size and shape
@pytest.mark.parametrize(("method", "path", "valid", "empty_ok"), BODY_ROUTES, ids=ROUTE_IDS)
def test_deep_nesting(
    env: Seeded, method: str, path: str, valid: dict[str, Any], empty_ok: bool
) -> None:
    for depth in (MAX_NESTING, MAX_NESTING + 50, 600):
        deep: Any = 1
        for level in range(depth):
            deep = [deep] if level % 2 else {"k": deep}
        # Under an unknown key (ignored when valid) and under the free-form payload.
        for body in ({**valid, "extra": deep}, {**valid, "payload": deep}):
            response = env.send(method, path, content=json.dumps(body).encode())
            refused(response, 400)
            assert f"nested deeper than {MAX_NESTING} levels" in response.headers[HINT_HEADER]


@pytest.mark.parametrize(("method", "path", "valid", "empty_ok"), BODY_ROUTES, ids=ROUTE_IDS)
def test_bodies_over_the_size_limit_are_413(
    env: Seeded, method: str, path: str, valid: dict[str, Any], empty_ok: bool
) -> None:
    padding = LIMIT - len(json.dumps({**valid, "pad": ""}).encode())
    over = json.dumps({**valid, "pad": "x" * (padding + 1)}).encode()
    assert len(over) == LIMIT + 1
    refused(env.send(method, path, content=over), 413)
    # Without a Content-Length (chunked): counted while read, refused past the limit.
    chunks = [over[i : i + 65536] for i in range(0, len(over), 65536)]
    refused(env.send(method, path, content=iter(chunks)), 413)
    # Far more than the limit: refused without reading it all.
    refused(env.send(method, path, content=b"[" * (8 * LIMIT)), 413)


def test_a_declared_huge_body_is_refused_before_it_is_sent(env: Seeded) -> None:
    """A Content-Length of 1 TB, and not one body byte: answered at once, not waited for."""
    host, port = env.base_url.removeprefix("http://").split(":")
    for path in ("/v1/application", f"{APP}/event", "/_emulator/clock"):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {env.key}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n".encode()
            )
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                assert chunk, "closed without an answer"
                answer += chunk
        env.tried += 1
        tally.add("hostile inputs tried")
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        assert b"application/json" in answer.split(b"\r\n\r\n")[0]


def test_a_body_exactly_at_the_limit_is_accepted(fresh: Seeded) -> None:
    valid = {"uid": "big", "event_type": "t", "payload": {"pad": ""}}
    padding = LIMIT - len(json.dumps(valid).encode())
    body = json.dumps({**valid, "payload": {"pad": "x" * padding}}).encode()
    assert len(body) == LIMIT
    response = fresh.http.post(f"{APP}/event", content=body)
    assert response.status_code == 201, response.text
    assert len(fresh.http.get(f"{APP}/event/big").json()["payload"]["pad"]) == padding


def test_huge_arrays(env: Seeded) -> None:
    many = [f"t{i}" for i in range(60_000)]
    cases: list[tuple[str, str, dict[str, Any], int, str | None]] = [
        (
            "POST",
            f"{APP}/endpoint",
            {"url": "http://127.0.0.1:9/", "filter_types": many},
            422,
            "filter_types",
        ),
        ("PUT", EP, {"topics": many}, 422, "topics"),
        ("POST", f"{APP}/event", {"event_type": "t", "payload": {}, "topics": many}, 422, "topics"),
        (
            "POST",
            f"{APP}/endpoint",
            {
                "url": "http://127.0.0.1:9/",
                "headers": {"headers": {f"X-{i}": "v" for i in range(30_000)}},
            },
            422,
            "headers.headers",
        ),
        (
            "POST",
            f"{APP}/endpoint",
            {"url": "http://127.0.0.1:9/", "filter_types": [1] * 200_000},
            400,
            "filter_types",
        ),
        ("POST", "/v1/application", {"name": ["n"] * 200_000}, 400, "name"),
    ]
    for method, path, body, status, field in cases:
        refused(env.send(method, path, content=json.dumps(body).encode()), status, field)
    refused(env.send("POST", "/v1/application", content=b"[" + b"1," * 400_000 + b"1]"), 400)
    # A huge array in an unknown field of an otherwise bad body: still just the 422.
    raw = b'{"uid": "bad uid", "name": "n", "x": [' + b"0," * 400_000 + b"0]}"
    refused(env.send("POST", "/v1/application", content=raw), 422, "uid")
