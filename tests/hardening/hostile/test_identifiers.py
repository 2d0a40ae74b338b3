"""Hostile identifiers: bad uids, control characters and look-alike Unicode in identifier
fields, URLs that are not http targets, and paths that try to reach something else."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.emulator.helpers import NOT_FOUND
from tests.hardening import tally
from tests.hardening.hostile.seeded import APP, EP, Seeded, refused

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
