"""Reading typed fields of a JSON body (emulator/bodies.py): every wrongly typed field of a
body is named in one 400, nested ones by their path."""

from __future__ import annotations

import pytest

from emulator.bodies import Fields, opt_str
from emulator.errors import BAD_BODY_MESSAGE, BadBody


def test_fields_of_the_right_type_are_read_and_null_is_not_given() -> None:
    fields = Fields(
        {"s": "x", "i": 3, "b": False, "o": {"k": 1}, "l": ["a"], "m": {"h": "v"}, "n": None}
    )
    assert fields.text("s") == "x"
    assert fields.integer("i") == 3
    assert fields.boolean("b") is False
    assert fields.object("o") == {"k": 1}
    assert fields.strings("l") == ["a"]
    assert fields.string_map("m") == {"h": "v"}
    assert fields.text("n") is None
    assert fields.text("absent") is None
    fields.check()


def test_every_wrong_type_is_reported_at_once_with_its_path() -> None:
    fields = Fields(
        {
            "uid": 1,
            "active": "yes",
            "count": True,  # a JSON boolean is not a number
            "big": 2**63,
            "topics": ["a", None],
            "nested": {"type": 5, "ok": "fine"},
        }
    )
    assert fields.text("uid") is None
    assert fields.boolean("active") is None
    assert fields.integer("count") is None
    assert fields.integer("big") is None
    assert fields.strings("topics") is None
    nested = fields.nested("nested")
    assert nested is not None
    assert nested.text("type") is None
    assert nested.text("ok") == "fine"
    with pytest.raises(BadBody) as raised:
        fields.check()
    error = raised.value
    assert error.http_body() == {"error": BAD_BODY_MESSAGE}
    assert error.fields == ("uid", "active", "count", "big", "topics", "nested.type")
    assert error.hint == (
        "field `uid`: expected a string, got number; "
        "field `active`: expected true or false, got string; "
        "field `count`: expected a whole number, got boolean; "
        "field `big`: expected a whole number within 64 bits; "
        "field `topics`: expected an array of strings, got an array containing null; "
        "field `nested.type`: expected a string, got number"
    )


def test_opt_str_raises_at_once() -> None:
    assert opt_str({"api_key": "k"}, "api_key") == "k"
    with pytest.raises(BadBody) as raised:
        opt_str({"api_key": ["k"]}, "api_key")
    assert raised.value.hint == "field `api_key`: expected a string, got array"
