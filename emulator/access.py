"""Who may do what on the control API (``/_emulator/``): one table, ``RULES``, and the pure
function ``decide`` that the control handlers consult.

Without configured API keys every caller is the loopback owner and may do everything. With
``--api-key``, a caller is identified by its bearer token: a configured key (an *environment*
key) acts on its own environment only, the admin key (``--admin-key``) on the whole emulator,
and a caller without a token may only ask whether the emulator is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from emulator.errors import Forbidden, Unauthorized

ADMIN_KEY_SOURCES = "serve --admin-key or SIMPLYQ_EMULATOR_ADMIN_KEY"


class Role(Enum):
    """What a caller is to the control API."""

    OPEN = "open"  # no --api-key: the loopback owner, whatever it sends
    ANONYMOUS = "anonymous"  # keys configured, no Authorization header
    ENVIRONMENT = "environment"  # one of the configured API keys
    ADMIN = "admin"  # the admin key


class Action(Enum):
    """One thing the control API does."""

    HEALTH = "read health"
    RESET = "reset"
    CLOCK_READ = "read the clock"
    CLOCK_SETTLE = "wait for due deliveries"
    CLOCK_CHANGE = "move or rescale the clock"
    ENVIRONMENTS = "list environments"
    ATTEMPT = "read an attempt's detail"
    STREAM = "follow the change stream"
    SEED = "load a seed document"
    CHAOS = "set delivery chaos"


class Access(Enum):
    """How much of the emulator a role reaches through an action."""

    ALL = "all"  # every environment
    OWN = "own"  # the caller's environment only
    MINIMAL = "minimal"  # that the emulator is up, nothing else
    DENIED = "denied"


_A, _O, _M, _D = Access.ALL, Access.OWN, Access.MINIMAL, Access.DENIED

RULES: dict[Action, dict[Role, Access]] = {
    #                      OPEN            ANONYMOUS          ENVIRONMENT           ADMIN
    Action.HEALTH: {Role.OPEN: _A, Role.ANONYMOUS: _M, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.RESET: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.CLOCK_READ: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.CLOCK_SETTLE: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.CLOCK_CHANGE: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _D, Role.ADMIN: _A},
    Action.ENVIRONMENTS: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.ATTEMPT: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.STREAM: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.SEED: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
    Action.CHAOS: {Role.OPEN: _A, Role.ANONYMOUS: _D, Role.ENVIRONMENT: _O, Role.ADMIN: _A},
}
"""For each action and role, how far the caller reaches (the README's control-API table)."""

# Actions whose request names its target environment (``api_key`` in the body or query); no
# target there means every environment.
TARGETED = frozenset({Action.RESET, Action.STREAM, Action.SEED, Action.CHAOS})


@dataclass(frozen=True)
class Caller:
    """Who sent a control request: a role and, for an environment key, the key."""

    role: Role
    api_key: str | None = None


@dataclass(frozen=True)
class Scope:
    """What a permitted request reaches: ``api_key`` None means every environment (or, for
    a targeted action, the target the request named); ``minimal`` only that it is up."""

    api_key: str | None = None
    minimal: bool = False


def identify(token: str | None, api_keys: frozenset[str], admin_key: str | None) -> Caller:
    """The caller of a control request from its bearer ``token`` (None: no Authorization
    header). Without configured keys everyone is the owner; a token that is neither a
    configured key nor the admin key is a 401."""
    if not api_keys:
        return Caller(Role.OPEN)
    if token is None:
        return Caller(Role.ANONYMOUS)
    if admin_key is not None and token == admin_key:
        return Caller(Role.ADMIN)
    if token in api_keys:
        return Caller(Role.ENVIRONMENT, token)
    raise Unauthorized(
        "key not configured: the control API accepts the keys the emulator was started with "
        f"(serve --api-key ...) or its admin key ({ADMIN_KEY_SOURCES})"
    )


def admit(action: Action, caller: Caller) -> None:
    """Refuse at once a caller whose role may never ``action`` (before its request is read):
    Unauthorized (401) without a key, Forbidden (403) for an environment key."""
    if RULES[action][caller.role] is not Access.DENIED:
        return
    if caller.role is Role.ANONYMOUS:
        raise Unauthorized(
            f"no Authorization header: to {action.value}, send `Authorization: Bearer "
            f"<a configured key>` (its own environment) or the admin key ({ADMIN_KEY_SOURCES})"
        )
    why = (
        "the emulator clock is shared by every environment (an environment key may read "
        "it and wait for due deliveries); "
        if action is Action.CLOCK_CHANGE
        else ""
    )
    raise Forbidden(
        f"only the admin key may {action.value}",
        hint=f"only the admin key may {action.value}: {why}send the admin key "
        f"({ADMIN_KEY_SOURCES})",
    )


def decide(action: Action, caller: Caller, target: str | None = None) -> Scope:
    """What ``caller`` may reach through ``action``; ``target`` is the environment a targeted
    action's request names (None: all). Unauthorized (401) or Forbidden (403) otherwise."""
    admit(action, caller)
    access = RULES[action][caller.role]
    if access is Access.ALL:
        return Scope(target)
    if access is Access.MINIMAL:
        return Scope(minimal=True)
    own = caller.api_key
    if action in TARGETED:
        if target is None:
            raise Forbidden(
                "api_key missing: every environment needs the admin key",
                hint=f"`api_key` missing: without it, {action.value} means every environment, "
                f"which only the admin key may do ({ADMIN_KEY_SOURCES}); an environment key "
                "names itself as `api_key`",
            )
        if target != own:
            raise Forbidden(
                "api_key names another environment",
                hint=f"`api_key` names another environment: a configured key may "
                f"{action.value} for its own environment only; the admin key "
                f"({ADMIN_KEY_SOURCES}) reaches all",
            )
    return Scope(own)
