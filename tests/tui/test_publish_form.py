"""The publish form's request body."""

from __future__ import annotations

import pytest

from tui.publish_form import PublishForm


def test_the_body_has_the_payload_topics_and_uid_given() -> None:
    form = PublishForm("sk", "shop", "order.paid", " eu, ,vip ", '{"id": 7}', " ev_1 ")
    assert form.body() == {
        "event_type": "order.paid",
        "payload": {"id": 7},
        "topics": ["eu", "vip"],
        "uid": "ev_1",
    }
    assert PublishForm("sk", "shop", payload="").body() == {
        "event_type": "test.event",
        "payload": {},
    }


@pytest.mark.parametrize("payload", ["[1, 2]", "{not json"])
def test_a_payload_that_is_not_a_json_object_is_refused(payload: str) -> None:
    with pytest.raises(ValueError):
        PublishForm("sk", "shop", payload=payload).body()
