"""What the publish form holds: the event to publish, kept between two uses of the form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DEFAULT_PAYLOAD = '{\n  "message": "hello from the dashboard"\n}'


@dataclass(frozen=True)
class PublishForm:
    """What the form holds; ``body()`` is the API request body."""

    api_key: str
    app: str
    event_type: str = "test.event"
    topics: str = ""
    payload: str = DEFAULT_PAYLOAD
    uid: str = ""

    def body(self) -> dict[str, Any]:
        """The event to publish (ValueError when the payload is not a JSON object)."""
        payload = json.loads(self.payload or "{}")
        if not isinstance(payload, dict):
            raise ValueError("the payload must be a JSON object")
        body: dict[str, Any] = {"event_type": self.event_type, "payload": payload}
        topics = [t.strip() for t in self.topics.split(",") if t.strip()]
        if topics:
            body["topics"] = topics
        if self.uid.strip():
            body["uid"] = self.uid.strip()
        return body
