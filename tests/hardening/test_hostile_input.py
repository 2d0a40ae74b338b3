"""Hostile input: every malformed request is a 4xx with a JSON body naming the problem, and
nothing is stored.

Each test seeds one environment (an application ``app`` with an endpoint ``ep``, an event ``evt``
delivered to it), takes a snapshot of everything the API and the control API show, fires a batch
of hostile requests at every route they apply to, checks each answer, and compares the snapshot
afterwards: nothing was created, changed, delivered or advanced.

``tests/emulator/test_validation.py`` pins the single-case rules (which field, which message);
here the inputs are systematic (every field times every wrong JSON type, every body route) and
the point is the invariant: refused, explained, nothing stored.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import Env, running_emulator
from tests.emulator.helpers import BAD_BODY_MESSAGE, HINT_HEADER, JSON_TYPE, NOT_FOUND
from tests.hardening import tally
from tests.hardening.receivers import RawReceiver, answer

LIMIT = 1024 * 1024  # config.max_body_bytes: the documented body size limit
MAX_NESTING = 128

APP = "/v1/application/app"
EP = f"{APP}/endpoint/ep"
EVT = f"{APP}/event/evt"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def raw_receiver() -> Iterator[RawReceiver]:
    with RawReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with running_emulator() as server:
        yield server


class Seeded(Env):
    """An environment with one of everything, and the hostile requests sent to it."""

    attempt: str
    tried: int = 0

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.tried += 1
        tally.add("hostile inputs tried")
        return self.http.request(method, path, **kwargs)

    def snapshot(self) -> dict[str, Any]:
        """Everything this environment shows, plus the emulator's counts and clock."""
        paths = [
            "/v1/application",
            APP,
            f"{APP}/endpoint",
            EP,
            f"{EP}/secret",
            f"{EP}/event",
            f"{EP}/delivery_attempt",
            f"{APP}/event",
            EVT,
            f"{EVT}/delivery_attempt",
            f"{EVT}/endpoint",
        ]
        state: dict[str, Any] = {}
        for path in paths:
            response = self.http.get(path)
            assert response.status_code == 200, (path, response.text)
            state[path] = response.json()
        state["detail"] = self.http.get(f"/_emulator/attempts/{self.attempt}").json()
        health = self.http.get("/_emulator/health").json()
        state["counts"] = health["counts"]
        state["clock"] = health["clock"]["unix"]
        state["environments"] = self.http.get("/_emulator/environments").json()
        return state


@pytest.fixture
def env(emu: EmulatorServer, raw_receiver: RawReceiver) -> Iterator[Seeded]:
    seeded = Seeded(emu.url)
    try:
        seeded.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
        seeded.endpoint(
            "app", "ep", raw_receiver.hook("/seeded"), headers={"headers": {"X-Seed": "1"}}
        )
        seeded.publish("app", uid="evt")
        seeded.settle()
        [attempt] = seeded.event_attempts("app", "evt")
        seeded.attempt = attempt["id"]
        before = seeded.snapshot()
        yield seeded
        assert seeded.tried, "the test sent nothing"
        assert seeded.snapshot() == before, "a refused request changed what is stored"
    finally:
        seeded.reset()
        seeded.close()


@pytest.fixture
def fresh(emu: EmulatorServer) -> Iterator[Seeded]:
    """An environment with an application ``app``, for tests whose inputs are accepted."""
    made = Seeded(emu.url)
    try:
        made.app("app", retry_strategy={"type": "fixed_wait", "max_retries": 1})
        yield made
    finally:
        made.reset()
        made.close()


# --------------------------------------------------------------------------- answers
def refused(
    response: httpx.Response, status: int | tuple[int, ...], field: str | None = None
) -> None:
    """A 4xx with a JSON body that names the problem (and the field, when one is at fault)."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == JSON_TYPE, response.headers
    body = response.json()
    assert isinstance(body, dict) and body, body
    if response.status_code == 422:
        fields = [entry["field"] for entry in body["errors"]]
        assert all(entry["error"] for entry in body["errors"])
        if field is not None:
            assert field in fields, (field, body)
    else:
        assert isinstance(body["error"], str) and body["error"], body
        if response.status_code == 400 and field is not None:
            hint = response.headers.get(HINT_HEADER, "")
            assert hint.startswith(f"field `{field}`:"), (field, hint)
    if response.status_code == 413:
        assert str(LIMIT) in body["error"] and body["code"] == 413
    if response.status_code == 404:
        assert body in (NOT_FOUND, {"error": "application not found", "code": 404})


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


# --------------------------------------------------------------------------- identifiers
BAD_UIDS = [
    "",
    "has space",
    "a/b",
    "a\\b",
    "..%2F..",
    "%2e%2e",
    "a%2Fb",
    "a?b",
    "a#b",
    "semi;colon",
    "x" * 256,
    "caf\u00e9",
    "\uff41pp",  # fullwidth a
    "app\u200b",  # zero-width space
    "\u202eppa",  # right-to-left override
    "\u212a",  # Kelvin sign (K after NFKC)
    "app\u0301",  # combining accent
    "app\x00",
    "app\n",
    "a\r\nb",
    "app\t",
    " app",
]


def test_bad_uids_on_every_resource(env: Seeded) -> None:
    for uid in BAD_UIDS:
        for method, path, body in [
            ("POST", "/v1/application", {"uid": uid, "name": "n"}),
            ("PUT", APP, {"uid": uid, "name": "n"}),
            ("POST", f"{APP}/endpoint", {"uid": uid, "url": "http://127.0.0.1:9/"}),
            ("PUT", EP, {"uid": uid}),
            ("POST", f"{APP}/event", {"uid": uid, "event_type": "t", "payload": {}}),
        ]:
            refused(env.send(method, path, json=body), 422, "uid")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_type", "a\r\nb"),
        ("event_type", "t\x00"),
        ("event_type", "\u00e9v\u00e9nement"),
        ("version", "v\x7f"),
        ("version", "v 1"),
        ("topics", ["a\nb"]),
        ("topics", ["t\u200b"]),
    ],
)
def test_control_characters_and_unicode_in_identifier_fields(
    env: Seeded, field: str, value: Any
) -> None:
    body = {"event_type": "t", "payload": {}, field: value}
    refused(env.send("POST", f"{APP}/event", json=body), 422, field)
    if field != "event_type":
        refused(env.send("PUT", EP, json={field: value}), 422, field)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/a\r\nX-Evil: 1",
        "http://127.0.0.1:9/\x00",
        "http://127.0.0.1:9/a b",
        "http://127.0.0.1:99999/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "gopher://127.0.0.1:9/",
        "http:///nohost",
        "//127.0.0.1:9/",
        "http://" + "a" * 2048 + ".localhost/",
    ],
)
def test_urls_that_are_not_http_targets(env: Seeded, url: str) -> None:
    refused(env.send("POST", f"{APP}/endpoint", json={"url": url}), 422, "url")
    refused(env.send("PUT", EP, json={"url": url}), 422, "url")


def raw_get(env: Seeded, path: str) -> tuple[int, dict[str, Any]]:
    """GET a path exactly as written (no client-side normalization of dots or escapes)."""
    host, port = env.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {env.key}")
        connection.endheaders()
        response = connection.getresponse()
        env.tried += 1
        tally.add("hostile inputs tried")
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_path_tricks_reach_nothing_else(fresh: Seeded) -> None:
    """Paths that are not exactly a stored uid find nothing (404), whatever they look like."""
    env = fresh
    env.endpoint("app", "ep", "http://127.0.0.1:9/")
    env.publish("app", uid="evt")
    env.app("App", name="capital")
    env.app("..", name="dots")
    for path in [
        "/v1/application/APP",
        "/v1/application/ap",
        "/v1/application/app%00",
        "/v1/application/app%20",
        "/v1/application/%20app",
        "/v1/application/app%0d%0a",
        "/v1/application/%ef%bd%81pp",  # fullwidth a
        "/v1/application/app%e2%80%8b",  # zero-width space
        "/v1/application/%ff",
        "/v1/application/app%2Fendpoint",
        "/v1/application/app%2fendpoint%2fep",
        "/v1/application/app/endpoint/..%2F..",
        "/v1/application/app/endpoint/%2e%2e%2f%2e%2e",
        "/v1/application/app/endpoint/ep%2fsecret",
        "/v1/application/app/event/evt%2Fdelivery_attempt",
        "/v1/application/app/event/evt/delivery_attempt/..%2F..",
        "/v1/application/app/endpoint/EP",
        "/v1/application/app/event/EVT",
        "/v1/application/app/event/evt%00",
    ]:
        status, body = raw_get(env, path)
        assert (status, body) == (404, NOT_FOUND), path
    # Escapes of plain characters are those characters; "..", escaped, is the app named "..".
    assert raw_get(env, "/v1/application/%61pp")[1]["uid"] == "app"
    assert raw_get(env, "/v1/application/%2E%2E")[1]["uid"] == ".."
    assert raw_get(env, "/v1/application/.%2e")[1]["uid"] == ".."
    assert raw_get(env, "/v1/application/App")[1]["name"] == "capital"


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


# --------------------------------------------------------------------------- extreme schedules
def test_retry_schedules_cannot_take_the_clock_past_what_it_can_show(
    raw_receiver: RawReceiver,
) -> None:
    """Retry settings beyond the limits are refused; within them, walking every retry on the
    clock stops short of the year 3700 (uids hold their second until 3769, dates until 9999)
    and everything still works: creating, listing, showing dates."""
    with running_emulator() as server:
        env = Env(server.url)
        try:
            for strategy, field in [
                ({"type": "fixed_wait", "max_retries": 1001}, "max_retries"),
                ({"type": "fixed_wait", "retry_delay": 365 * 86400 + 1}, "retry_delay"),
            ]:
                response = env.http.post(
                    "/v1/application", json={"name": "n", "retry_strategy": strategy}
                )
                refused(response, 422, field)
            strategy = {"type": "fixed_wait", "max_retries": 1000, "retry_delay": 365 * 86400}
            env.app("app", retry_strategy=strategy)
            down = f"http://127.0.0.1:{raw_receiver.port}/refused-by-status"
            env.endpoint("app", "ep", down)
            raw_receiver_status = raw_receiver.behaviour
            try:
                raw_receiver.behaviour = answer(503, b"down")
                for _ in range(16):  # to about the year 3622
                    env.advance(100 * 365 * 86400)
                created = env.publish("app")
                response = env.http.post(
                    "/_emulator/clock", json={"run_until_idle": True, "timeout": 60}
                )
                assert response.status_code == 200, response.text
                assert response.json()["settled"] is False  # stopped short, not broken
                assert "3699" <= response.json()["now"] < "3700"
            finally:
                raw_receiver.behaviour = raw_receiver_status
            for path in (
                "/_emulator/clock",
                "/_emulator/health",
                f"/v1/application/app/event/{created['uid']}/delivery_attempt",
            ):
                assert env.http.get(path, params={"limit": 150}).status_code == 200, path
            attempts = env.event_attempts("app", created["uid"])
            assert env.detail(attempts[-1]["id"])["scheduled_at"] < "3701"
            assert env.publish("app")["created_at"] < "3700"  # creating still works
            tally.add("hostile inputs tried", 3)
        finally:
            env.close()
