"""``simplyq.seed(...)``: a seed file's applications and endpoints in a test's own environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_plugin import SimplyQEnvironment

SECRET = "whsec_" + "c" * 64
DOCUMENT = {
    "environments": [
        {
            "api_key": "sk_test_someone_else",
            "applications": [
                {
                    "uid": "shop",
                    "name": "Shop",
                    "endpoints": [
                        {"uid": "orders", "url": "http://127.0.0.1:9/hook", "secret": SECRET}
                    ],
                }
            ],
        }
    ]
}


def test_a_seed_file_lands_in_the_tests_environment(
    simplyq: SimplyQEnvironment, tmp_path: Path
) -> None:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(DOCUMENT))
    assert simplyq.seed(path)["created"] == 2
    assert simplyq.client.endpoints.retrieve_secret("shop", "orders") == SECRET
    # Idempotent: seeding again creates nothing.
    assert simplyq.seed(DOCUMENT)["unchanged"] == 2


def test_a_broken_seed_file_is_a_clear_error(simplyq: SimplyQEnvironment, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("[1,")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        simplyq.seed(path)
