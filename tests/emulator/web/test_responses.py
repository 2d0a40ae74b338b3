"""The HTTP edge's error answers (emulator/web/responses.py): production's status and body,
exactly, and what production does not say in the ``X-Emulator-Hint`` header and one console
line."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.emulator.helpers import (
    APP_NOT_FOUND,
    BAD_BODY_MESSAGE,
    HINT_HEADER,
    JSON_TYPE,
    NOT_FOUND,
    assert_bad_body,
    create_app,
    field_errors,
    hint,
    local_client,
)
from tests.processes import Served

HINT_LOGGER = "emulator.hints"
MAX_HINT_LENGTH = 512


def assert_unauthorized(response: httpx.Response) -> str:
    """Production's 401: no body at all (and no rate-limit headers); returns the hint."""
    assert response.status_code == 401
    assert response.content == b""
    assert "X-Ratelimit-Limit" not in response.headers
    return hint(response)


def assert_one_ascii_line(value: str) -> None:
    assert value.isascii() and value.isprintable(), value
    assert "\r" not in value and "\n" not in value
    assert value == value.strip()
    assert len(value) <= MAX_HINT_LENGTH


@pytest.fixture(scope="module")
def keyed() -> Iterator[EmulatorServer]:
    """An emulator that accepts one configured key and answers 429 past 2 requests a second."""
    config = EmulatorConfig(
        data_dir=None,
        api_keys=frozenset({"sk_configured"}),
        enforce_api_rate_limit=True,
        api_rate_limit=2,
    )
    with EmulatorServer(config) as running:
        yield running


# --------------------------------------------------------------------------- 401
def test_missing_authorization_header(server: EmulatorServer) -> None:
    with local_client(server.url) as anonymous:
        response = anonymous.post("/v1/application", json={"name": "A"})
    said = assert_unauthorized(response)
    assert said.startswith("no Authorization header")
    assert "`Authorization: Bearer <any key>`" in said


def test_wrong_authorization_scheme(server: EmulatorServer) -> None:
    with local_client(server.url) as anonymous:
        response = anonymous.get("/v1/application", headers={"Authorization": "Basic dXNlcjpw"})
    said = assert_unauthorized(response)
    assert said.startswith("Authorization scheme must be Bearer")
    assert "dXNlcjpw" not in said


def test_bearer_without_a_key(server: EmulatorServer) -> None:
    with local_client(server.url) as anonymous:
        response = anonymous.get("/v1/application", headers={"Authorization": "Bearer"})
    assert assert_unauthorized(response).startswith("no key after `Bearer`")


def test_key_that_is_not_configured(keyed: EmulatorServer) -> None:
    with local_client(keyed.url, "sk_other_key") as stranger:
        response = stranger.get("/v1/application")
        control = stranger.get("/_emulator/clock")
    said = assert_unauthorized(response)
    assert said.startswith("key not configured") and "serve --api-key" in said
    assert "sk_other_key" not in said  # a key is never echoed
    assert assert_unauthorized(control) == said


# --------------------------------------------------------------------------- 400
def test_body_that_is_not_json(api: httpx.Client) -> None:
    response = api.post("/v1/application", content=b"{,")
    assert_bad_body(response)
    assert hint(response).startswith("body is not JSON: ")
    assert "line 1 column 2 (char 1)" in hint(response)


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"", "body is empty; send a JSON object"),
        (b"[1, 2]", "body is a JSON array, not an object"),
        (b"null", "body is a JSON null, not an object"),
    ],
)
def test_body_that_is_not_an_object(api: httpx.Client, raw: bytes, said: str) -> None:
    response = api.post("/v1/application", content=raw)
    assert_bad_body(response)
    assert hint(response) == said


EXPECTED_TYPE = "field `{}`: expected {}, got {}"
WRONG_TYPES: list[tuple[dict[str, object], str]] = [
    ({"url": 5}, EXPECTED_TYPE.format("url", "a string", "number")),
    (
        {"url": "https://x.io", "active": "yes"},
        EXPECTED_TYPE.format("active", "true or false", "string"),
    ),
    (
        {"url": "https://x.io", "rate_limit": 1.5},
        EXPECTED_TYPE.format("rate_limit", "a whole number", "number"),
    ),
    (
        {"url": "https://x.io", "topics": ["a", 7]},
        EXPECTED_TYPE.format("topics", "an array of strings", "an array containing number"),
    ),
    (
        {"url": "https://x.io", "headers": {"headers": {"X-A": None}}},
        EXPECTED_TYPE.format("headers.headers", "an object of string values", "null"),
    ),
]


@pytest.mark.parametrize(("body", "said"), WRONG_TYPES)
def test_wrongly_typed_field_is_named_in_the_hint(
    api: httpx.Client, body: dict[str, object], said: str
) -> None:
    create_app(api)
    response = api.post("/v1/application/app-1/endpoint", json=body)
    assert_bad_body(response)
    assert hint(response) == said


def test_every_wrongly_typed_field_is_in_the_hint(api: httpx.Client) -> None:
    body = {"uid": 7, "name": "ok", "retry_strategy": {"type": 1, "max_retries": "3"}}
    response = api.post("/v1/application", json=body)
    assert_bad_body(response, "uid")
    assert hint(response) == (
        "field `uid`: expected a string, got number; "
        "field `retry_strategy.type`: expected a string, got number; "
        "field `retry_strategy.max_retries`: expected a whole number, got string"
    )


def test_recover_since_is_explained(api: httpx.Client) -> None:
    create_app(api)
    api.post("/v1/application/app-1/endpoint", json={"uid": "ep", "url": "https://x.io"})
    response = api.post("/v1/application/app-1/endpoint/ep/recover", json={"since": "monday"})
    assert_bad_body(response, "since")
    assert "RFC 3339" in hint(response)


# --------------------------------------------------------------------------- 422
def test_every_bad_field_is_in_the_hint_and_the_body_stays_productions(
    api: httpx.Client,
) -> None:
    create_app(api)
    body = {
        "uid": "not a uid!",
        "url": "ftp://example.com",
        "rate_limit": 0,
        "topics": ["a", "b", "c", "d", "e", "f"],
        # Two problems with one field: the body shows the first, the hint both.
        "headers": {"headers": {"Bad Name": "x", "Host": "y"}},
    }
    response = api.post("/v1/application/app-1/endpoint", json=body)
    fields = ["uid", "url", "topics", "rate_limit", "headers.headers"]
    assert sorted(field_errors(response)) == sorted(fields)
    said = hint(response)
    for field in fields:
        assert f"field `{field}`: " in said, (field, said)
    assert "'Bad Name' is not a valid header name" in said
    assert "Host is set by the emulator" in said
    [entry] = [e for e in response.json()["errors"] if e["field"] == "headers.headers"]
    assert entry["error"] == "'Bad Name' is not a valid header name"


def test_recorded_422_keeps_its_body(api: httpx.Client) -> None:
    create_app(api)
    response = api.post("/v1/application", json={"uid": "app-1", "name": "again"})
    message = "Application UID already exists in your account"
    assert response.json() == {"errors": [{"field": "uid", "error": message}]}
    assert hint(response) == f"field `uid`: {message}"


# --------------------------------------------------------------------------- 404, 405, 413, 429
def test_missing_resources_are_named(api: httpx.Client) -> None:
    response = api.get("/v1/application/nope")
    assert response.json() == NOT_FOUND
    assert hint(response) == "no application `nope` for this API key"
    create_app(api)
    response = api.get("/v1/application/app-1/endpoint/ep-x")
    assert response.json() == NOT_FOUND
    assert hint(response) == "application `app-1` has no endpoint `ep-x`"
    response = api.post("/v1/application/nope/event", json={"event_type": "a", "payload": {}})
    assert response.json() == APP_NOT_FOUND
    assert hint(response) == "no application `nope` for this API key"


def test_unknown_route_and_method(api: httpx.Client) -> None:
    response = api.get("/v1/applications")
    assert response.json() == NOT_FOUND
    assert hint(response) == "no route GET /v1/applications"
    response = api.patch("/v1/application")
    assert response.status_code == 405
    assert response.json() == {"error": "Method Not Allowed", "code": 405}
    assert hint(response).startswith("PATCH /v1/application: Method Not Allowed; this path takes")


def test_body_over_the_limit(api: httpx.Client) -> None:
    response = api.post("/v1/application", content=b" " * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert hint(response) == "request body larger than 1048576 bytes"


def test_rate_limited(keyed: EmulatorServer) -> None:
    with local_client(keyed.url, "sk_configured") as client:
        answers = [client.get("/v1/application") for _ in range(5)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert limited[0].headers["Content-Type"] == JSON_TYPE
    assert "more than 2 requests this second" in hint(limited[0])


def test_success_has_no_hint(api: httpx.Client) -> None:
    response = api.post("/v1/application", json={"name": "A"})
    assert response.status_code == 201
    assert HINT_HEADER not in response.headers


# --------------------------------------------------------------------------- header safety
def test_hint_is_one_bounded_line_of_ascii(api: httpx.Client) -> None:
    create_app(api)
    header_name = "h\u00e9ader\r\nX-Injected: 1" + "\u2603" * 2000
    response = api.post(
        "/v1/application/app-1/endpoint",
        json={"url": "https://x.io", "headers": {"headers": {header_name: "v"}}},
    )
    assert field_errors(response) == ["headers.headers"]
    said = hint(response)
    assert_one_ascii_line(said)
    assert "X-Injected" not in response.headers
    assert said.startswith("field `headers.headers`: 'h\\xe9ader\\r\\nX-Injected: 1")
    assert said.endswith("...")
    long_uid = "u" * 2000
    response = api.get(f"/v1/application/{long_uid}")
    assert response.json() == NOT_FOUND
    assert_one_ascii_line(hint(response))


# --------------------------------------------------------------------------- console
def test_each_error_answer_is_one_console_line(
    server: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger=HINT_LOGGER),
        local_client(server.url) as anonymous,
    ):
        anonymous.post("/v1/application", json={"name": "A"})
    lines = [r.getMessage() for r in caplog.records if r.name == HINT_LOGGER]
    assert lines == [
        "401 POST /v1/application: no Authorization header; send `Authorization: Bearer <any key>`"
    ]
    assert caplog.records[-1].levelno == logging.WARNING


def test_console_lines_follow_the_log_level(caplog: pytest.LogCaptureFixture) -> None:
    quiet_config = EmulatorConfig(data_dir=None, log_level="error")
    with (
        EmulatorServer(quiet_config) as quiet,
        caplog.at_level(logging.WARNING, logger=HINT_LOGGER),
        local_client(quiet.url) as anonymous,
    ):
        response = anonymous.get("/v1/application")
    assert response.status_code == 401 and hint(response)
    assert [r for r in caplog.records if r.name == HINT_LOGGER] == []


def test_control_api_errors_carry_hints_too(server: EmulatorServer) -> None:
    with local_client(server.url) as control:
        response = control.post("/_emulator/clock", json={"settle": "no"})
        missing = control.get("/_emulator/attempts/eda_nothing")
    assert response.json() == {"error": BAD_BODY_MESSAGE}
    assert hint(response) == "field `settle`: expected true or false, got string"
    assert missing.json() == NOT_FOUND
    assert hint(missing) == "no delivery attempt `eda_nothing`"


def test_serve_prints_the_hint_on_its_console(tmp_path: Path) -> None:
    served = Served(tmp_path / "serve.log", "--in-memory").wait_ready()
    try:
        with local_client(served.url, "sk_console") as api:
            api.post("/v1/application", json={"name": 5})
        deadline = time.monotonic() + 5
        line = "400 POST /v1/application: field `name`: expected a string, got number"
        while line not in served.output() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        assert served.stop() == 0
    assert line in served.output().splitlines()
