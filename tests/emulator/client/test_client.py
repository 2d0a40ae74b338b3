"""``emulator.client`` as a whole: the clients, their settings, the public names, and that the
SDK imports nothing of the server."""

from __future__ import annotations

import pytest

from emulator.client import SimplyQ


def test_client_basics(emulator_url: str, api_key: str) -> None:
    with SimplyQ(api_key, emulator_url + "/v1/") as client:
        assert client.base_url == emulator_url and client.api_key == api_key
        # uids "." and ".." are valid and must not be eaten by URL normalisation.
        client.applications.create({"uid": "..", "name": "Dots"})
        assert client.applications.retrieve("..")["name"] == "Dots"
        with pytest.raises(ValueError):
            client.applications.retrieve("")
