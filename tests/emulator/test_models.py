"""Events and attempts keep their payload and header maps as the JSON they were stored as."""

from __future__ import annotations

import msgspec
import pytest

from emulator.models import Attempt, Event, raw_json
from emulator.storage import SegmentDecoder, segment_payload


def event() -> Event:
    return Event(
        key="evt1",
        env="env",
        app="app1",
        seq=1,
        uid="ev-1",
        event_type="user.signup",
        version="latest",
        topics=[],
        payload_json=raw_json({"user": "ü", "n": 1.5}),
        retention_period=0,
        created_at=1.0,
    )


def attempt() -> Attempt:
    return Attempt(
        key="eda_1",
        env="env",
        app="app1",
        seq=1,
        event="evt1",
        event_uid="ev-1",
        endpoint="ep1",
        endpoint_uid="ep-1",
        status=1,
        trigger_type=0,
        retry_count=0,
        scheduled_at=1.0,
    )


def test_a_payload_survives_a_segment_byte_for_byte_and_decodes_on_access() -> None:
    original = event()
    decoded = SegmentDecoder(Event)(segment_payload({1: original}))
    assert decoded is not None
    loaded = decoded[1]
    # Deliveries send these bytes: a restart must not change what is signed.
    assert bytes(loaded.payload_json) == bytes(original.payload_json)
    assert loaded.payload == {"user": "ü", "n": 1.5}
    assert loaded.to_wire()["payload"] == {"user": "ü", "n": 1.5}


def test_setting_a_payload_stores_its_json() -> None:
    record = event()
    record.payload = {"edited": True}
    assert bytes(record.payload_json) == b'{"edited":true}'
    assert record.payload == {"edited": True}


def test_header_maps_default_to_none_and_round_trip_through_a_journal_entry() -> None:
    record = attempt()
    assert record.request_headers is None and record.response_headers is None
    record.request_headers = {"Content-Type": "application/json"}
    record.response_headers = {}
    doc = msgspec.json.decode(msgspec.json.encode(record))
    assert doc["request_headers"] == {"Content-Type": "application/json"}
    again = Attempt.from_doc(doc)
    assert again.request_headers == {"Content-Type": "application/json"}
    assert again.response_headers == {}
    assert again.to_detail()["request_headers"] == {"Content-Type": "application/json"}


def test_a_stored_document_with_an_unknown_field_is_refused() -> None:
    doc = msgspec.json.decode(msgspec.json.encode(attempt()))
    doc["surprise"] = 1
    with pytest.raises(msgspec.ValidationError, match="surprise"):
        Attempt.from_doc(doc)
