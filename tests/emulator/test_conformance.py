"""Replays every exchange recorded from production (``reference/recorded/*.http``)
against the emulator and compares the answers' shape: status code, the set of JSON keys at
every level (list items too), the JSON type of every value, empty bodies and Content-Type.
Values (ids, timestamps) are not compared: they differ from run to run.

Each recording is either replayed (REPLAYS) or skipped with a reason (SKIPPED); a test checks
that, so a new recording cannot be silently ignored.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.server import EmulatorServer
from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    event_attempts,
    hook,
    local_client,
    settle,
)
from tests.reference import RECORDED

# Keys the emulator sends beyond what production recorded: the ONE list, with the reason.
# (recording name pattern, JSON path of the extra key) -> why it is there.
DELIBERATE_EXTRA_KEYS: dict[tuple[str, str], str] = {
    ("GetApplications.200", "$.done"): "the reference's application list shows `done`; "
    "FIDELITY.md keeps it, equal to not has_more",
}

SKIPPED: dict[str, str] = {
    # FIDELITY.md: its body is a list, a mislabelled capture of GetApplications (already
    # covered by GetApplications.200), not an answer to POST /v1/application.
    "PostApplication.200": "mislabelled capture of GetApplications (FIDELITY.md)",
}


# --------------------------------------------------------------------------- recordings
@dataclass(frozen=True)
class Recording:
    name: str
    status: int
    headers: dict[str, str]  # lower-cased names
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def parse_recording(path: Path) -> Recording:
    text = path.read_text().replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    status_line, *header_lines = head.split("\n")
    version, status, _ = status_line.split(" ", 2)
    assert version == "HTTP/1.1", path
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Recording(path.name.removesuffix(".http"), int(status), headers, body.strip())


def recordings() -> list[Recording]:
    found = sorted(RECORDED.glob("*.http"))
    assert found, f"no recordings in {RECORDED}"
    return [parse_recording(path) for path in found]


# --------------------------------------------------------------------------- replays
# The recordings' data, rebuilt in a fresh environment.
PAYLOAD = {"type": "sample.event", "data": {"shard": 2, "client": "ruby"}}
APP = "/v1/application/fixture-1"
EP = f"{APP}/endpoint/fixture-edp-1"


def fixture_app(api: httpx.Client) -> None:
    create_app(api, "fixture-1", name="Fixture app")


def fixture_endpoint(api: httpx.Client) -> None:
    fixture_app(api)
    create_endpoint(api, "fixture-1", **endpoint_body())


def endpoint_body() -> dict[str, Any]:
    return {
        "uid": "fixture-edp-1",
        "url": hook("fixture-edp-1"),
        "version": "latest",
        "description": "This endpoints was created as part of developing client fixtures",
        "filter_types": ["fixture.created", "fixture.updated"],
        "topics": ["ruby-client"],
        "rate_limit": 2,
        "headers": {"headers": {"X-CUSTOM": "test"}, "sensitive": {"X-KEY": "hidden"}},
    }


def event_body(uid: str, topics: list[str]) -> dict[str, Any]:
    return {"uid": uid, "event_type": "fixture.created", "topics": topics, "payload": PAYLOAD}


def delivered_event(api: httpx.Client) -> str:
    """The fixture endpoint with one event delivered to it (the receiver answers 200, "")."""
    fixture_endpoint(api)
    response = api.post(f"{APP}/event", json=event_body("fixture-event-1", ["ruby-client"]))
    assert response.status_code == 201
    settle(api)
    [attempt] = event_attempts(api, "fixture-1", "fixture-event-1")
    return str(attempt["id"])


def publish_fixture_events(api: httpx.Client, *uids: str) -> None:
    for uid in uids:
        assert api.post(f"{APP}/event", json=event_body(uid, ["a"])).status_code == 201


Replay = Callable[[httpx.Client, EmulatorServer], httpx.Response]


def _get_applications_200(api: httpx.Client, server: EmulatorServer) -> httpx.Response:
    create_app(api, "test-app-11", name="Application Test 11")
    create_app(
        api,
        "fixture-1",
        name="Fixture app (Updated)",
        retry_strategy={"type": "fixed_wait", "max_retries": 10},
    )
    return api.get("/v1/application")


def _get_applications_401(api: httpx.Client, server: EmulatorServer) -> httpx.Response:
    with local_client(server.url) as anonymous:
        return anonymous.get("/v1/application")


def _then(setup: Callable[[httpx.Client], Any], method: str, path: str, body: Any = None) -> Replay:
    """Run ``setup`` in the fresh environment, then send one request."""

    def replay(api: httpx.Client, server: EmulatorServer) -> httpx.Response:
        setup(api)
        if isinstance(body, bytes):
            return api.request(method, path, content=body)
        return api.request(method, path, json=body() if callable(body) else body)

    return replay


def _nothing(api: httpx.Client) -> None:
    pass


def _get_delivery_attempt_200(api: httpx.Client, server: EmulatorServer) -> httpx.Response:
    attempt = delivered_event(api)
    return api.get(f"{APP}/event/fixture-event-1/delivery_attempt/{attempt}/")


REPLAYS: dict[str, Replay] = {
    "DeleteApplication.204": _then(fixture_app, "DELETE", APP),
    "DeleteApplication.404": _then(_nothing, "DELETE", APP),
    "DeleteEndpoint.204": _then(fixture_endpoint, "DELETE", EP),
    "DeleteEndpoint.404": _then(fixture_app, "DELETE", EP),
    "GetApplication.200": _then(
        lambda api: create_app(api, "test-app-11", name="Application Test 11"),
        "GET",
        "/v1/application/test-app-11",
    ),
    "GetApplication.404": _then(_nothing, "GET", "/v1/application/test-app-11"),
    "GetApplications.200": _get_applications_200,
    "GetApplications.401": _get_applications_401,
    "GetAttemptedEndpoints.200": _then(delivered_event, "GET", f"{EP}/event"),
    "GetDeliveryAttempt.200": _get_delivery_attempt_200,
    "GetEndpoint.200": _then(fixture_endpoint, "GET", EP),
    "GetEndpoint.404": _then(fixture_app, "GET", EP),
    "GetEndpointDeliveryAttempts.200": _then(delivered_event, "GET", f"{EP}/delivery_attempt"),
    "GetEndpointSecret.200": _then(fixture_endpoint, "GET", f"{EP}/secret"),
    "GetEndpointSecret.404": _then(fixture_app, "GET", f"{EP}/secret"),
    "GetEndpoints.200": _then(fixture_endpoint, "GET", f"{APP}/endpoint"),
    "GetEvent.200": _then(
        lambda api: (fixture_app(api), publish_fixture_events(api, "fixture-event-1")),
        "GET",
        f"{APP}/event/fixture-event-1",
    ),
    "GetEventDeliveryAttempts.200": _then(
        delivered_event, "GET", f"{APP}/event/fixture-event-1/delivery_attempt"
    ),
    "GetEventEndpoints.200": _then(delivered_event, "GET", f"{APP}/event/fixture-event-1/endpoint"),
    "GetEvents.200": _then(
        lambda api: (
            fixture_app(api),
            publish_fixture_events(api, "fixture-event-1", "fixture-event-2"),
        ),
        "GET",
        f"{APP}/event",
    ),
    "PostApplication.201": _then(
        _nothing, "POST", "/v1/application", {"uid": "fixture-1", "name": "Fixture app"}
    ),
    "PostApplication.422": _then(
        fixture_app, "POST", "/v1/application", {"uid": "fixture-1", "name": "Fixture app"}
    ),
    "PostEndpoint.201": _then(fixture_app, "POST", f"{APP}/endpoint", endpoint_body),
    "PostEndpoint.400": _then(
        fixture_app, "POST", f"{APP}/endpoint", {"url": hook(), "rate_limit": "2"}
    ),
    "PostEndpoint.422": _then(fixture_endpoint, "POST", f"{APP}/endpoint", endpoint_body),
    "PostEndpointRecover.202": _then(
        delivered_event, "POST", f"{EP}/recover", {"since": "2022-10-30T07:00:00+00:00"}
    ),
    "PostEndpointRecover.400": _then(
        fixture_endpoint, "POST", f"{EP}/recover", {"since": "not a date"}
    ),
    "PostEndpointRecover.404": _then(
        fixture_app, "POST", f"{EP}/recover", {"since": "2022-10-30T07:00:00+00:00"}
    ),
    "PostEndpointSecretRotate.204": _then(fixture_endpoint, "POST", f"{EP}/secret", {}),
    "PostEndpointSecretRotate.400": _then(
        fixture_endpoint, "POST", f"{EP}/secret", {"key": ["not", "a", "string"]}
    ),
    "PostEndpointSecretRotate.404": _then(fixture_app, "POST", f"{EP}/secret", {}),
    "PostEvent.201": _then(
        fixture_app, "POST", f"{APP}/event", event_body("fixture-event-2", ["a"])
    ),
    "PostEvent.404": _then(_nothing, "POST", f"{APP}/event", event_body("fixture-event-2", ["a"])),
    "PostEvent.422": _then(
        lambda api: (fixture_app(api), publish_fixture_events(api, "fixture-event-1")),
        "POST",
        f"{APP}/event",
        event_body("fixture-event-1", ["a"]),
    ),
    "PostEventRetry.202": _then(delivered_event, "POST", f"{EP}/event/fixture-event-1"),
    "PutApplication.200": _then(
        fixture_app,
        "PUT",
        APP,
        {
            "name": "Fixture app (Updated)",
            "retry_strategy": {"type": "fixed_wait", "max_retries": 10},
        },
    ),
    "PutApplication.404": _then(_nothing, "PUT", APP, {"name": "Fixture app (Updated)"}),
    "PutApplication.422": _then(
        fixture_app, "PUT", APP, {"name": "Fixture app", "retry_strategy": {"type": "linear"}}
    ),
    "PutEndpoint.200": _then(fixture_endpoint, "PUT", EP, {"rate_limit": 101}),
}


# --------------------------------------------------------------------------- shape comparison
def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    assert isinstance(value, dict)
    return "object"


def extra_key_allowed(recording: str, path: str) -> bool:
    return any(
        fnmatch.fnmatchcase(recording, pattern) and path == extra
        for pattern, extra in DELIBERATE_EXTRA_KEYS
    )


def shape_differences(recording: str, recorded: Any, actual: Any, path: str = "$") -> list[str]:
    """Every difference of keys or JSON types between two JSON values, by path."""
    if json_type(recorded) != json_type(actual):
        return [f"{path}: recorded {json_type(recorded)}, emulator {json_type(actual)}"]
    problems: list[str] = []
    if isinstance(recorded, dict):
        for key in recorded.keys() - actual.keys():
            problems.append(f"{path}.{key}: missing")
        for key in actual.keys() - recorded.keys():
            if not extra_key_allowed(recording, f"{path}.{key}"):
                problems.append(f"{path}.{key}: not in the recording")
        for key in recorded.keys() & actual.keys():
            problems += shape_differences(recording, recorded[key], actual[key], f"{path}.{key}")
    elif isinstance(recorded, list):
        if len(recorded) != len(actual):
            problems.append(f"{path}: {len(recorded)} items recorded, {len(actual)} sent")
        for index, (old, new) in enumerate(zip(recorded, actual, strict=False)):
            problems += shape_differences(recording, old, new, f"{path}[{index}]")
    return problems


def test_shape_comparison_catches_differences() -> None:
    """The comparison itself must be able to fail."""
    recorded = {"data": [{"a": 1, "b": "x"}], "has_more": False}
    assert shape_differences("X.200", recorded, recorded) == []
    assert shape_differences("X.200", recorded, {**recorded, "has_more": "false"}) == [
        "$.has_more: recorded boolean, emulator string"
    ]
    assert shape_differences("X.200", recorded, {"data": [{"a": 1}], "has_more": False}) == [
        "$.data[0].b: missing"
    ]
    assert shape_differences("X.200", recorded, {**recorded, "done": True}) == [
        "$.done: not in the recording"
    ]
    assert shape_differences("GetApplications.200", recorded, {**recorded, "done": True}) == []
    assert shape_differences("X.200", {"n": 1}, {"n": 1.5}) == [
        "$.n: recorded integer, emulator number"
    ]
    assert shape_differences("X.200", {"n": [1]}, {"n": []}) == ["$.n: 1 items recorded, 0 sent"]


# --------------------------------------------------------------------------- the tests
def test_every_recording_is_replayed_or_skipped_with_a_reason() -> None:
    names = {recording.name for recording in recordings()}
    assert names == REPLAYS.keys() | SKIPPED.keys(), (
        f"not covered: {sorted(names - REPLAYS.keys() - SKIPPED.keys())}; "
        f"no such recording: {sorted((REPLAYS.keys() | SKIPPED.keys()) - names)}"
    )
    assert not REPLAYS.keys() & SKIPPED.keys()
    assert all(reason.strip() for reason in SKIPPED.values())
    # Every allowed extra key applies to some replayed recording (no stale entries).
    for pattern, _ in DELIBERATE_EXTRA_KEYS:
        assert fnmatch.filter(sorted(REPLAYS), pattern), pattern


def test_skipped_recording_is_really_a_list() -> None:
    recording = parse_recording(RECORDED / "PostApplication.200.http")
    assert set(recording.json) == {"data", "has_more"}


@pytest.mark.parametrize("recording", recordings(), ids=lambda r: r.name)
def test_replay_matches_recording(
    recording: Recording, api: httpx.Client, server: EmulatorServer
) -> None:
    if recording.name in SKIPPED:
        pytest.skip(SKIPPED[recording.name])
    response = REPLAYS[recording.name](api, server)

    assert response.status_code == recording.status, response.text
    if not recording.body:
        assert response.content == b""
    else:
        assert shape_differences(recording.name, recording.json, response.json()) == []
    if "content-type" in recording.headers:
        assert response.headers.get("content-type") == recording.headers["content-type"]
    else:
        assert "content-type" not in response.headers
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining"):
        assert (name in response.headers) == (name in recording.headers), name
    if "x-ratelimit-limit" in recording.headers:
        assert response.headers["x-ratelimit-limit"] == recording.headers["x-ratelimit-limit"]
    # Recorded error bodies are fixed texts: those must match exactly, except the extra keys.
    if recording.status in (400, 404, 422):
        sent = {
            k: v
            for k, v in response.json().items()
            if not extra_key_allowed(recording.name, f"$.{k}")
        }
        assert sent == recording.json
