"""Stored state: restart persistence through a real server, the TinyDB segment files, and what
loading does with records whose parents are gone."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tinydb import TinyDB

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.datadir import DataDirError
from emulator.repository import Repository
from emulator.server import EmulatorServer
from emulator.service import Service
from emulator.storage import SEGMENT_SIZE, TABLE
from emulator.validation import parse_application, parse_endpoint, parse_event
from tests.emulator.helpers import (
    create_app,
    create_endpoint,
    event_attempts,
    failing_hook,
    get_list,
    local_client,
    publish,
    settle,
)

COLLECTIONS = ("environments", "applications", "endpoints", "events", "attempts")


def start(data_dir: Path) -> EmulatorServer:
    return EmulatorServer(EmulatorConfig(data_dir=data_dir, port=0)).start()


def client(server: EmulatorServer, key: str) -> httpx.Client:
    return local_client(server.url, key)


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """Everything the API shows about one environment's data."""
    shown: dict[str, Any] = {"apps": get_list(api, "/v1/application", limit=150)}
    for app in shown["apps"]["data"]:
        base = f"/v1/application/{app['uid']}"
        shown[base] = get_list(api, f"{base}/endpoint", limit=150)
        for endpoint in shown[base]["data"]:
            path = f"{base}/endpoint/{endpoint['uid']}"
            shown[path + "/secret"] = api.get(path + "/secret").json()
            shown[path + "/event"] = get_list(api, path + "/event", limit=150)
            shown[path + "/delivery_attempt"] = get_list(api, path + "/delivery_attempt")
        events = get_list(api, f"{base}/event", limit=150)
        shown[f"{base}/event"] = events
        for event in events["data"]:
            path = f"{base}/event/{event['uid']}"
            shown[path] = api.get(path).json()
            shown[path + "/delivery_attempt"] = get_list(api, path + "/delivery_attempt")
            shown[path + "/endpoint"] = get_list(api, path + "/endpoint")
    return shown


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def keys() -> tuple[str, str]:
    return "sk_a_" + secrets.token_hex(8), "sk_b_" + secrets.token_hex(8)


def populate(api: httpx.Client) -> None:
    # No retries and no rate limit on "shop": once settled, no try is left to run.
    no_retry = {
        "type": "fixed_wait_with_deadline",
        "max_retries": 2,
        "retry_delay": 60,
        "deadline": 1,
    }
    create_app(api, "shop", retry_strategy=no_retry)
    create_app(api, "other", rate_limit=3)
    create_endpoint(
        api,
        "shop",
        "orders",
        description="d",
        filter_types=["order.created"],
        topics=["eu"],
        headers={"headers": {"X-A": "1"}, "sensitive": {"X-S": "s"}},
    )
    create_endpoint(api, "shop", "down", url=failing_hook(500))
    for i in range(3):
        publish(api, "shop", f"order-{i}", "order.created", topics=["eu"], payload={"i": i})
    publish(api, "other", "lonely")
    assert api.post("/v1/application/shop/endpoint/orders/secret", json={}).status_code == 204
    assert api.put("/v1/application/shop", json={"name": "Shop v2"}).status_code == 200
    settle(api)


def test_everything_survives_a_restart(data_dir: Path, keys: tuple[str, str]) -> None:
    first = start(data_dir)
    try:
        with client(first, keys[0]) as a, client(first, keys[1]) as b:
            populate(a)
            create_app(b, "b-app")
            before_a, before_b = snapshot(a), snapshot(b)
    finally:
        first.stop()
    assert before_a["/v1/application/shop/event/order-0/delivery_attempt"]["data"]

    second = start(data_dir)
    try:
        with client(second, keys[0]) as a, client(second, keys[1]) as b:
            assert snapshot(a) == before_a
            assert snapshot(b) == before_b
            # New records come after the old ones, and old uids are still taken.
            create_app(a, "newer")
            assert [x["uid"] for x in get_list(a, "/v1/application")["data"]] == [
                "shop",
                "other",
                "newer",
            ]
            assert a.post("/v1/application", json={"uid": "shop", "name": "x"}).status_code == 422
    finally:
        second.stop()


def test_deletes_survive_a_restart(data_dir: Path, keys: tuple[str, str]) -> None:
    first = start(data_dir)
    try:
        with client(first, keys[0]) as api:
            populate(api)
            assert api.delete("/v1/application/shop/endpoint/down").status_code == 204
            assert api.delete("/v1/application/other").status_code == 204
            before = snapshot(api)
    finally:
        first.stop()
    second = start(data_dir)
    try:
        with client(second, keys[0]) as api:
            assert snapshot(api) == before
            assert api.get("/v1/application/other").status_code == 404
            attempts = event_attempts(api, "shop", "order-0")
            assert {a["endpoint_id"] for a in attempts} == {"orders"}
    finally:
        second.stop()


def test_segment_files_are_tinydb_databases(data_dir: Path, keys: tuple[str, str]) -> None:
    server = start(data_dir)
    try:
        with client(server, keys[0]) as api:
            populate(api)
    finally:
        server.stop()
    counts = {}
    for name in COLLECTIONS:
        files = sorted((data_dir / name).glob("*.json"))
        assert [f.name for f in files] == ["00000000.json"], name
        with TinyDB(files[0]) as db:
            table = db.table(TABLE)
            counts[name] = len(table)
            for document in table.all():
                assert document["seq"] == document.doc_id
    assert counts["applications"] == 2
    assert counts["endpoints"] == 2
    assert counts["events"] == 4
    assert counts["attempts"] == 6  # one per routed pair (3 events x 2 endpoints)
    assert not list(data_dir.rglob("*.tmp"))
    # The API key itself is not what names the environment on disk.
    assert keys[0] not in json.dumps([p.name for p in data_dir.rglob("*")])


# --------------------------------------------------------------------------- repository level
def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.fixture
def service(data_dir: Path) -> Iterator[Service]:
    """A service over a repository on disk, without a server (commits flush synchronously)."""
    yield Service(Repository(data_dir, durable=False), Clock())


def make_tree(service: Service, key: str = "k") -> None:
    """An application with an endpoint and two events, each routed (one attempt each)."""
    app, _ = parse_application({"uid": "app", "name": "A"})
    run(service.create_application(key, app))
    endpoint, _ = parse_endpoint({"uid": "ep", "url": "https://e.io"}, creating=True)
    run(service.create_endpoint(key, "app", endpoint))
    for uid in ("ev-1", "ev-2"):
        event, _ = parse_event({"uid": uid, "event_type": "t", "payload": {}})
        run(service.publish(key, "app", event))


def counts(repo: Repository) -> dict[str, int]:
    return {name: len(getattr(repo, name).by_key) for name in COLLECTIONS}


def test_repository_reloads_what_it_wrote(service: Service, data_dir: Path) -> None:
    make_tree(service)
    loaded = Repository(data_dir)
    assert (
        counts(loaded)
        == counts(service.repo)
        == {
            "environments": 1,
            "applications": 1,
            "endpoints": 1,
            "events": 2,
            "attempts": 2,
        }
    )
    env = loaded.find_environment("k")
    assert env is not None
    app = loaded.app_by_uid[(env.key, "app")]
    assert [e.uid for e in loaded.events_of_app[app.key]] == ["ev-1", "ev-2"]
    endpoint = loaded.endpoint_by_uid[(app.key, "ep")]
    assert [e.uid for e in loaded.events_of_endpoint[endpoint.key]] == ["ev-1", "ev-2"]
    assert len(loaded.attempts_of_endpoint[endpoint.key]) == 2
    assert loaded.applications.next_seq == service.repo.applications.next_seq


def remove_files(data_dir: Path, collection: str) -> None:
    """Lose one collection's segment files (the journal is folded into segments first, as a
    clean shutdown leaves it, so nothing else still holds those records)."""
    assert not list(data_dir.glob("journal-*.log"))
    for file in (data_dir / collection).glob("*.json"):
        file.unlink()


def test_orphans_of_a_lost_application_are_dropped(service: Service, data_dir: Path) -> None:
    make_tree(service)
    service.repo.checkpoint_now()
    remove_files(data_dir, "applications")
    loaded = Repository(data_dir)
    assert counts(loaded) == {
        "environments": 1,
        "applications": 0,
        "endpoints": 0,
        "events": 0,
        "attempts": 0,
    }
    assert not loaded.endpoint_by_uid and not loaded.event_by_uid
    # The next checkpoint removes them from disk too.
    loaded.checkpoint_now()
    assert counts(Repository(data_dir))["endpoints"] == 0
    assert not list((data_dir / "events").glob("*.json"))


def test_attempts_of_a_lost_event_or_endpoint_are_dropped(service: Service, data_dir: Path) -> None:
    make_tree(service)
    service.repo.checkpoint_now()
    remove_files(data_dir, "events")
    loaded = Repository(data_dir)
    assert counts(loaded)["endpoints"] == 1
    assert counts(loaded)["attempts"] == 0
    assert not any(loaded.attempts_of_endpoint.values())


def test_attempts_of_a_lost_endpoint_are_dropped(service: Service, data_dir: Path) -> None:
    make_tree(service)
    service.repo.checkpoint_now()
    remove_files(data_dir, "endpoints")
    loaded = Repository(data_dir)
    assert counts(loaded)["events"] == 2
    assert counts(loaded)["attempts"] == 0
    # The events stay, routed to nothing that exists.
    assert not any(loaded.events_of_endpoint.values())


def test_applications_of_a_lost_environment_are_dropped(service: Service, data_dir: Path) -> None:
    make_tree(service)
    service.repo.checkpoint_now()
    remove_files(data_dir, "environments")
    loaded = Repository(data_dir)
    assert counts(loaded) == dict.fromkeys(COLLECTIONS, 0)


def test_collections_split_into_segments_and_writes_touch_only_theirs(
    service: Service, data_dir: Path
) -> None:
    app, _ = parse_application({"uid": "app", "name": "A"})
    run(service.create_application("k", app))
    total = SEGMENT_SIZE + 20

    async def publish_many() -> None:
        for i in range(total):
            event, _ = parse_event({"uid": f"e{i}", "event_type": "t", "payload": {"i": i}})
            await service.publish("k", "app", event)

    run(publish_many())
    # Commits went to the journal; a checkpoint folds it into the segment files.
    assert not list((data_dir / "events").glob("*.json"))
    service.repo.checkpoint_now()
    assert not list(data_dir.glob("journal-*.log"))
    files = sorted((data_dir / "events").glob("*.json"))
    assert [f.name for f in files] == ["00000000.json", "00000001.json"]
    with TinyDB(files[0]) as db:
        assert len(db.table(TABLE)) == SEGMENT_SIZE - 1  # seqs start at 1
    with TinyDB(files[1]) as db:
        assert len(db.table(TABLE)) == 21
    # Deleting an event of the first segment rewrites that file only.
    before = files[1].stat().st_ino, files[1].stat().st_mtime_ns
    repo = service.repo
    first = repo.events_of_app[repo.app_by_uid[(repo.find_environment("k").key, "app")].key][0]  # type: ignore[union-attr]
    repo.events.drop(first)
    repo.checkpoint_now()
    assert (files[1].stat().st_ino, files[1].stat().st_mtime_ns) == before
    reloaded = Repository(data_dir)
    assert len(reloaded.events.by_key) == total - 1
    uids = [e.uid for e in sorted(reloaded.events.by_key.values(), key=lambda e: e.seq)]
    assert uids == [f"e{i}" for i in range(1, total)]


def test_in_memory_repository_writes_nothing(tmp_path: Path) -> None:
    service = Service(Repository(None), Clock())
    make_tree(service)
    assert counts(service.repo)["events"] == 2
    assert list(tmp_path.iterdir()) == []


def test_commits_go_to_the_journal_and_survive_without_a_checkpoint(
    service: Service, data_dir: Path
) -> None:
    make_tree(service)
    journals = list(data_dir.glob("journal-*.log"))
    assert journals and not list((data_dir / "events").glob("*.json"))
    # A crash here (no clean shutdown): loading replays the journal.
    assert counts(Repository(data_dir))["events"] == 2


def test_a_torn_journal_end_loses_only_the_unfinished_append(
    service: Service, data_dir: Path
) -> None:
    make_tree(service)
    journal = sorted(data_dir.glob("journal-*.log"))[-1]
    with journal.open("ab") as handle:
        handle.write(b'{"c":"events","s":99,"d":{"key":"evt99"')  # cut short by a crash
    loaded = Repository(data_dir)
    assert counts(loaded)["events"] == 2
    assert "evt99" not in loaded.events.by_key


def test_a_checkpoint_replaces_the_journal_with_segment_files(
    service: Service, data_dir: Path
) -> None:
    make_tree(service)
    service.repo.checkpoint_now()
    assert not list(data_dir.glob("journal-*.log"))
    for file in data_dir.rglob("*.json"):
        with TinyDB(file) as db:
            assert db.table(TABLE).all()
    assert counts(Repository(data_dir)) == counts(service.repo)


# --------------------------------------------------------------------------- loading in order
def rewrite_segment(path: Path, edit: Any) -> None:
    """Replace a segment file's table of documents with ``edit(table)``."""
    stored = json.loads(path.read_bytes())
    stored[TABLE] = edit(stored[TABLE])
    path.write_text(json.dumps(stored))


def test_records_stored_out_of_order_load_in_seq_order(service: Service, data_dir: Path) -> None:
    """TinyDB writes doc ids in order, but a file edited by hand may not: the indexes (list
    pagination) are in seq order all the same."""
    make_tree(service)
    for uid in ("ev-3", "ev-4"):
        event, _ = parse_event({"uid": uid, "event_type": "t", "payload": {}})
        run(service.publish("k", "app", event))
    service.repo.checkpoint_now()
    for collection in ("events", "attempts"):
        rewrite_segment(
            data_dir / collection / "00000000.json", lambda table: dict(reversed(table.items()))
        )
    # An update replayed from the journal over the segment files keeps its place too.
    repo = Repository(data_dir, durable=False)
    second = repo.event_by_uid[(next(iter(repo.applications.by_key)), "ev-2")]
    second.payload = {"edited": True}
    repo.events.touch(second)
    repo.flush_now()
    loaded = Repository(data_dir)
    app_key = next(iter(loaded.applications.by_key))
    endpoint = loaded.endpoint_by_uid[(app_key, "ep")]
    uids = ["ev-1", "ev-2", "ev-3", "ev-4"]
    assert [e.uid for e in loaded.events_of_app[app_key]] == uids
    assert [e.uid for e in loaded.events_of_endpoint[endpoint.key]] == uids
    assert [a.event_uid for a in loaded.attempts_of_endpoint[endpoint.key]] == uids
    assert loaded.event_by_uid[(app_key, "ev-2")].payload == {"edited": True}
    assert loaded.events.next_seq == service.repo.events.next_seq


def test_records_stored_without_later_fields_or_in_another_order_load(
    service: Service, data_dir: Path
) -> None:
    """Documents as an older version wrote them (fields added since missing, others in
    another order) load like documents as stored now."""
    make_tree(service)
    service.repo.checkpoint_now()

    def older(table: dict[str, Any]) -> dict[str, Any]:
        for doc in table.values():
            del doc["chaos"]
        return {doc_id: dict(sorted(doc.items())) for doc_id, doc in table.items()}

    rewrite_segment(data_dir / "attempts" / "00000000.json", older)
    loaded = Repository(data_dir)
    attempts = sorted(loaded.attempts.by_key.values(), key=lambda a: a.seq)
    expected = sorted(service.repo.attempts.by_key.values(), key=lambda a: a.seq)
    assert attempts == expected and all(a.chaos is None for a in attempts)


def test_a_record_with_an_unknown_field_stops_the_load(service: Service, data_dir: Path) -> None:
    make_tree(service)
    service.repo.checkpoint_now()
    segment = data_dir / "events" / "00000000.json"

    def with_unknown(table: dict[str, Any]) -> dict[str, Any]:
        last = list(table)[-1]
        table[last]["colour"] = "blue"
        return table

    rewrite_segment(segment, with_unknown)
    with pytest.raises(DataDirError) as error:
        Repository(data_dir)
    message = str(error.value)
    assert message.startswith(f"{segment} holds a record ")
    assert "that is not valid (ValidationError: " in message and "`colour`" in message
    assert "\n" not in message
