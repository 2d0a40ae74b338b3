from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import httpx
import pytest
from werkzeug.datastructures import Headers

from emulator.signing import (
    DEFAULT_TOLERANCE,
    ROTATION_KEY_PATTERN,
    SECRET_PATTERN,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    generate_secret,
    matching_secret_index,
    sign,
    signature_header,
    signed_headers,
    verify,
)

SECRET = "whsec_" + "a1B2" * 16
OLD_SECRET = "enps_" + "Z9" * 16
BODY = b'{"event_type":"user.created","data":{"id":1}}'
TS = 1_700_000_000


def reference_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}".encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def test_constants() -> None:
    assert TIMESTAMP_HEADER == "X-Simplyq-Timestamp"
    assert SIGNATURE_HEADER == "X-Simplyq-Signature"
    assert DEFAULT_TOLERANCE == 300


def test_sign_matches_independent_hmac() -> None:
    assert sign(SECRET, TS, BODY) == reference_signature(SECRET, TS, BODY)


def test_sign_uses_whole_secret_including_prefix() -> None:
    bare = SECRET.removeprefix("whsec_")
    assert sign(SECRET, TS, BODY) != reference_signature(bare, TS, BODY)


def test_sign_is_padded_standard_base64() -> None:
    signature = sign(SECRET, TS, BODY)
    assert len(signature) == 44 and signature.endswith("=")
    assert len(base64.b64decode(signature, validate=True)) == 32


def test_sign_has_no_separator_between_timestamp_and_body() -> None:
    # "1" + "23body" and "12" + "3body" sign the same bytes.
    assert sign(SECRET, 1, b"23body") == sign(SECRET, 12, b"3body")


def test_signature_header_one_per_secret_in_order() -> None:
    header = signature_header([SECRET, OLD_SECRET], TS, BODY)
    expected = [reference_signature(SECRET, TS, BODY), reference_signature(OLD_SECRET, TS, BODY)]
    assert header == ",".join(expected)
    assert " " not in header


def test_signed_headers() -> None:
    assert signed_headers([SECRET], TS, BODY) == {
        "X-Simplyq-Timestamp": str(TS),
        "X-Simplyq-Signature": reference_signature(SECRET, TS, BODY),
    }


def test_verify_accepts_correct_signature_and_returns_timestamp() -> None:
    assert verify(SECRET, signed_headers([SECRET], TS, BODY), BODY, now=TS) == TS


def test_verify_rejects_wrong_secret() -> None:
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(OLD_SECRET, signed_headers([SECRET], TS, BODY), BODY, now=TS)


def test_verify_rejects_altered_body() -> None:
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, signed_headers([SECRET], TS, BODY), BODY + b" ", now=TS)


def test_verify_rejects_altered_timestamp() -> None:
    headers = signed_headers([SECRET], TS, BODY)
    headers[TIMESTAMP_HEADER] = str(TS + 1)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, headers, BODY, now=TS)


def test_verify_tolerance_boundaries() -> None:
    headers = signed_headers([SECRET], TS, BODY)
    assert verify(SECRET, headers, BODY, now=TS + 300) == TS
    assert verify(SECRET, headers, BODY, now=TS - 300) == TS
    assert verify(SECRET, headers, BODY, now=TS + 10, tolerance=10) == TS


def test_verify_rejects_stale_timestamp() -> None:
    headers = signed_headers([SECRET], TS, BODY)
    with pytest.raises(WebhookVerificationError, match=r"too old: 301 seconds"):
        verify(SECRET, headers, BODY, now=TS + 301)


def test_verify_rejects_timestamp_too_far_in_future() -> None:
    headers = signed_headers([SECRET], TS, BODY)
    with pytest.raises(WebhookVerificationError, match=r"too far in the future: 301 seconds"):
        verify(SECRET, headers, BODY, now=TS - 301)


def test_verify_accepts_stale_when_tolerance_is_none() -> None:
    headers = signed_headers([SECRET], TS, BODY)
    assert verify(SECRET, headers, BODY, tolerance=None, now=TS + 10 * 365 * 86400) == TS


def test_verify_defaults_now_to_current_time() -> None:
    headers = signed_headers([SECRET], TS, BODY)  # TS is long past
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(SECRET, headers, BODY)


def test_verify_accepts_when_second_signature_matches() -> None:
    headers = signed_headers([SECRET, OLD_SECRET], TS, BODY)
    assert verify(OLD_SECRET, headers, BODY, now=TS) == TS


def test_verify_accepts_any_of_several_secrets() -> None:
    headers = signed_headers([OLD_SECRET], TS, BODY)
    assert verify([SECRET, OLD_SECRET], headers, BODY, now=TS) == TS
    assert verify((OLD_SECRET,), headers, BODY, now=TS) == TS
    with pytest.raises(WebhookVerificationError):
        verify([], headers, BODY, now=TS)


def test_verify_strips_spaces_around_signatures() -> None:
    signature = reference_signature(SECRET, TS, BODY)
    headers = {TIMESTAMP_HEADER: str(TS), SIGNATURE_HEADER: f"bogus , {signature} "}
    assert verify(SECRET, headers, BODY, now=TS) == TS


@pytest.mark.parametrize("transform", [str.lower, str.upper, str.swapcase, str])
def test_verify_plain_dict_headers_any_case(transform: Callable[[str], str]) -> None:
    headers = {transform(k): v for k, v in signed_headers([SECRET], TS, BODY).items()}
    assert verify(SECRET, headers, BODY, now=TS) == TS


def test_verify_httpx_and_werkzeug_headers() -> None:
    lowered = {k.lower(): v for k, v in signed_headers([SECRET], TS, BODY).items()}
    assert verify(SECRET, httpx.Headers(lowered), BODY, now=TS) == TS
    assert verify(SECRET, Headers(lowered), BODY, now=TS) == TS  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", [TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_verify_rejects_missing_header(missing: str) -> None:
    headers = signed_headers([SECRET], TS, BODY)
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match=f"missing {missing} header"):
        verify(SECRET, headers, BODY, now=TS)


@pytest.mark.parametrize("value", ["", "abc", "1700000000.5", "1_700_000_000", "١٢"])
def test_verify_rejects_non_integer_timestamp(value: str) -> None:
    headers = {TIMESTAMP_HEADER: value, SIGNATURE_HEADER: sign(SECRET, TS, BODY)}
    with pytest.raises(WebhookVerificationError, match="not an integer"):
        verify(SECRET, headers, BODY, now=TS)


def test_verify_rejects_empty_or_garbage_signature() -> None:
    for value in ["", ",", "é", "v1,whsec_x"]:
        headers = {TIMESTAMP_HEADER: str(TS), SIGNATURE_HEADER: value}
        with pytest.raises(WebhookVerificationError, match="no matching signature"):
            verify(SECRET, headers, BODY, now=TS)


def test_matching_secret_index() -> None:
    headers = signed_headers([OLD_SECRET], TS, BODY)
    assert matching_secret_index([SECRET, OLD_SECRET], headers, BODY) == 1
    both = signed_headers([SECRET, OLD_SECRET], TS, BODY)
    assert matching_secret_index([SECRET, OLD_SECRET], both, BODY) == 0
    assert matching_secret_index(["enps_other"], headers, BODY) is None
    assert matching_secret_index([OLD_SECRET], headers, b"altered") is None


def test_matching_secret_index_ignores_age_and_bad_headers() -> None:
    headers = {k.lower(): v for k, v in signed_headers([SECRET], 0, BODY).items()}
    assert matching_secret_index([SECRET], headers, BODY) == 0
    assert matching_secret_index([SECRET], {}, BODY) is None
    bad = {TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: sign(SECRET, TS, BODY)}
    assert matching_secret_index([SECRET], bad, BODY) is None


def test_generate_secret() -> None:
    secret = generate_secret()
    assert secret.startswith("enps_")
    suffix = secret.removeprefix("enps_")
    assert len(suffix) == 32 and suffix.isascii() and suffix.isalnum()
    assert len({generate_secret() for _ in range(100)}) == 100


def test_generated_secret_round_trips() -> None:
    secret = generate_secret()
    assert verify(secret, signed_headers([secret], TS, BODY), BODY, now=TS) == TS


def test_secret_pattern() -> None:
    assert SECRET_PATTERN.fullmatch("whsec_" + "aZ9" * 21 + "x")
    assert not SECRET_PATTERN.fullmatch("whsec_" + "a" * 63)
    assert not SECRET_PATTERN.fullmatch("whsec_" + "a" * 65)
    assert not SECRET_PATTERN.fullmatch("enps_" + "a" * 64)
    assert not SECRET_PATTERN.fullmatch("whsec_" + "a" * 63 + "-")
    assert not SECRET_PATTERN.fullmatch("whsec_" + "a" * 64 + "\n")


def test_rotation_key_pattern() -> None:
    for key in ["a", "whsec_" + "a" * 64, "my-key_2", "enps_ABC"]:
        assert ROTATION_KEY_PATTERN.fullmatch(key)
    for key in ["", "has space", "dot.key", "plus+", "ключ"]:
        assert not ROTATION_KEY_PATTERN.fullmatch(key)
