"""The client's exceptions: one class per error status the API answers, plus the connection
errors, and how an answer becomes one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import httpx


class FieldError(NamedTuple):
    """One entry of a 422 answer: the field and what is wrong with it."""

    field: str
    error: str


class SimplyQError(Exception):
    """Base of every error of this client.

    ``status_code`` is the HTTP status (None when no answer came), ``message`` the server's
    ``error`` text (or a summary), ``body`` the parsed JSON body (text when not JSON, None when
    empty), ``errors`` the field errors of a 422 and ``field`` the field a 400 names, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: object = None,
        errors: Sequence[FieldError] = (),
        field: str | None = None,
        headers: httpx.Headers | None = None,
        request: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.body = body
        self.errors: list[FieldError] = list(errors)
        self.field = field
        self.headers = headers if headers is not None else httpx.Headers()
        self.request = request
        shown = message if status_code is None else f"{status_code}: {message}"
        super().__init__(f"{shown} ({request})" if request else shown)


class APIConnectionError(SimplyQError):
    """The emulator could not be reached (not running, wrong URL, connection dropped)."""


class APITimeoutError(APIConnectionError):
    """The emulator did not answer within the client's timeout."""


class BadRequestError(SimplyQError):
    """400: the body is not JSON or has a field of the wrong JSON type (see ``field``)."""


class AuthenticationError(SimplyQError):
    """401: the API key is missing, empty, or not one the emulator was started with."""


class PermissionDeniedError(SimplyQError):
    """403: a control-API request this key may not make (another environment's data, or what
    only the emulator's admin key may do); the message says which."""


class NotFoundError(SimplyQError):
    """404: the resource or one of its parents does not exist."""


class ConflictError(SimplyQError):
    """409: a rename to a uid that is already taken."""


class ValidationError(SimplyQError):
    """422: invalid values; ``errors`` lists ``(field, error)`` pairs, one per bad field."""


class RateLimitError(SimplyQError):
    """429: too many requests for this API key in the current second."""


_ERROR_CLASSES: dict[int, type[SimplyQError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_from(response: httpx.Response, request: str) -> SimplyQError:
    """The exception for an answer with an error status (``request``: "GET /v1/...")."""
    body: object = None
    if response.content:
        try:
            body = response.json()
        except ValueError:
            body = response.text
    message, field, errors = "", None, []
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        for entry in body.get("errors") or ():
            if isinstance(entry, dict):
                errors.append(FieldError(str(entry.get("field")), str(entry.get("error"))))
    elif isinstance(body, str):
        message = body.strip()[:500]
    # The emulator names a 400's field in its hint header: "field `since`: ...".
    hint = response.headers.get("x-emulator-hint", "")
    if response.status_code == 400 and hint.startswith("field `"):
        field = hint[len("field `") :].partition("`")[0] or None
    if not message:
        if errors:
            message = "; ".join(f"{e.field}: {e.error}" for e in errors)
        elif response.status_code == 401:
            message = "unauthorized: the API key is missing or not accepted"
        else:
            message = response.reason_phrase or "error"
    cls = _ERROR_CLASSES.get(response.status_code, SimplyQError)
    return cls(
        message,
        status_code=response.status_code,
        body=body,
        errors=errors,
        field=field,
        headers=response.headers,
        request=request,
    )


def connection_error(
    error: httpx.TransportError, base_url: str, request: str
) -> APIConnectionError:
    """The exception for a request that got no answer from the emulator at ``base_url``."""
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(
            f"the SimplyQ emulator at {base_url} did not answer in time ({type(error).__name__})",
            request=request,
        )
    return APIConnectionError(
        f"cannot reach the SimplyQ emulator at {base_url} "
        f"({type(error).__name__}: {error}); is it running? "
        "Start it with `simplyq-emulator serve`",
        request=request,
    )
