"""``emulator.client`` as a whole: the clients, their settings, the public names, and that the
SDK imports nothing of the server."""

from __future__ import annotations

import inspect
import subprocess
import sys

import httpx
import pytest

import emulator.client as sdk
from emulator.client import AsyncSimplyQ, SimplyQ


def test_client_basics(emulator_url: str, api_key: str) -> None:
    with SimplyQ(api_key, emulator_url + "/v1/") as client:
        assert client.base_url == emulator_url and client.api_key == api_key
        # uids "." and ".." are valid and must not be eaten by URL normalisation.
        client.applications.create({"uid": "..", "name": "Dots"})
        assert client.applications.retrieve("..")["name"] == "Dots"
        with pytest.raises(ValueError):
            client.applications.retrieve("")


def test_an_empty_key_sends_no_authorization_header() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={"data": [], "has_more": False})

    for key in ("sk_1", ""):
        with SimplyQ(key, transport=httpx.MockTransport(handler)) as client:
            client.applications.list()
    assert seen == ["Bearer sk_1", None]


@pytest.mark.anyio
async def test_async_bad_arguments_raise_when_awaited(emulator_url: str, api_key: str) -> None:
    async with AsyncSimplyQ(api_key, emulator_url) as client:
        pending = client.applications.retrieve("")  # nothing raised yet, as for any coroutine
        with pytest.raises(ValueError, match="cannot be empty"):
            await pending
        with pytest.raises(TypeError, match="unknown list parameter"):
            await client.events.list("app", limt=3)  # type: ignore[call-arg]


def test_methods_show_the_callers_arguments(client: SimplyQ) -> None:
    # help() and IDEs see the operation's own arguments and docstring on both faces.
    assert list(inspect.signature(client.events.retry).parameters) == ["app", "endpoint", "event"]
    assert list(inspect.signature(client.events.list).parameters) == ["app", "params"]
    assert client.events.retry.__doc__ and "PostEventRetry" in client.events.retry.__doc__
    assert AsyncSimplyQ("k").emulator.advance.__name__ == "advance"


# Every name ``emulator.client`` exported when it was one module; users import them.
FORMER_EXPORTS = [
    "DEFAULT_BASE_URL",
    "MAX_PAGES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "APIConnectionError",
    "APITimeoutError",
    "Application",
    "AsyncChangeStream",
    "AsyncEmulatorControl",
    "AsyncPage",
    "AsyncSimplyQ",
    "AttemptDetail",
    "AttemptStatus",
    "AuthenticationError",
    "BadRequestError",
    "Change",
    "ChangeStream",
    "ClockState",
    "ConflictError",
    "DeliveryAttempt",
    "EmulatorControl",
    "EmulatorEnvironment",
    "Endpoint",
    "EndpointHeaders",
    "Event",
    "FieldError",
    "Health",
    "ListParams",
    "NotFoundError",
    "Page",
    "RateLimitError",
    "RetryStrategy",
    "SimplyQ",
    "SimplyQError",
    "TriggerType",
    "ValidationError",
    "WebhookHeaders",
    "WebhookVerificationError",
    "construct_event",
    "verify_signature",
    "ClockUpdate",
]


def test_public_names() -> None:
    assert set(FORMER_EXPORTS) <= set(sdk.__all__)
    missing = [name for name in sdk.__all__ if not hasattr(sdk, name)]
    assert missing == []


def test_the_sdk_imports_nothing_of_the_server() -> None:
    code = "import sys, emulator.client; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    ours = {name for name in loaded if name == "emulator" or name.startswith("emulator.")}
    assert {n for n in ours if not n.startswith("emulator.client")} == {
        "emulator",
        "emulator.signing",
    }
    assert not {"starlette", "uvicorn", "tinydb", "textual"} & set(loaded)
