"""The emulator's errors: each maps to one HTTP status and body, in ``http_body``.

The body is production's, exactly. What production does not say (which header is missing,
which field has the wrong type, every bad field) is the error's ``hint``: the HTTP edge sends
it in the ``X-Emulator-Hint`` header and writes it to the server console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BAD_BODY_MESSAGE = "request body schema invalid, check field types"


class EmulatorError(Exception):
    """Base of every error the API turns into a response."""

    status_code = 500

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        super().__init__(message)
        self._hint = hint

    @property
    def hint(self) -> str:
        """What the developer should know and the body does not say (defaults to the message)."""
        return self._hint or str(self)

    def http_body(self) -> dict[str, Any] | None:
        """The JSON body production sends for this error (None: empty body)."""
        return {"error": str(self), "code": self.status_code}


class Unauthorized(EmulatorError):
    """Missing or unknown API key: production answers with an empty body."""

    status_code = 401

    def __init__(self, hint: str = "the API key is missing or not accepted") -> None:
        super().__init__(hint, hint=hint)

    def http_body(self) -> dict[str, Any] | None:
        return None


class Forbidden(EmulatorError):
    """A known key asking for what it may not do: another environment's data, or what only
    the admin key may do (control API only; the hint says which key would be accepted)."""

    status_code = 403


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, as a hint shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class BadBody(EmulatorError):
    """A body that is not JSON, not an object, or has a field of the wrong JSON type.

    The body is always production's one message; ``fields`` names the wrongly typed fields
    (empty when the body as a whole is at fault) and the hint says what was expected.
    """

    status_code = 400

    def __init__(self, hint: str = "body is not a JSON object", fields: Sequence[str] = ()) -> None:
        super().__init__(BAD_BODY_MESSAGE, hint=hint)
        self.fields = tuple(fields)

    @classmethod
    def wrong_type(cls, field: str, expected: str, value: object) -> BadBody:
        """A field whose JSON type is not the one expected (``expected``: "a string", ...)."""
        return cls(f"field `{field}`: expected {expected}, got {json_type(value)}", [field])

    @classmethod
    def of(cls, wrong: Sequence[FieldError]) -> BadBody:
        """Fields of the wrong JSON type (``error``: what was expected), all named in the hint."""
        hint = "; ".join(f"field `{e.field}`: {e.error}" for e in wrong)
        return cls(hint, [e.field for e in wrong])

    @classmethod
    def for_field(cls, field: str, problem: str) -> BadBody:
        """A field the recordings answer with a 400 rather than a 422 (``since``, ``key``)."""
        return cls(f"field `{field}`: {problem}", [field])

    def http_body(self) -> dict[str, Any] | None:
        return {"error": str(self)}


class NotFound(EmulatorError):
    """A missing resource or parent."""

    status_code = 404

    def __init__(self, message: str = "Resource not found", *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)


class Unroutable(EmulatorError):
    """A request the router refuses before any handler (a method the path does not take)."""

    def __init__(self, status_code: int, message: str, *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code


class Conflict(EmulatorError):
    """A rename to a uid that is already taken."""

    status_code = 409


class PayloadTooLarge(EmulatorError):
    """A request body over the configured limit."""

    status_code = 413


class RateLimited(EmulatorError):
    """Too many API requests for one key in the current second (only when enforced)."""

    status_code = 429


class StorageUnavailable(EmulatorError):
    """A change that could not be made durable (disk full, read-only, I/O error): it was not
    made, and nothing of it stays visible. The emulator's own answer; production has no such."""

    status_code = 503


@dataclass(frozen=True)
class FieldError:
    """One bad field of a request."""

    field: str
    error: str


class Invalid(EmulatorError):
    """Validation failed: every problem found, the body showing each bad field's first one."""

    status_code = 422

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.error}" for e in self.errors))

    @classmethod
    def one(cls, field: str, error: str) -> Invalid:
        """An error about a single field."""
        return cls([FieldError(field, error)])

    @property
    def hint(self) -> str:
        return "; ".join(f"field `{e.field}`: {e.error}" for e in self.errors)

    def first_per_field(self) -> list[FieldError]:
        """One entry per bad field (its first problem), as production reports them."""
        first: dict[str, FieldError] = {}
        for error in self.errors:
            first.setdefault(error.field, error)
        return list(first.values())

    def http_body(self) -> dict[str, Any] | None:
        return {"errors": [{"field": e.field, "error": e.error} for e in self.first_per_field()]}
