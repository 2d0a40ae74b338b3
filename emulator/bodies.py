"""Request bodies as JSON: the body must be one JSON object, and each field read must have the
JSON type expected. Every wrongly typed field of a body is reported in one 400 (production's
body; the hint names them all). ``None`` always means "not given"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from emulator.errors import BadBody, FieldError, json_type

MAX_NESTING = 128
# Production is a Go service: an integer beyond int64 does not decode (a 400, like a wrong type).
INT64_RANGE = (-(2**63), 2**63 - 1)
STRINGS = "an array of strings"

Body = Mapping[str, Any]


def parse_json_object(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or BadBody saying what it is instead."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadBody("body is empty; send a JSON object")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadBody(f"body is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise BadBody(f"body is a JSON {json_type(value)}, not an object")
    # Nesting deeper than MAX_NESTING takes more opening brackets than that: most bodies need
    # no walk (it was a third of parsing a publish).
    if raw.count(b"{") + raw.count(b"[") > MAX_NESTING and nesting_depth(value) > MAX_NESTING:
        # orjson cannot write such a document back out (its limit is 254 levels).
        raise BadBody(f"body nested deeper than {MAX_NESTING} levels of objects and arrays")
    return value


def nesting_depth(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (iterative: no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class Fields:
    """Reads the typed fields of one JSON object (or of one nested in it).

    Each read returns the value, or None when it is absent, null or of the wrong JSON type; a
    wrong type is remembered, and ``check`` raises one BadBody naming every one of them.
    """

    def __init__(self, body: Body, prefix: str = "", wrong: list[FieldError] | None = None) -> None:
        self.body = body
        self.prefix = prefix
        self.wrong: list[FieldError] = [] if wrong is None else wrong

    def check(self) -> None:
        """BadBody if any field read so far (here or in a nested object) had the wrong type."""
        if self.wrong:
            raise BadBody.of(self.wrong)

    def _read(self, name: str, kind: type, expected: str) -> Any:
        value = self.body.get(name)
        if value is None:
            return None
        # bool is an int in Python, not in JSON.
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            self._wrong(name, f"expected {expected}, got {json_type(value)}")
            return None
        return value

    def _wrong(self, name: str, problem: str) -> None:
        self.wrong.append(FieldError(self.prefix + name, problem))

    def text(self, name: str) -> str | None:
        value: str | None = self._read(name, str, "a string")
        return value

    def integer(self, name: str) -> int | None:
        value: int | None = self._read(name, int, "a whole number")
        if value is not None and not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
            self._wrong(name, "expected a whole number within 64 bits")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        value: bool | None = self._read(name, bool, "true or false")
        return value

    def object(self, name: str) -> dict[str, Any] | None:
        """A JSON object kept as it is (a payload)."""
        value: dict[str, Any] | None = self._read(name, dict, "an object")
        return value

    def nested(self, name: str) -> Fields | None:
        """The fields of a nested object, reported as ``name.field``."""
        value = self.object(name)
        return None if value is None else Fields(value, f"{self.prefix}{name}.", self.wrong)

    def strings(self, name: str) -> list[str] | None:
        value: list[Any] | None = self._read(name, list, STRINGS)
        for item in value or ():
            if not isinstance(item, str):
                self._wrong(name, f"expected {STRINGS}, got an array containing {json_type(item)}")
                return None
        return value

    def string_map(self, name: str) -> dict[str, str] | None:
        """An object whose values are all strings (headers)."""
        value = self.object(name)
        for item in (value or {}).values():
            if not isinstance(item, str):
                self._wrong(name, f"expected an object of string values, got {json_type(item)}")
                return None
        return value


def opt_str(body: Body, name: str) -> str | None:
    """One string field of a body (400 if it has another type)."""
    fields = Fields(body)
    value = fields.text(name)
    fields.check()
    return value
