"""For receivers: check a delivery's signature headers and read its payload.

Built on ``emulator.signing`` (standard library only), which signs exactly as production.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from emulator.signing import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookHeaders",
    "WebhookVerificationError",
    "construct_event",
    "verify_signature",
]

WebhookHeaders: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Received headers: a mapping (httpx, Starlette, Django) or ``(name, value)`` pairs
(werkzeug/Flask ``request.headers``). Names are matched case-insensitively."""


def _header_mapping(headers: WebhookHeaders) -> Mapping[str, str]:
    return headers if isinstance(headers, Mapping) else dict(headers)


def verify_signature(
    secret: str | Sequence[str],
    headers: WebhookHeaders,
    body: bytes,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a delivery's ``X-Simplyq-Signature`` and ``X-Simplyq-Timestamp`` headers and
    return its timestamp (``emulator.signing.verify``).

    Passes when any signature matches any of the given secrets (several during a rotation)
    and, unless ``tolerance`` is None, the timestamp is within ``tolerance`` seconds of ``now``
    (default: the current time). Raises ``WebhookVerificationError`` otherwise.
    """
    return verify(secret, _header_mapping(headers), body, tolerance=tolerance, now=now)


def construct_event(
    body: bytes | str,
    headers: WebhookHeaders,
    secret: str | Sequence[str],
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a received delivery and return its JSON payload.

    ``body`` must be the raw bytes received (the signature covers exactly them); ``secret`` may
    be several (during a rotation). ``tolerance`` is the accepted timestamp age in seconds;
    None skips that check, e.g. for a stored payload replayed later. Raises
    ``WebhookVerificationError`` when the signature, the timestamp or the JSON do not check out.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    verify_signature(secret, headers, raw, tolerance, now)
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise WebhookVerificationError(f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return payload
