"""A fixed emulator behind an ``httpx.MockTransport``: the same answers every run, so the
dashboard's snapshots do not depend on ids, times or signatures made at run time.

Only what the dashboard asks for is answered: health, environments, the change stream (open,
silent), the application, its endpoints, events and attempts, attempt details and secrets.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx

from emulator.signing import signed_headers

ENV = "env_demo"
API_KEY = "sk_test_emulator"
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()
NOW = START + 300
SECRET = "whsec_" + "Zk3" * 21 + "Q"
ENDPOINTS: list[dict[str, Any]] = [
    {"uid": "orders", "url": "http://127.0.0.1:9000/webhooks/orders", "rate_limit": 10},
    {"uid": "billing", "url": "http://127.0.0.1:9000/webhooks/billing", "rate_limit": None},
    {"uid": "legacy", "url": "http://127.0.0.1:9001/hook", "rate_limit": None, "active": False},
]
TYPES = ["order.created", "order.paid", "user.signup", "invoice.failed"]


def stamp(unix: float) -> str:
    return datetime.fromtimestamp(int(unix), tz=timezone.utc).isoformat()


def endpoint(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": data["uid"],
        "url": data["url"],
        "version": "1",
        "description": None,
        "filter_types": [],
        "topics": [],
        "active": data.get("active", True),
        "rate_limit": data["rate_limit"],
        "headers": {"headers": {}, "sensitive": False},
        "created_at": stamp(START - 3600),
        "updated_at": stamp(START - 3600),
    }


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events, attempt details) of 14 events, delivered, failing and retried."""
    events, attempts = [], []
    for i in range(14):
        created = START + i * 17
        event = {
            "uid": f"evte_2fK9x{i:02d}Qm7LbT4wYc8vNd3sRh",
            "event_type": TYPES[i % len(TYPES)],
            "version": "1",
            "topics": ["eu"] if i % 3 else ["us", "vip"],
            "payload": {"order": 1000 + i, "amount": 25 * (i + 1), "currency": "EUR"},
            "retention_period": 30,
            "created_at": stamp(created),
        }
        events.append(event)
        targets = ["orders", "billing"] if i % 2 == 0 else ["orders"]
        for target in targets:
            failing = target == "billing" or i in (5, 13)
            tries = 3 if failing else 1
            for n in range(tries):
                at = created + (0, 30, 210)[n]  # the default schedule: +30 s, then +3 min
                pending = failing and n == tries - 1
                attempts.append(
                    attempt(
                        event,
                        target,
                        i,
                        n,
                        at,
                        "pending" if pending else "fail" if failing else "ok",
                    )
                )
    return events, attempts


def attempt(
    event: dict[str, Any], target: str, i: int, n: int, at: float, outcome: str
) -> dict[str, Any]:
    body = json.dumps(event["payload"], separators=(",", ":")).encode()
    url = next(e["url"] for e in ENDPOINTS if e["uid"] == target)
    sent = outcome != "pending"
    headers = {
        "User-Agent": "simplyq-emulator/0.1.0",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        **signed_headers([SECRET], int(at), body),
    }
    code = {"ok": 200, "fail": 500, "pending": 0}[outcome]
    return {
        "id": f"eda_2fK9x{i:02d}{target[:2]}{n}Pq4ZrW8nLs5tVb0",
        "event_id": event["uid"],
        "endpoint_id": target,
        "response": {
            "ok": '{"received":true}',
            "fail": "Traceback: KeyError 'customer'",
            "pending": None,
        }[outcome],
        "response_status_code": code,
        "status": {"ok": "0", "fail": "3", "pending": "1"}[outcome],
        "trigger_type": "0",
        "retry_count": n,
        "attempted_at": stamp(at) if sent else None,
        "scheduled_at": stamp(at),
        "endpoint_url": url,
        "request_headers": headers if sent else None,
        "response_headers": (
            {"content-type": "application/json", "content-length": "17"}
            if outcome == "ok"
            else {"content-type": "text/plain", "x-request-id": f"req_{i:04d}"}
            if sent
            else None
        ),
        "duration_ms": {"ok": 12.4, "fail": 230.0, "pending": None}[outcome],
        "app_id": "shop",
        "payload": event["payload"],
    }


def wire(detail: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "event_id",
        "endpoint_id",
        "response",
        "response_status_code",
        "status",
        "trigger_type",
        "retry_count",
        "attempted_at",
    )
    return {k: detail[k] for k in keys}


async def _silence() -> AsyncIterator[bytes]:
    yield b"retry: 1000\n: connected\n\n"
    await asyncio.Event().wait()


def transport(*, stream: bool = True) -> httpx.MockTransport:
    """The fixed emulator; ``stream=False``: one without the change stream (404)."""
    events, attempts = build()
    details = {a["id"]: a for a in attempts}
    due = min(
        datetime.fromisoformat(a["scheduled_at"]).timestamp()
        for a in attempts
        if a["status"] == "1"
    )
    clock = {
        "now": stamp(NOW),
        "unix": NOW,
        "time_scale": 1.0,
        "next_due": stamp(due),
        "next_due_unix": due,
    }

    def page(data: list[dict[str, Any]]) -> httpx.Response:
        return httpx.Response(200, json={"data": data, "has_more": False})

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/_emulator/health":
            return httpx.Response(
                200,
                json={
                    "status": "ok",
                    "version": "0.1.0",
                    "in_memory": True,
                    "data_dir": None,
                    "clock": clock,
                    "deliveries": len(attempts),
                    "counts": {
                        "environments": 1,
                        "applications": 1,
                        "endpoints": 3,
                        "events": len(events),
                        "attempts": len(attempts),
                    },
                },
            )
        if path == "/_emulator/clock":
            return httpx.Response(200, json=clock)
        if path == "/_emulator/environments":
            return httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "id": ENV,
                            "api_key": API_KEY,
                            "created_at": stamp(START - 7200),
                            "applications": ["shop"],
                        }
                    ]
                },
            )
        if path == "/_emulator/stream" and stream:
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=_silence()
            )
        if match := re.fullmatch(r"/_emulator/attempts/(.+)", path):
            return httpx.Response(200, json=details[match[1]])
        if path == "/v1/application/shop":
            return httpx.Response(
                200,
                json={
                    "uid": "shop",
                    "name": "Webshop",
                    "rate_limit": 0,
                    "retry_strategy": {
                        "type": "base_exponential_backoff_with_deadline",
                        "max_retries": 0,
                        "retry_delay": 0,
                        "deadline": 0,
                    },
                    "created_at": stamp(START - 7200),
                    "updated_at": stamp(START - 7200),
                },
            )
        if path == "/v1/application/shop/endpoint":
            return page([endpoint(e) for e in ENDPOINTS])
        if path == "/v1/application/shop/event":
            return page(events)
        if match := re.fullmatch(r"/v1/application/shop/endpoint/(\w+)/delivery_attempt", path):
            return page([wire(a) for a in attempts if a["endpoint_id"] == match[1]])
        if re.fullmatch(r"/v1/application/shop/endpoint/\w+/secret", path):
            return httpx.Response(200, json={"key": SECRET})
        return httpx.Response(404, json={"error": "Resource not found", "code": 404})

    return httpx.MockTransport(handle)
