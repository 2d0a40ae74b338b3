"""Seed files (emulator/seed.py): checking them, applying them on start-up idempotently, the
control route, ``serve --seed``'s errors and the export -> reset -> serve --seed round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.cli import run
from emulator.seed import SeedError, parse_seed, read_seed_file
from emulator.server import EmulatorServer
from tests.emulator.delivery_helpers import Env, emulator_config

SECRET = "whsec_" + "a" * 64
OTHER_SECRET = "whsec_" + "b" * 64
KEY = "sk_test_seeded"


def document(**endpoint: Any) -> dict[str, Any]:
    fields = {"uid": "orders", "url": "http://127.0.0.1:9/hook", "secret": SECRET, **endpoint}
    return {
        "environments": [
            {
                "api_key": KEY,
                "applications": [
                    {
                        "uid": "shop",
                        "name": "My shop",
                        "retry_strategy": {"type": "fixed_wait", "retry_delay": 7},
                        "endpoints": [fields],
                    }
                ],
            }
        ]
    }


def write(tmp_path: Path, data: object, name: str = "seed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


# --------------------------------------------------------------------------- checking
@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        ({"url": "ftp://x"}, "environments[0].applications[0].endpoints[0].url", "http"),
        ({"uid": None}, "environments[0].applications[0].endpoints[0].uid", "required"),
        ({"secret": "white space"}, "environments[0].applications[0].endpoints[0].secret", "255"),
        (
            {"filter_types": "a"},
            "environments[0].applications[0].endpoints[0].filter_types",
            "array",
        ),
    ],
)
def test_a_bad_entry_is_named_by_its_path(change: dict[str, Any], path: str, problem: str) -> None:
    with pytest.raises(SeedError) as caught:
        parse_seed(document(**change))
    assert caught.value.path == path
    assert problem in caught.value.problem


def test_structure_errors_name_where() -> None:
    with pytest.raises(SeedError, match=r"^environments: must be a list"):
        parse_seed({"environments": {}})
    with pytest.raises(SeedError, match=r"environments\[0\]\.api_key"):
        parse_seed({"environments": [{"applications": []}]})
    with pytest.raises(SeedError, match="unknown key: apps"):
        parse_seed({"apps": []})
    twice = document()
    twice["environments"][0]["applications"] *= 2
    with pytest.raises(SeedError, match="'shop' is listed twice"):
        parse_seed(twice)


def test_a_good_document_parses_with_its_fixed_secret() -> None:
    seed = parse_seed(document())
    (env,) = seed.environments
    assert env.api_key == KEY
    assert env.applications[0].endpoints[0].data.secret == SECRET


def test_reading_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(SeedError, match=r"broken\.json: not valid JSON"):
        read_seed_file(bad)
    with pytest.raises(SeedError, match=r"missing\.json: cannot read it"):
        read_seed_file(tmp_path / "missing.json")
    wrong = write(tmp_path, document(url=""), "wrong.json")
    with pytest.raises(SeedError, match=r"wrong\.json: environments\[0\].*\.url: URL must be"):
        read_seed_file(wrong)


def test_a_yaml_seed_file_when_pyyaml_is_installed(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(document()))
    assert read_seed_file(path) == parse_seed(document())


# --------------------------------------------------------------------------- start-up
def seeded_server(tmp_path: Path, seed: Path) -> EmulatorServer:
    return EmulatorServer(emulator_config(data_dir=tmp_path / "data", seed_file=seed))


def test_serve_with_a_seed_creates_it_and_a_restart_does_not_duplicate(tmp_path: Path) -> None:
    seed = write(tmp_path, document())
    for _ in range(2):
        with seeded_server(tmp_path, seed) as server:
            env = Env(server.url, KEY)
            try:
                assert [a["uid"] for a in env._list("/v1/application")] == ["shop"]
                app = env.http.get("/v1/application/shop").json()
                assert app["retry_strategy"]["type"] == "fixed_wait"
                assert [e["uid"] for e in env._list("/v1/application/shop/endpoint")] == ["orders"]
                assert env.secret("shop", "orders") == SECRET
                counts = env.http.get("/_emulator/health").json()["counts"]
                assert (counts["applications"], counts["endpoints"]) == (1, 1)
            finally:
                env.close()
            report = server.app.state.emulator.seed_report  # type: ignore[attr-defined]
        assert report is not None
    # The second start found everything as the file says.
    assert report.summary() == "0 created, 0 updated, 2 unchanged"


def test_a_changed_file_updates_what_differs(tmp_path: Path) -> None:
    with seeded_server(tmp_path, write(tmp_path, document())):
        pass
    changed = write(tmp_path, document(url="http://127.0.0.1:9/new", secret=OTHER_SECRET))
    with seeded_server(tmp_path, changed) as server:
        env = Env(server.url, KEY)
        try:
            endpoint = env.http.get("/v1/application/shop/endpoint/orders").json()
            assert endpoint["url"] == "http://127.0.0.1:9/new"
            assert env.secret("shop", "orders") == OTHER_SECRET
        finally:
            env.close()
        report = server.app.state.emulator.seed_report  # type: ignore[attr-defined]
    assert report.changes == [("unchanged", "sk_test_…/shop"), ("updated", "sk_test_…/shop/orders")]


def test_the_control_route_seeds_one_environment(tmp_path: Path) -> None:
    with EmulatorServer(emulator_config()) as server:
        env = Env(server.url)
        try:
            answer = env.http.post("/_emulator/seed", params={"api_key": env.key}, json=document())
            assert answer.status_code == 200, answer.text
            assert (answer.json()["created"], answer.json()["unchanged"]) == (2, 0)
            assert env.secret("shop", "orders") == SECRET
            again = env.http.post("/_emulator/seed", params={"api_key": env.key}, json=document())
            assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
            # The environment the file names was not touched: the api_key given replaced it.
            assert Env(server.url, KEY)._list("/v1/application") == []
            bad = env.http.post("/_emulator/seed", json=document(url="nope"))
            assert bad.status_code == 422
            field = "environments[0].applications[0].endpoints[0].url"
            assert bad.json()["errors"][0]["field"] == field
        finally:
            env.close()


# --------------------------------------------------------------------------- the command line
def test_serve_with_a_bad_seed_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = write(tmp_path, document(secret="white space"))
    assert run(["serve", "--in-memory", "--port", "0", "--seed", str(seed)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(seed) in err
    assert "environments[0].applications[0].endpoints[0].secret" in err
    assert "Traceback" not in err


def test_export_reset_serve_seed_round_trip(tmp_path: Path) -> None:
    exported = tmp_path / "state.json"
    data = tmp_path / "data"
    with EmulatorServer(emulator_config(data_dir=data)) as server:
        env = Env(server.url, KEY)
        try:
            env.app("shop", retry_strategy={"type": "exponential_backoff", "max_retries": 4})
            env.app("billing")
            env.endpoint("shop", "orders", "http://127.0.0.1:9/a", filter_types=["order.paid"])
            env.endpoint("shop", "audit", "http://127.0.0.1:9/b", headers={"X-Team": "core"})
            env.endpoint("billing", "invoices", "http://127.0.0.1:9/c", secret=SECRET)
            before = snapshot(env)
            assert run(["export", "--url", server.url, "--api-key", KEY, "-o", str(exported)]) == 0
            env.reset()
            assert env._list("/v1/application") == []
        finally:
            env.close()
    with seeded_server(tmp_path, exported) as server:
        env = Env(server.url, KEY)
        try:
            assert snapshot(env) == before
        finally:
            env.close()


def snapshot(env: Env) -> dict[str, Any]:
    """Applications and endpoints as the API shows them (times aside), with secrets."""
    state: dict[str, Any] = {}
    for app in env._list("/v1/application"):
        endpoints = {}
        for endpoint in env._list(f"/v1/application/{app['uid']}/endpoint"):
            shown = {k: v for k, v in endpoint.items() if k not in ("created_at", "updated_at")}
            endpoints[endpoint["uid"]] = {
                **shown,
                "secret": env.secret(app["uid"], endpoint["uid"]),
            }
        shown_app = {k: v for k, v in app.items() if k not in ("created_at", "updated_at")}
        state[app["uid"]] = {**shown_app, "endpoints": endpoints}
    return state


def test_with_api_keys_an_environment_key_seeds_only_its_own() -> None:
    keys = frozenset({KEY, "sk_other"})
    with EmulatorServer(emulator_config(api_keys=keys, admin_key="sk_admin")) as server:
        env = Env(server.url, "sk_other")
        try:
            # Without ?api_key= the file's own environments are meant: the admin key's to seed.
            assert env.http.post("/_emulator/seed", json=document()).status_code == 403
            own = env.http.post("/_emulator/seed", params={"api_key": "sk_other"}, json=document())
            assert own.status_code == 200, own.text
            assert env.secret("shop", "orders") == SECRET
        finally:
            env.close()
