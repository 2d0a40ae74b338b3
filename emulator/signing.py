"""Webhook signing exactly as SimplyQ production does it, plus a verifier for receivers.

A delivery carries two headers: ``X-Simplyq-Timestamp`` (Unix seconds) and
``X-Simplyq-Signature``, a comma-separated list with one signature per active
secret (newest first).  Each signature is the standard base64 of
HMAC-SHA256(secret, str(timestamp) + body), keyed with the whole secret string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets as _secrets
import string
import time
from collections.abc import Mapping, Sequence

TIMESTAMP_HEADER = "X-Simplyq-Timestamp"
SIGNATURE_HEADER = "X-Simplyq-Signature"
DEFAULT_TOLERANCE = 300

# Use ``fullmatch``: with ``match``, ``$`` would also accept a trailing newline.
SECRET_PATTERN = re.compile(r"^whsec_[a-zA-Z0-9]{64}$")
ROTATION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")

_SECRET_ALPHABET = string.ascii_letters + string.digits
_INTEGER = re.compile(r"-?[0-9]+")


class WebhookVerificationError(Exception):
    """Raised when a webhook's headers or signature do not check out."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the base64 HMAC-SHA256 signature of ``timestamp`` + ``body`` under ``secret``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """Return the signature header value: one signature per secret, in order, joined by ","."""
    return ",".join(sign(secret, timestamp, body) for secret in secrets)


def signed_headers(secrets: Sequence[str], timestamp: int, body: bytes) -> dict[str, str]:
    """Return the timestamp and signature headers for a delivery of ``body``."""
    signature = signature_header(secrets, timestamp, body)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature}


def _required(headers: Mapping[str, str], name: str) -> str:
    # httpx/werkzeug header objects are case-insensitive already; plain dicts are not.
    value = headers.get(name)
    if value is not None:
        return value
    for key, item in headers.items():
        if key.lower() == name.lower():
            return item
    raise WebhookVerificationError(f"missing {name} header")


def _parse(headers: Mapping[str, str]) -> tuple[int, list[bytes]]:
    raw_timestamp = _required(headers, TIMESTAMP_HEADER)
    raw_signatures = _required(headers, SIGNATURE_HEADER)
    # Stricter than int(), which would also accept "1_700" or non-ASCII digits.
    if not _INTEGER.fullmatch(raw_timestamp.strip()):
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} header is not an integer: {raw_timestamp!r}"
        )
    signatures = [part.strip().encode() for part in raw_signatures.split(",") if part.strip()]
    return int(raw_timestamp), signatures


def _secret_matches(secret: str, timestamp: int, body: bytes, signatures: list[bytes]) -> bool:
    expected = sign(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def verify(
    secret: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a received webhook and return its timestamp.

    Accepts when any signature in the header matches any of the given secrets
    and, unless ``tolerance`` is None, the timestamp is within ``tolerance``
    seconds of ``now`` (default: the current time).  Header names are matched
    case-insensitively.  Raises WebhookVerificationError otherwise.
    """
    timestamp, signatures = _parse(headers)
    if tolerance is not None:
        skew = (time.time() if now is None else now) - timestamp
        if skew > tolerance:
            raise WebhookVerificationError(
                f"timestamp too old: {math.ceil(skew)} seconds old (tolerance {tolerance} s)"
            )
        if -skew > tolerance:
            raise WebhookVerificationError(
                f"timestamp too far in the future: {math.ceil(-skew)} seconds ahead "
                f"(tolerance {tolerance} s)"
            )
    candidates = [secret] if isinstance(secret, str) else list(secret)
    if not any(_secret_matches(s, timestamp, body, signatures) for s in candidates):
        raise WebhookVerificationError("no matching signature")
    return timestamp


def matching_secret_index(
    secrets: Sequence[str], headers: Mapping[str, str], body: bytes
) -> int | None:
    """Return the index of the first secret that produced one of the signatures, or None.

    The timestamp's age is ignored; missing or malformed headers give None.
    """
    try:
        timestamp, signatures = _parse(headers)
    except WebhookVerificationError:
        return None
    for index, secret in enumerate(secrets):
        if _secret_matches(secret, timestamp, body, signatures):
            return index
    return None


def generate_secret() -> str:
    """Return a new endpoint secret: ``"enps_"`` followed by 32 random letters and digits."""
    return "enps_" + "".join(_secrets.choice(_SECRET_ALPHABET) for _ in range(32))
