"""Request bodies and query strings, checked by the reference's rules.

Two kinds of failure, as production reports them: wrong JSON *types* raise ``BadBody`` (400,
every one named, see ``emulator.bodies``); a well-typed but invalid *value* becomes a
``FieldError``, returned beside the parsed input: the HTTP edge raises them (422) once it knows
the resources named exist, since production answers a missing one (404) first. ``None`` always
means "not given".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from emulator.bodies import Body, Fields
from emulator.errors import BadBody, FieldError
from emulator.retry import STRATEGY_TYPES
from emulator.signing import ROTATION_KEY_PATTERN, SECRET_PATTERN
from emulator.timestamps import parse_timestamp

IDENTIFIER = re.compile(r"^[a-zA-Z0-9\-_.]+$")
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Visible ASCII, spaces, tabs and any non-ASCII text: never CR, LF, NUL or other controls, and
# no space or tab at either end (HTTP cannot carry those: every delivery would fail).
HEADER_VALUE = re.compile(
    r"^(?:[\x21-\x7e\x80-\U0010ffff](?:[\t\x20-\x7e\x80-\U0010ffff]*[\x21-\x7e\x80-\U0010ffff])?)?$"
)
RESERVED_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "content-type",
        "x-simplyq-signature",
        "x-simplyq-timestamp",
    }
)
MAX_URL_LENGTH = 2048
MAX_IDENTIFIER_LENGTH = 255
MAX_TOPICS = 5
MAX_HEADERS = 10
MAX_HEADER_VALUE_LENGTH = 4096
MAX_LIST_ITEMS = 100
MAX_TEXT_LENGTH = 4096
LIMIT_RANGE = (1, 150)
# A retry schedule must stay within dates the emulator can show (and its clock can reach), and a
# failing endpoint must not be retried without end.
MAX_RETRY_DELAY = 365 * 86400
MAX_RETRIES = 1000
DEFAULT_LIMIT = 50
DATE_TIME_EXAMPLE = "an RFC 3339 date-time such as 2022-10-29T03:20:14Z"
IDENTIFIER_RULE = "must be 1 to 255 letters, digits, '-', '_' or '.'"


# --------------------------------------------------------------------------- value rules
def check_identifier(value: str | None, field: str, errors: list[FieldError]) -> None:
    if value is not None and (
        not 0 < len(value) <= MAX_IDENTIFIER_LENGTH or not IDENTIFIER.fullmatch(value)
    ):
        errors.append(FieldError(field, f"{field} {IDENTIFIER_RULE}"))


def check_identifier_list(
    values: list[str] | None, field: str, errors: list[FieldError], *, max_items: int
) -> None:
    if values is None:
        return
    if len(values) > max_items:
        errors.append(FieldError(field, f"{field} can have at most {max_items} items"))
    elif len(set(values)) != len(values):
        errors.append(FieldError(field, f"{field} must not repeat an item"))
    elif any(
        not 0 < len(v) <= MAX_IDENTIFIER_LENGTH or not IDENTIFIER.fullmatch(v) for v in values
    ):
        errors.append(FieldError(field, f"each of {field} {IDENTIFIER_RULE}"))


def check_url(url: str | None, errors: list[FieldError], *, required: bool) -> None:
    if url is None:
        if required:
            errors.append(FieldError("url", "URL is required"))
        return
    problem = None
    if not url or len(url) > MAX_URL_LENGTH:
        problem = f"URL must be 1 to {MAX_URL_LENGTH} characters"
    elif any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        problem = "URL must not contain spaces or control characters"
    else:
        try:
            parts = urlsplit(url)
            port = parts.port  # raises on a bad port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            problem = "URL must be an absolute http or https URL"
        del port
    if problem:
        errors.append(FieldError("url", problem))


def check_non_negative(value: int | None, field: str, errors: list[FieldError]) -> None:
    if value is not None and value < 0:
        errors.append(FieldError(field, f"{field} must not be negative"))


# --------------------------------------------------------------------------- applications
@dataclass(frozen=True)
class RetryStrategyInput:
    type: str | None = None
    max_retries: int | None = None
    retry_delay: int | None = None
    deadline: int | None = None


@dataclass(frozen=True)
class ApplicationInput:
    uid: str | None
    name: str | None
    rate_limit: int | None
    retry_strategy: RetryStrategyInput | None


def parse_application(body: Body) -> tuple[ApplicationInput, list[FieldError]]:
    """An application body (create or update: ``name`` is required by both)."""
    errors: list[FieldError] = []
    fields = Fields(body)
    uid = fields.text("uid")
    name = fields.text("name")
    rate_limit = fields.integer("rate_limit")
    strategy_fields = fields.nested("retry_strategy")
    strategy = None
    if strategy_fields is not None:
        strategy = RetryStrategyInput(
            type=strategy_fields.text("type"),
            max_retries=strategy_fields.integer("max_retries"),
            retry_delay=strategy_fields.integer("retry_delay"),
            deadline=strategy_fields.integer("deadline"),
        )
    fields.check()
    check_identifier(uid, "uid", errors)
    if name is None or not name.strip():
        errors.append(FieldError("name", "Name is required"))
    elif len(name) > MAX_TEXT_LENGTH:
        errors.append(FieldError("name", f"name must be at most {MAX_TEXT_LENGTH} characters"))
    check_non_negative(rate_limit, "rate_limit", errors)
    if strategy is not None:
        if strategy.type is not None and strategy.type not in STRATEGY_TYPES:
            errors.append(FieldError("type", "Type is invalid"))
        for field in ("max_retries", "retry_delay", "deadline"):
            check_non_negative(getattr(strategy, field), field, errors)
        if strategy.max_retries is not None and strategy.max_retries > MAX_RETRIES:
            errors.append(FieldError("max_retries", f"max_retries must be at most {MAX_RETRIES}"))
        if strategy.retry_delay is not None and strategy.retry_delay > MAX_RETRY_DELAY:
            message = f"retry_delay must be at most {MAX_RETRY_DELAY} seconds (365 days)"
            errors.append(FieldError("retry_delay", message))
    return ApplicationInput(uid, name, rate_limit, strategy), errors


# --------------------------------------------------------------------------- endpoints
@dataclass(frozen=True)
class EndpointInput:
    uid: str | None
    url: str | None
    version: str | None
    description: str | None
    filter_types: list[str] | None
    topics: list[str] | None
    active: bool | None
    rate_limit: int | None
    headers: dict[str, str] | None
    sensitive_headers: dict[str, str] | None
    secret: str | None


def _check_headers(value: dict[str, str] | None, field: str, errors: list[FieldError]) -> None:
    if value is None:
        return
    if len(value) > MAX_HEADERS:
        errors.append(FieldError(field, f"at most {MAX_HEADERS} headers"))
    for header, header_value in value.items():
        if not HEADER_NAME.fullmatch(header):
            errors.append(FieldError(field, f"{header!r} is not a valid header name"))
        elif header.lower() in RESERVED_HEADERS:
            errors.append(FieldError(field, f"{header} is set by the emulator and cannot be given"))
        elif (
            not HEADER_VALUE.fullmatch(header_value) or len(header_value) > MAX_HEADER_VALUE_LENGTH
        ):
            errors.append(
                FieldError(field, f"the value of {header} must be one line of printable text")
            )


def parse_endpoint(body: Body, *, creating: bool) -> tuple[EndpointInput, list[FieldError]]:
    """An endpoint body; ``url`` is required only when creating."""
    errors: list[FieldError] = []
    fields = Fields(body)
    uid = fields.text("uid")
    url = fields.text("url")
    version = fields.text("version")
    description = fields.text("description")
    filter_types = fields.strings("filter_types")
    topics = fields.strings("topics")
    active = fields.boolean("active")
    rate_limit = fields.integer("rate_limit")
    secret = fields.text("secret")
    headers = sensitive = None
    header_fields = fields.nested("headers")
    if header_fields is not None:
        headers = header_fields.string_map("headers")
        # Responses show "sensitive" as a boolean; a client echoing it back changes nothing.
        if not isinstance(header_fields.body.get("sensitive"), bool):
            sensitive = header_fields.string_map("sensitive")
    fields.check()
    _check_headers(headers, "headers.headers", errors)
    _check_headers(sensitive, "headers.sensitive", errors)
    check_identifier(uid, "uid", errors)
    check_url(url, errors, required=creating)
    check_identifier(version, "version", errors)
    if description is not None and len(description) > MAX_TEXT_LENGTH:
        errors.append(FieldError("description", f"at most {MAX_TEXT_LENGTH} characters"))
    check_identifier_list(filter_types, "filter_types", errors, max_items=MAX_LIST_ITEMS)
    check_identifier_list(topics, "topics", errors, max_items=MAX_TOPICS)
    if rate_limit is not None and rate_limit < 1:
        errors.append(FieldError("rate_limit", "rate_limit must be at least 1"))
    if secret is not None and not SECRET_PATTERN.fullmatch(secret):
        errors.append(
            FieldError("secret", "secret must be whsec_ followed by 64 letters or digits")
        )
    return (
        EndpointInput(
            uid,
            url,
            version,
            description,
            filter_types,
            topics,
            active,
            rate_limit,
            headers,
            sensitive,
            secret,
        ),
        errors,
    )


def parse_rotation_key(body: Body) -> str | None:
    """The optional new key of a secret rotation; a bad one is a 400, as recorded."""
    fields = Fields(body)
    key = fields.text("key")
    fields.check()
    if key is not None and (
        len(key) > MAX_IDENTIFIER_LENGTH or not ROTATION_KEY_PATTERN.fullmatch(key)
    ):
        raise BadBody.for_field(
            "key", f"must be 1 to {MAX_IDENTIFIER_LENGTH} letters, digits, `_` or `-`"
        )
    return key


def parse_since(body: Body) -> float:
    """The ``since`` of a recover request; missing or unparseable is a 400."""
    fields = Fields(body)
    since = fields.text("since")
    fields.check()
    if since is None:
        raise BadBody.for_field("since", f"is required: {DATE_TIME_EXAMPLE}")
    try:
        return parse_timestamp(since)
    except ValueError:
        raise BadBody.for_field("since", f"not {DATE_TIME_EXAMPLE}") from None


# --------------------------------------------------------------------------- events
@dataclass(frozen=True)
class EventInput:
    uid: str | None
    event_type: str | None
    version: str | None
    topics: list[str] | None
    payload: dict[str, Any] | None
    retention_period: int | None


def parse_event(body: Body) -> tuple[EventInput, list[FieldError]]:
    errors: list[FieldError] = []
    fields = Fields(body)
    uid = fields.text("uid")
    event_type = fields.text("event_type")
    version = fields.text("version")
    topics = fields.strings("topics")
    payload = fields.object("payload")
    retention_period = fields.integer("retention_period")
    fields.check()
    check_identifier(uid, "uid", errors)
    if event_type is None:
        errors.append(FieldError("event_type", "event_type is required"))
    else:
        check_identifier(event_type, "event_type", errors)
    check_identifier(version, "version", errors)
    check_identifier_list(topics, "topics", errors, max_items=MAX_LIST_ITEMS)
    if payload is None:
        errors.append(FieldError("payload", "payload is required"))
    if retention_period is not None and retention_period != 0 and not 5 <= retention_period <= 90:
        errors.append(
            FieldError("retention_period", "retention_period must be 0 (default) or 5 to 90 days")
        )
    return EventInput(uid, event_type, version, topics, payload, retention_period), errors


# --------------------------------------------------------------------------- list queries
@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
    before: float | None = None
    after: float | None = None
    event_types: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    status: int | None = None
    response_status_code: int | None = None


def query_list(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    """An array parameter given as ``k=a&k=b``, ``k[]=a`` or ``k=a,b``."""
    values: list[str] = []
    for raw in (*params.get(name, ()), *params.get(name + "[]", ())):
        for item in raw.split(","):
            item = item.strip()
            if item and item not in values:
                values.append(item)
    return tuple(values)


def _last(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _ascii_int(raw: str) -> int | None:
    """A whole number written in ASCII digits only: ``int()`` would also take " 5", "+5", "1_0"
    and other scripts' digits ("٣")."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def _query_int(
    params: Mapping[str, Sequence[str]], name: str, allowed: Sequence[int], errors: list[FieldError]
) -> int | None:
    raw = _last(params, name)
    if raw is None or raw == "":
        return None
    value = _ascii_int(raw)
    if value is None or value not in allowed:
        shown = ", ".join(str(a) for a in allowed)
        errors.append(FieldError(name, f"{name} must be one of {shown}"))
        return None
    return value


def parse_list_query(params: Mapping[str, Sequence[str]]) -> tuple[ListQuery, list[FieldError]]:
    """Pagination, time bounds and filters of a list request (a bad one keeps its default)."""
    errors: list[FieldError] = []
    limit = DEFAULT_LIMIT
    raw_limit = _last(params, "limit")
    if raw_limit is not None:
        limit = _ascii_int(raw_limit) or 0
        if not LIMIT_RANGE[0] <= limit <= LIMIT_RANGE[1]:
            errors.append(FieldError("limit", "limit must be a whole number from 1 to 150"))
            limit = DEFAULT_LIMIT
    bounds: dict[str, float | None] = {"before": None, "after": None}
    for name in bounds:
        raw = _last(params, name)
        if raw:
            try:
                bounds[name] = parse_timestamp(raw)
            except ValueError:
                errors.append(FieldError(name, f"{name} must be an RFC 3339 date-time"))
    starting_after = _last(params, "starting_after") or _last(params, "start_after") or None
    ending_before = _last(params, "ending_before") or None
    if starting_after and ending_before:
        errors.append(
            FieldError("ending_before", "ending_before cannot be combined with starting_after")
        )
    return ListQuery(
        limit=limit,
        starting_after=starting_after,
        ending_before=ending_before,
        before=bounds["before"],
        after=bounds["after"],
        event_types=query_list(params, "event_types"),
        topics=query_list(params, "topics"),
        status=_query_int(params, "status", (0, 1, 2, 3), errors),
        response_status_code=_query_int(
            params, "response_status_code", (0, 200, 300, 400, 500), errors
        ),
    ), errors
