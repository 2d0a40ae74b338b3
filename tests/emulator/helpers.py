"""Small helpers shared by the API tests: create resources, check common headers, and a local
webhook receiver for the emulator's deliveries."""

from __future__ import annotations

import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

JSON_TYPE = "application/json; charset=utf-8"
NOT_FOUND = {"error": "Resource not found", "code": 404}
APP_NOT_FOUND = {"error": "application not found", "code": 404}
BAD_BODY_MESSAGE = "request body schema invalid, check field types"
HINT_HEADER = "X-Emulator-Hint"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")

# One TLS context for every test client: httpx otherwise builds one per client and loads the
# CA bundle into it (~50 ms each). All the tests' traffic is plain HTTP to 127.0.0.1 anyway.
TLS = ssl.create_default_context()


def local_client(base_url: str, key: str | None = None, timeout: float = 10.0) -> httpx.Client:
    """An HTTP client of an emulator, authenticated with ``key`` when given."""
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, verify=TLS)


# Base URL of the session's Receiver (set by the ``receiver`` fixture in tests/conftest.py).
HOOKS = "http://127.0.0.1:9"


class _Handler(BaseHTTPRequestHandler):
    """Answers every POST with an empty body: 200, or NNN for a path ending in /status/NNN."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = re.search(r"/status/(\d{3})$", self.path)
        self.send_response(int(match.group(1)) if match else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver:
    """A webhook receiver on 127.0.0.1 (any free port), so deliveries succeed or fail on cue."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def hook(path: str = "ok") -> str:
    """A URL of the receiver that answers 200."""
    return f"{HOOKS}/{path}"


def failing_hook(status: int = 500) -> str:
    """A URL of the receiver that answers ``status``."""
    return f"{HOOKS}/status/{status}"


def settle(api: httpx.Client) -> None:
    """Wait (bounded, through the control API) until every delivery due now has been tried."""
    response = api.post("/_emulator/clock", json={"timeout": 10})
    assert response.status_code == 200, response.text
    assert response.json()["settled"] is True


def assert_api_headers(response: httpx.Response, *, json_body: bool = True) -> None:
    """The headers production sent on every authenticated answer."""
    assert response.headers["X-Ratelimit-Limit"] == "50"
    remaining = int(response.headers["X-Ratelimit-Remaining"])
    assert 0 <= remaining < 50
    if json_body:
        assert response.headers["Content-Type"] == JSON_TYPE
    else:
        assert response.content == b""


def create_app(api: httpx.Client, uid: str = "app-1", **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/application", json={"uid": uid, "name": f"App {uid}", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_endpoint(
    api: httpx.Client, app: str = "app-1", uid: str = "ep-1", **fields: Any
) -> dict[str, Any]:
    body = {"uid": uid, "url": hook(uid), **fields}
    response = api.post(f"/v1/application/{app}/endpoint", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def publish(
    api: httpx.Client,
    app: str = "app-1",
    uid: str | None = None,
    event_type: str = "user.created",
    **fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"event_type": event_type, "payload": {"n": 1}, **fields}
    if uid is not None:
        body["uid"] = uid
    response = api.post(f"/v1/application/{app}/event", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def get_list(api: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    """One page of a list route (asserting 200)."""
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def uids(page: dict[str, Any], key: str = "uid") -> list[str]:
    return [item[key] for item in page["data"]]


def event_attempts(api: httpx.Client, app: str, event: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = get_list(
        api, f"/v1/application/{app}/event/{event}/delivery_attempt", limit=150
    )["data"]
    return data


def endpoint_attempts(api: httpx.Client, app: str, endpoint: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = get_list(
        api, f"/v1/application/{app}/endpoint/{endpoint}/delivery_attempt", limit=150
    )["data"]
    return data


def field_errors(response: httpx.Response) -> list[str]:
    """The fields a 422 answer names, in order (asserting it is a well-formed 422)."""
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert set(body) == {"errors"}
    for entry in body["errors"]:
        assert set(entry) == {"field", "error"}
        assert isinstance(entry["error"], str) and entry["error"]
    return [entry["field"] for entry in body["errors"]]


def hint(response: httpx.Response) -> str:
    """The emulator's X-Emulator-Hint header of an error answer (asserting it is there)."""
    value = response.headers.get(HINT_HEADER)
    assert value, (response.status_code, dict(response.headers))
    return value


def assert_bad_body(response: httpx.Response, field: str | None = None) -> None:
    """A 400 for a body that is not JSON or has a wrongly typed field: production's body, and
    the hint header naming the field when one is at fault."""
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json() == {"error": BAD_BODY_MESSAGE}
    if field is not None:
        assert hint(response).startswith(f"field `{field}`:"), hint(response)
