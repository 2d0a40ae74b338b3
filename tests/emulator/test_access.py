"""Who a control-API caller is and what it reaches (emulator/access.py), without HTTP; every
route with every kind of caller is in tests/emulator/web/control/test_access.py."""

from __future__ import annotations

import pytest

from emulator.access import Action, Caller, Role, Scope, decide, identify
from emulator.errors import Forbidden, Unauthorized

KEYS = frozenset({"sk_one", "sk_two"})
ADMIN = "sk_admin"


@pytest.mark.parametrize(
    ("token", "keys", "admin", "caller"),
    [
        (None, frozenset(), None, Caller(Role.OPEN)),
        ("sk_anything", frozenset(), ADMIN, Caller(Role.OPEN)),
        (None, KEYS, ADMIN, Caller(Role.ANONYMOUS)),
        ("sk_one", KEYS, ADMIN, Caller(Role.ENVIRONMENT, "sk_one")),
        (ADMIN, KEYS, ADMIN, Caller(Role.ADMIN)),
    ],
)
def test_identify(
    token: str | None, keys: frozenset[str], admin: str | None, caller: Caller
) -> None:
    assert identify(token, keys, admin) == caller


@pytest.mark.parametrize("admin", [ADMIN, None])
def test_a_token_that_is_neither_a_key_nor_the_admin_key_is_a_401(admin: str | None) -> None:
    with pytest.raises(Unauthorized, match="key not configured"):
        identify("sk_stranger", KEYS, admin)


def test_without_configured_keys_everything_reaches_everything() -> None:
    for action in Action:
        assert decide(action, Caller(Role.OPEN), "sk_other") == Scope("sk_other")
        assert decide(action, Caller(Role.OPEN)) == Scope()


def test_an_environment_key_is_scoped_to_itself() -> None:
    one = Caller(Role.ENVIRONMENT, "sk_one")
    assert decide(Action.ENVIRONMENTS, one) == Scope("sk_one")
    assert decide(Action.RESET, one, "sk_one") == Scope("sk_one")
    with pytest.raises(Forbidden, match="another environment"):
        decide(Action.STREAM, one, "sk_two")
    with pytest.raises(Forbidden, match="every environment needs the admin key"):
        decide(Action.RESET, one)
    with pytest.raises(Forbidden, match="only the admin key may move or rescale the clock"):
        decide(Action.CLOCK_CHANGE, one)


def test_without_a_key_only_health_answers_and_only_that_it_is_up() -> None:
    anonymous = Caller(Role.ANONYMOUS)
    assert decide(Action.HEALTH, anonymous) == Scope(minimal=True)
    for action in set(Action) - {Action.HEALTH}:
        with pytest.raises(Unauthorized):
            decide(action, anonymous)
