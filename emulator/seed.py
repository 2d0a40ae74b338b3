"""State from a file: environments, applications and endpoints (with fixed secrets) that an
emulator creates on start-up (``serve --seed FILE``), and the document ``export`` writes.

The file is JSON (YAML too when PyYAML is installed)::

    {"environments": [{"api_key": "sk_test_dev", "applications": [
        {"uid": "shop", "name": "My shop", "retry_strategy": {"type": "fixed_wait"},
         "endpoints": [{"uid": "orders", "url": "http://127.0.0.1:9000/webhooks",
                        "secret": "whsec_...", "filter_types": ["order.created"]}]}]}]}

Each application and endpoint is the body its create request takes, with ``uid`` required (it
is how a restart finds what it made before). Applying a seed is idempotent: what is missing is
created, what exists and equals the file is left alone, what exists and differs is updated to
the file's values (fields the file leaves out keep theirs; a different secret is rotated in,
so the old one stays valid for the rotation grace).

``parse_seed`` is pure; ``apply_seed`` works through the service layer.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from emulator.errors import BadBody, FieldError
from emulator.models import Application, Endpoint
from emulator.service import Service
from emulator.signing import ROTATION_KEY_PATTERN
from emulator.validation import (
    MAX_IDENTIFIER_LENGTH,
    ApplicationInput,
    EndpointInput,
    parse_application,
    parse_endpoint,
)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
YAML_SUFFIXES = (".yaml", ".yml")


class SeedError(ValueError):
    """A seed file that cannot be used: ``path`` names the bad entry (``environments[0].
    applications[1].endpoints[0].url``), the message says what is wrong with it."""

    def __init__(self, path: str, problem: str, message: str | None = None) -> None:
        super().__init__(message or (f"{path}: {problem}" if path else problem))
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class SeedEndpoint:
    uid: str
    data: EndpointInput


@dataclass(frozen=True)
class SeedApplication:
    uid: str
    data: ApplicationInput
    endpoints: tuple[SeedEndpoint, ...] = ()


@dataclass(frozen=True)
class SeedEnvironment:
    api_key: str
    applications: tuple[SeedApplication, ...] = ()


@dataclass(frozen=True)
class Seed:
    """A checked seed document."""

    environments: tuple[SeedEnvironment, ...] = ()


@dataclass
class SeedReport:
    """What applying a seed did: one ``(action, what)`` per application and endpoint, such as
    ``("created", "sk_te…/shop/orders")``."""

    changes: list[tuple[str, str]] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for done, _ in self.changes if done == action)

    def summary(self) -> str:
        """``2 created, 1 updated, 3 unchanged``."""
        return ", ".join(f"{self.count(a)} {a}" for a in (CREATED, UPDATED, UNCHANGED))


# --------------------------------------------------------------------------- reading
def load_seed_document(path: Path) -> object:
    """A seed file's document, unchecked; ``SeedError`` (its message starting with the file
    name) when it cannot be read or is not JSON (or YAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError("", f"{path}: cannot read it: {error}") from None
    try:
        return _load_text(text, path.suffix.lower())
    except SeedError as error:
        raise SeedError("", f"{path}: {error.problem}") from None


def read_seed_file(path: Path) -> Seed:
    """Read and check a seed file; ``SeedError`` (message starting with the file name) when it
    cannot be read, is not JSON (or YAML) or has a bad entry."""
    document = load_seed_document(path)
    try:
        return parse_seed(document)
    except SeedError as error:
        raise SeedError(error.path, error.problem, f"{path}: {error}") from None


def _load_text(text: str, suffix: str) -> object:
    if suffix in YAML_SUFFIXES:
        try:
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            raise SeedError(
                "", "a YAML seed file needs PyYAML (pip install pyyaml); or write it as JSON"
            ) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise SeedError("", f"not valid YAML: {error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise SeedError("", f"not valid JSON: {error}") from None


def parse_seed(document: object) -> Seed:
    """Check a seed document (parsed JSON); ``SeedError`` names the first bad entry."""
    root = _mapping(document, "")
    _only(root, "", {"environments"})
    environments = []
    seen_keys: set[str] = set()
    for index, item in enumerate(_list(root.get("environments", []), "environments")):
        where = f"environments[{index}]"
        env = _mapping(item, where)
        _only(env, where, {"api_key", "applications"})
        api_key = env.get("api_key")
        if not isinstance(api_key, str) or not api_key.strip():
            raise SeedError(f"{where}.api_key", "must be a non-empty string (the bearer token)")
        if api_key in seen_keys:
            raise SeedError(f"{where}.api_key", "this API key is already listed")
        seen_keys.add(api_key)
        apps = [
            _application(app, f"{where}.applications[{number}]")
            for number, app in enumerate(_list(env.get("applications", []), where))
        ]
        _unique([a.uid for a in apps], f"{where}.applications")
        environments.append(SeedEnvironment(api_key, tuple(apps)))
    return Seed(tuple(environments))


def _application(item: object, where: str) -> SeedApplication:
    body = dict(_mapping(item, where))
    endpoints_given = body.pop("endpoints", [])
    data = _checked(where, lambda: parse_application(body))
    if data.uid is None:
        raise SeedError(f"{where}.uid", "required in a seed file (a restart finds it by uid)")
    endpoints = []
    for number, endpoint in enumerate(_list(endpoints_given, f"{where}.endpoints")):
        at = f"{where}.endpoints[{number}]"
        fields = dict(_mapping(endpoint, at))
        secret = fields.pop("secret", None)
        endpoint_data = _checked(at, lambda e=fields: parse_endpoint(e, creating=True))
        if secret is not None:
            endpoint_data = replace(endpoint_data, secret=_secret(secret, f"{at}.secret"))
        if endpoint_data.uid is None:
            raise SeedError(f"{at}.uid", "required in a seed file (a restart finds it by uid)")
        endpoints.append(SeedEndpoint(endpoint_data.uid, endpoint_data))
    _unique([e.uid for e in endpoints], f"{where}.endpoints")
    return SeedApplication(data.uid, data, tuple(endpoints))


def _secret(value: object, where: str) -> str:
    # Any key an endpoint can have (a generated one, a rotated one, ``whsec_``...): an export
    # writes whichever is current.
    if (
        not isinstance(value, str)
        or len(value) > MAX_IDENTIFIER_LENGTH
        or not ROTATION_KEY_PATTERN.fullmatch(value)
    ):
        raise SeedError(where, f"must be 1 to {MAX_IDENTIFIER_LENGTH} letters, digits, '_' or '-'")
    return value


def _checked(where: str, parse: Any) -> Any:
    try:
        data, errors = parse()
    except BadBody as error:
        field_name = error.fields[0] if error.fields else ""
        raise SeedError(f"{where}.{field_name}" if field_name else where, error.hint) from None
    if errors:
        first: FieldError = errors[0]
        raise SeedError(f"{where}.{first.field}", first.error)
    return data


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SeedError(where, "must be an object")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise SeedError(where, "must be a list")
    return value


def _only(value: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        names = ", ".join(unknown)
        raise SeedError(f"{where}.{unknown[0]}" if where else unknown[0], f"unknown key: {names}")


def _unique(uids: list[str], where: str) -> None:
    seen: set[str] = set()
    for uid in uids:
        if uid in seen:
            raise SeedError(where, f"uid {uid!r} is listed twice")
        seen.add(uid)


# --------------------------------------------------------------------------- applying
async def apply_seed(service: Service, seed: Seed, api_key: str | None = None) -> SeedReport:
    """Make the seed's state exist (idempotently, see the module). With ``api_key``, every
    environment's applications go into that one environment instead (a test's own)."""
    report = SeedReport()
    for env in seed.environments:
        key = api_key or env.api_key
        shown = key[:8] + "…" if len(key) > 8 else key
        for app in env.applications:
            report.changes.append((await _apply_app(service, key, app), f"{shown}/{app.uid}"))
            for endpoint in app.endpoints:
                action = await _apply_endpoint(service, key, app.uid, endpoint)
                report.changes.append((action, f"{shown}/{app.uid}/{endpoint.uid}"))
    return report


async def _apply_app(service: Service, api_key: str, app: SeedApplication) -> str:
    env = service.environment(api_key)
    existing = service.repo.app_by_uid.get((env.key, app.uid)) if env else None
    if existing is None:
        await service.create_application(api_key, app.data)
        return CREATED
    if _app_equal(existing, app.data):
        return UNCHANGED
    await service.update_application(api_key, app.uid, replace(app.data, uid=None))
    return UPDATED


def _app_equal(app: Application, data: ApplicationInput) -> bool:
    if data.name is not None and data.name != app.name:
        return False
    if data.rate_limit is not None and data.rate_limit != app.rate_limit:
        return False
    strategy = data.retry_strategy
    if strategy is None:
        return True
    current = app.retry_strategy
    return all(
        given is None or given == value
        for given, value in (
            (strategy.type, current.type),
            (strategy.max_retries, current.max_retries),
            (strategy.retry_delay, current.retry_delay),
            (strategy.deadline, current.deadline),
        )
    )


async def _apply_endpoint(
    service: Service, api_key: str, app_uid: str, endpoint: SeedEndpoint
) -> str:
    app = service.get_application(api_key, app_uid)
    existing = service.repo.endpoint_by_uid.get((app.key, endpoint.uid))
    if existing is None:
        await service.create_endpoint(api_key, app_uid, endpoint.data)
        return CREATED
    data = endpoint.data
    if data.secret is not None and data.secret == existing.secrets[0].key:
        data = replace(data, secret=None)  # the same secret: no rotation
    if _endpoint_equal(existing, data):
        return UNCHANGED
    await service.update_endpoint(api_key, app_uid, endpoint.uid, replace(data, uid=None))
    return UPDATED


def _endpoint_equal(endpoint: Endpoint, data: EndpointInput) -> bool:
    pairs: tuple[tuple[object, object], ...] = (
        (data.url, endpoint.url),
        (data.version, endpoint.version),
        (data.description, endpoint.description),
        (data.filter_types, endpoint.filter_types),
        (data.topics, endpoint.topics),
        (data.active, endpoint.active),
        (data.rate_limit, endpoint.rate_limit),
        (data.headers, endpoint.headers),
        (data.sensitive_headers, endpoint.sensitive_headers),
    )
    return data.secret is None and all(given is None or given == value for given, value in pairs)


# --------------------------------------------------------------------------- exporting
def export_document(
    api_key: str, applications: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]
) -> dict[str, Any]:
    """A seed document of one environment, from the API's own answers: each application's
    wire form with its endpoints' wire forms, each endpoint carrying its ``secret``.
    Sensitive header values are not in it: the API never gives them back."""
    apps = []
    for app, endpoints in applications:
        apps.append(
            {
                "uid": app["uid"],
                "name": app["name"],
                "rate_limit": app["rate_limit"],
                "retry_strategy": dict(app["retry_strategy"]),
                "endpoints": [_exported_endpoint(e) for e in endpoints],
            }
        )
    return {"environments": [{"api_key": api_key, "applications": apps}]}


def _exported_endpoint(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    exported: dict[str, Any] = {
        "uid": endpoint["uid"],
        "url": endpoint["url"],
        "version": endpoint["version"],
        "filter_types": list(endpoint["filter_types"] or []),
        "topics": list(endpoint["topics"] or []),
        "active": endpoint["active"],
    }
    for name in ("description", "rate_limit"):
        if endpoint.get(name) is not None:
            exported[name] = endpoint[name]
    headers = (endpoint.get("headers") or {}).get("headers") or {}
    if headers:
        exported["headers"] = {"headers": dict(headers)}
    exported["secret"] = endpoint["secret"]
    return exported
