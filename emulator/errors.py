"""The emulator's errors: each maps to one HTTP status and body, in ``http_body``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BAD_BODY_MESSAGE = "request body schema invalid, check field types"


class EmulatorError(Exception):
    """Base of every error the API turns into a response."""

    status_code = 500

    def http_body(self) -> dict[str, Any] | None:
        """The JSON body production sends for this error (None: empty body)."""
        return {"error": str(self), "code": self.status_code}


class Unauthorized(EmulatorError):
    """Missing or unknown API key: production answers with an empty body."""

    status_code = 401

    def http_body(self) -> dict[str, Any] | None:
        return None


class BadBody(EmulatorError):
    """A body that is not JSON, not an object, or has a field of the wrong JSON type."""

    status_code = 400

    def __init__(self, message: str = BAD_BODY_MESSAGE, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def http_body(self) -> dict[str, Any] | None:
        body: dict[str, Any] = {"error": str(self)}
        if self.field is not None:
            # Not sent by production, but harmless extra detail that names the bad field.
            body["field"] = self.field
        return body


class NotFound(EmulatorError):
    """A missing resource or parent."""

    status_code = 404

    def __init__(self, message: str = "Resource not found") -> None:
        super().__init__(message)


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
    """Validation failed: one entry per bad field."""

    status_code = 422

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.error}" for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, error: str) -> Invalid:
        """An error about a single field."""
        return cls([FieldError(field, error)])

    def http_body(self) -> dict[str, Any] | None:
        return {"errors": [{"field": e.field, "error": e.error} for e in self.errors]}
