"""The signature check of a delivery: which secret signed it and how old its timestamp is.

Built on ``emulator.client.verify_signature`` only. The body is rebuilt from the payload the
way the emulator serializes it (compact JSON, UTF-8); its length is compared with the
``Content-Length`` that was sent, so a rebuild that differs is reported, not hidden.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.client import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify_signature,
)

TOLERANCE = 300
"""The timestamp tolerance receivers use by default (seconds)."""


def delivery_body(payload: Mapping[str, Any] | None) -> bytes:
    """The bytes the emulator POSTs for a payload (compact JSON)."""
    return json.dumps(payload or {}, separators=(",", ":"), ensure_ascii=False).encode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def secret_hint(secret: str) -> str:
    """A secret shown without giving it away: ``whsec_…x7Qa``."""
    prefix = secret.split("_", 1)[0] + "_" if "_" in secret else ""
    return f"{prefix}…{secret[-4:]}"


@dataclass
class SignatureCheck:
    """The outcome of checking one delivery's signature headers."""

    timestamp: int | None
    signatures: list[str]
    matches: list[bool] = field(default_factory=list)
    secret: str | None = None
    body_rebuilt: bool = True
    sent_skew: float | None = None
    age: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def matching_index(self) -> int | None:
        """Which signature (0-based) the current secret made, if any."""
        return self.matches.index(True) if True in self.matches else None

    @property
    def ok(self) -> bool:
        """The current secret verifies it (ignoring the timestamp's age)."""
        return self.matching_index is not None

    @property
    def too_old(self) -> bool:
        """A receiver checking now, with the default tolerance, would reject it as stale."""
        return self.age is not None and abs(self.age) > TOLERANCE


def check_signature(
    headers: Mapping[str, str] | None,
    payload: Mapping[str, Any] | None,
    secret: str | None,
    *,
    attempted_at: float | None,
    now: float | None,
) -> SignatureCheck:
    """Check a delivery's headers against the endpoint's current secret.

    ``attempted_at`` is when the try was made and ``now`` the emulator's time (both unix
    seconds): the timestamp's skew from the first and its age at the second are reported.
    """
    headers = headers or {}
    raw_timestamp = _header(headers, TIMESTAMP_HEADER)
    raw_signatures = _header(headers, SIGNATURE_HEADER)
    check = SignatureCheck(timestamp=None, signatures=[], secret=secret)
    if raw_timestamp is None or raw_signatures is None:
        check.problems.append("the delivery carries no signature headers (it was never sent)")
        return check
    try:
        check.timestamp = int(raw_timestamp.strip())
    except ValueError:
        check.problems.append(f"{TIMESTAMP_HEADER} is not an integer: {raw_timestamp!r}")
        return check
    check.signatures = [s.strip() for s in raw_signatures.split(",") if s.strip()]
    body = delivery_body(payload)
    sent_length = _header(headers, "Content-Length")
    if sent_length is not None and sent_length.isdigit() and int(sent_length) != len(body):
        check.body_rebuilt = False
        check.problems.append(
            f"the payload re-serialized to {len(body)} bytes, {sent_length} were sent: "
            "the check below may be wrong"
        )
    if attempted_at is not None:
        check.sent_skew = check.timestamp - attempted_at
    if now is not None:
        check.age = now - check.timestamp
    if secret is None:
        check.problems.append("the endpoint's secret could not be read")
        return check
    for signature in check.signatures:
        one = {TIMESTAMP_HEADER: str(check.timestamp), SIGNATURE_HEADER: signature}
        try:
            verify_signature(secret, one, body, tolerance=None)
        except WebhookVerificationError:
            check.matches.append(False)
        else:
            check.matches.append(True)
    if not check.ok:
        check.problems.append(
            "no signature matches the endpoint's current secret: it was rotated after this "
            "delivery (older secrets cannot be read through the API)"
        )
    return check
