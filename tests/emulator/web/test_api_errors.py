"""The SimplyQ API's refusals over real HTTP (emulator/web/api.py): auth, rate-limit headers,
missing resources and routes, and the precedence of 401, 400, 404 and 422."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from tests.emulator.helpers import (
    APP_NOT_FOUND,
    BAD_BODY_MESSAGE,
    JSON_TYPE,
    NOT_FOUND,
    TLS,
    assert_api_headers,
    create_app,
    create_endpoint,
    field_errors,
    local_client,
    publish,
)

# --------------------------------------------------------------------------- auth
AUTH_PROBES = [
    ("GET", "/v1/application"),
    ("POST", "/v1/application"),
    ("GET", "/v1/application/app-1"),
    ("PUT", "/v1/application/app-1/endpoint/ep-1"),
    ("POST", "/v1/application/app-1/event"),
    ("GET", "/v1/application/app-1/event/e/delivery_attempt/eda_x/"),
    ("POST", "/v1/application/app-1/endpoint/ep-1/event/e"),
]


def assert_unauthorized(response: httpx.Response) -> None:
    """Production's 401: no body, no content type, no rate-limit headers."""
    assert response.status_code == 401
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "x-ratelimit-limit" not in response.headers


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer ", "Bearer    ", "bearerabc"],
    ids=["missing", "basic", "other-scheme", "no-token", "empty-token", "blank-token", "glued"],
)
@pytest.mark.parametrize(("method", "path"), AUTH_PROBES)
def test_bad_authorization_is_401_with_empty_body(
    server: EmulatorServer, authorization: str | None, method: str, path: str
) -> None:
    # http.client, not httpx: httpx refuses to send a header value with trailing spaces.
    headers = {} if authorization is None else {"Authorization": authorization}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=b"not json", headers=headers)
        raw = connection.getresponse()
        response = httpx.Response(raw.status, headers=raw.getheaders(), content=raw.read())
    finally:
        connection.close()
    assert_unauthorized(response)


def test_bearer_scheme_is_case_insensitive(server: EmulatorServer) -> None:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": "bearer k-lower"}, verify=TLS
    ) as client:
        assert client.get("/v1/application").status_code == 200


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[EmulatorServer]:
    """A second server that accepts only the configured keys."""
    config = EmulatorConfig(data_dir=None, port=0, api_keys=frozenset({"sk_known", "sk_other"}))
    with EmulatorServer(config) as running:
        yield running


def test_configured_keys_accept_only_those_keys(keyed_server: EmulatorServer) -> None:
    def client(key: str) -> httpx.Client:
        return local_client(keyed_server.url, key)

    with client("sk_known") as known, client("sk_unknown") as unknown, client("sk_other") as other:
        assert known.post("/v1/application", json={"uid": "a", "name": "A"}).status_code == 201
        assert_unauthorized(unknown.get("/v1/application"))
        assert_unauthorized(unknown.get("/v1/application/a"))
        assert_unauthorized(unknown.post("/v1/application", json={"uid": "b", "name": "B"}))
        # A configured key is still its own environment.
        assert other.get("/v1/application").json()["data"] == []
        assert [a["uid"] for a in known.get("/v1/application").json()["data"]] == ["a"]


def test_rate_limit_headers_count_requests_of_the_key(api: httpx.Client) -> None:
    first = api.get("/v1/application")
    assert first.headers["X-Ratelimit-Limit"] == "50"
    assert first.headers["X-Ratelimit-Remaining"] == "49"
    # Ten quick requests cross at most one second boundary: five share a second.
    remaining = [
        int(api.get("/v1/application").headers["X-Ratelimit-Remaining"]) for _ in range(10)
    ]
    assert min(remaining) <= 45
    assert all(0 <= value < 50 for value in remaining)


def test_error_responses_carry_rate_limit_headers(api: httpx.Client) -> None:
    assert_api_headers(api.get("/v1/application/missing"))
    assert_api_headers(api.post("/v1/application", json={}))
    assert_api_headers(api.post("/v1/application", content=b"{"))


# --------------------------------------------------------------------------- 404s
MISSING_APP_ROUTES = [
    ("GET", "/v1/application/nope"),
    ("PUT", "/v1/application/nope"),
    ("DELETE", "/v1/application/nope"),
    ("GET", "/v1/application/nope/endpoint"),
    ("POST", "/v1/application/nope/endpoint"),
    ("GET", "/v1/application/nope/endpoint/ep-1"),
    ("PUT", "/v1/application/nope/endpoint/ep-1"),
    ("DELETE", "/v1/application/nope/endpoint/ep-1"),
    ("POST", "/v1/application/nope/endpoint/ep-1/recover"),
    ("GET", "/v1/application/nope/endpoint/ep-1/secret"),
    ("POST", "/v1/application/nope/endpoint/ep-1/secret"),
    ("GET", "/v1/application/nope/endpoint/ep-1/event"),
    ("GET", "/v1/application/nope/endpoint/ep-1/delivery_attempt"),
    ("GET", "/v1/application/nope/event"),
    ("GET", "/v1/application/nope/event/e-1"),
    ("GET", "/v1/application/nope/event/e-1/delivery_attempt"),
    ("GET", "/v1/application/nope/event/e-1/delivery_attempt/eda_x"),
    ("GET", "/v1/application/nope/event/e-1/delivery_attempt/eda_x/"),
    ("GET", "/v1/application/nope/event/e-1/endpoint"),
    ("POST", "/v1/application/nope/endpoint/ep-1/event/e-1"),
]
# Well-formed bodies, so only the missing resource is wrong.
VALID_BODIES = {
    "PUT /v1/application/nope": {"name": "x"},
    "POST /v1/application/nope/endpoint": {"url": "https://example.com"},
    "PUT /v1/application/nope/endpoint/ep-1": {"version": "v2"},
    "POST /v1/application/nope/endpoint/ep-1/recover": {"since": "2022-10-30T07:00:00Z"},
    "POST /v1/application/nope/endpoint/ep-1/secret": {},
}


@pytest.mark.parametrize(("method", "path"), MISSING_APP_ROUTES)
def test_missing_application_is_404(api: httpx.Client, method: str, path: str) -> None:
    create_app(api, "app-1")  # another application exists; "nope" does not
    body = VALID_BODIES.get(f"{method} {path}")
    response = api.request(method, path, json=body)
    assert response.status_code == 404
    assert_api_headers(response)
    assert response.json() == NOT_FOUND


def test_publishing_to_a_missing_application_is_404_application_not_found(
    api: httpx.Client,
) -> None:
    response = api.post("/v1/application/nope/event", json={"event_type": "a", "payload": {}})
    assert response.status_code == 404
    assert_api_headers(response)
    assert response.json() == APP_NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, path.replace("/nope", "/app-1").replace("ep-1", "ep-x").replace("e-1", "e-x"))
        for method, path in MISSING_APP_ROUTES
        if "ep-1" in path or "e-1" in path
    ],
)
def test_missing_endpoint_or_event_is_404(api: httpx.Client, method: str, path: str) -> None:
    create_app(api, "app-1")
    create_endpoint(api, "app-1", "ep-1")
    publish(api, "app-1", "e-1")
    body = VALID_BODIES.get(f"{method} {path.replace('/app-1', '/nope').replace('ep-x', 'ep-1')}")
    response = api.request(method, path, json=body)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_retry_needs_both_endpoint_and_event(api: httpx.Client) -> None:
    create_app(api, "app-1")
    create_endpoint(api, "app-1", "ep-1")
    publish(api, "app-1", "e-1")
    assert api.post("/v1/application/app-1/endpoint/ep-x/event/e-1").json() == NOT_FOUND
    assert api.post("/v1/application/app-1/endpoint/ep-1/event/e-x").json() == NOT_FOUND
    assert api.post("/v1/application/app-1/endpoint/ep-1/event/e-1").status_code == 202


@pytest.mark.parametrize(
    "path", ["/v1/nothing", "/v2/application", "/", "/v1/application/a/b/c/d/e/f/g"]
)
def test_unknown_route_is_a_json_404(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json() == NOT_FOUND


def test_unknown_method_is_a_json_error(api: httpx.Client) -> None:
    response = api.patch("/v1/application")
    assert response.status_code == 405
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json()["code"] == 405


# --------------------------------------------------------------------------- precedence
def test_401_comes_before_400(server: EmulatorServer) -> None:
    with local_client(server.url) as anonymous:
        assert_unauthorized(anonymous.post("/v1/application", content=b"{not json"))
        assert_unauthorized(anonymous.post("/v1/application/nope/event", json={"payload": 1}))


def test_401_comes_before_404(server: EmulatorServer) -> None:
    with local_client(server.url) as anonymous:
        assert_unauthorized(anonymous.get("/v1/application/nope"))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/application/nope/endpoint", b"{not json"),
        ("/v1/application/nope/endpoint", b'{"url": 5}'),
        ("/v1/application/nope/event", b'{"event_type": "a", "payload": []}'),
        ("/v1/application/nope/endpoint/ep/recover", b"{}"),
        ("/v1/application/nope/endpoint/ep/secret", b'{"key": 12}'),
    ],
)
def test_400_comes_before_404(api: httpx.Client, path: str, body: bytes) -> None:
    response = api.post(path, content=body)
    assert response.status_code == 400
    assert response.json()["error"] == BAD_BODY_MESSAGE


def test_400_comes_before_422(api: httpx.Client) -> None:
    # A bad value (name missing, uid invalid) and a bad type (rate_limit): the type wins.
    response = api.post("/v1/application", json={"uid": "bad uid!", "rate_limit": "5"})
    assert response.status_code == 400
    assert response.json()["error"] == BAD_BODY_MESSAGE


def test_404_comes_before_422(api: httpx.Client) -> None:
    assert api.put("/v1/application/nope", json={}).json() == NOT_FOUND
    assert api.post("/v1/application/nope/endpoint", json={"url": "ftp://x"}).json() == NOT_FOUND
    assert api.post("/v1/application/nope/event", json={}).json() == APP_NOT_FOUND
    assert api.get("/v1/application/nope/endpoint", params={"limit": 0}).json() == NOT_FOUND
    create_app(api, "app-1")
    assert api.put("/v1/application/app-1/endpoint/ep-x", json={"url": ""}).json() == NOT_FOUND
    assert (
        api.get("/v1/application/app-1/event/e-x/delivery_attempt", params={"status": 9}).json()
        == NOT_FOUND
    )


def test_422_once_the_resources_exist(api: httpx.Client) -> None:
    create_app(api, "app-1")
    assert field_errors(api.put("/v1/application/app-1", json={})) == ["name"]
    assert field_errors(api.post("/v1/application/app-1/endpoint", json={"url": "ftp://x"})) == [
        "url"
    ]
    assert field_errors(api.post("/v1/application/app-1/event", json={})) == [
        "event_type",
        "payload",
    ]
    assert field_errors(api.get("/v1/application/app-1/endpoint", params={"limit": 0})) == ["limit"]
