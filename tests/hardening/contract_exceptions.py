"""Where production (and so the emulator) knowingly differs from the published reference.

This is the ONE list ``test_contract.py`` reads. The reference (``reference/openapi.yml``)
is loaded as it is, then each ``Deviation`` below amends it; schemathesis checks every answer of
the emulator against the amended reference. Each entry says why, and where that is written down:
a production recording (``recorded/…``, which wins over the reference), ``FIDELITY.md``
(the decisions for the emulator) or ``docs/fidelity.md`` (the emulator's own decisions).

Each entry also carries a *witness*: a response (a recording where production sent one) that the
reference amended by every *other* entry rejects and the fully amended reference accepts. A test
checks that, so no entry is stale or broader than its reason.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from tests.reference import OPENAPI, RECORDED

Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch")
JSON = "application/json"


# --------------------------------------------------------------------------- navigation
def operations(schema: Schema) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of the document."""
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def operation(schema: Schema, operation_id: str) -> dict[str, Any]:
    for _, _, found in operations(schema):
        if found["operationId"] == operation_id:
            return found
    raise KeyError(operation_id)


def has_body(op: dict[str, Any]) -> bool:
    return "requestBody" in op


def is_list(op: dict[str, Any]) -> bool:
    return any(p.get("$ref", "").endswith("/limit") for p in op.get("parameters", []))


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERROR_BODY = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {"error": {"type": "string"}, "code": {"type": "integer"}},
}
BAD_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
VALIDATION_BODY = {"$ref": "#/components/responses/422-Validation-Error"}


# --------------------------------------------------------------------------- the amendments
def _error_code_is_an_integer(schema: Schema) -> None:
    for name in ("403-Forbidden", "404-Not-Found", "409-Conflict", "429-Too-Many-Requests"):
        body = schema["components"]["responses"][name]["content"][JSON]["schema"]
        body["properties"]["code"] = {"type": "integer"}


def _unauthorized_has_no_body(schema: Schema) -> None:
    schema["components"]["responses"]["401-Unauthorized"] = {"description": "empty body"}


def _every_operation_may_answer_401_and_429(schema: Schema) -> None:
    for _, _, op in operations(schema):
        op["responses"].setdefault("401", {"$ref": "#/components/responses/401-Unauthorized"})
        op["responses"].setdefault("429", {"$ref": "#/components/responses/429-Too-Many-Requests"})


def _bodies_may_answer_400(schema: Schema) -> None:
    for _, _, op in operations(schema):
        if has_body(op):
            op["responses"]["400"] = json_response("request body schema invalid", BAD_BODY)


def _bodies_may_answer_413(schema: Schema) -> None:
    for _, _, op in operations(schema):
        if has_body(op):
            op["responses"]["413"] = json_response("request body too large", ERROR_BODY)


def _missing_parent_is_404(schema: Schema) -> None:
    for path, _, op in operations(schema):
        if "{app_id}" in path:
            op["responses"].setdefault("404", {"$ref": "#/components/responses/404-Not-Found"})


def _bad_list_parameters_are_422(schema: Schema) -> None:
    for _, _, op in operations(schema):
        if is_list(op):
            op["responses"].setdefault(
                "422", {"$ref": "#/components/responses/422-Validation-Error"}
            )


def _endpoint_rename_conflict_is_409(schema: Schema) -> None:
    operation(schema, "PutEndpoint")["responses"]["409"] = {
        "$ref": "#/components/responses/409-Conflict"
    }


def _recover_answers_202(schema: Schema) -> None:
    responses = operation(schema, "PostEndpointRecover")["responses"]
    del responses["200"]
    responses["202"] = {"description": "Accepted (empty body)"}


def _attempt_status_and_trigger_are_strings(schema: Schema) -> None:
    props = schema["components"]["schemas"]["DeliveryAttempt"]["properties"]
    props["status"] = {"type": "string", "enum": ["0", "1", "2", "3"]}
    props["trigger_type"] = {"type": "string", "enum": ["0", "1"]}


def _endpoint_unset_fields_are_null(schema: Schema) -> None:
    for name in ("Endpoint", "Endpoint-Read"):
        props = schema["components"]["schemas"][name]["properties"]
        props["description"] = {**props["description"], "nullable": True}
        props["rate_limit"] = {**props["rate_limit"], "nullable": True}


def _endpoint_without_topics_shows_an_empty_list(schema: Schema) -> None:
    for name in ("Endpoint", "Endpoint-Read"):
        schema["components"]["schemas"][name]["properties"]["topics"].pop("minItems")


def _endpoint_without_public_headers_shows_an_empty_object(schema: Schema) -> None:
    schema["components"]["schemas"]["Headers-Read"]["properties"]["headers"].pop("minProperties")


def _created_endpoint_shows_sensitive_as_a_boolean(schema: Schema) -> None:
    # The Endpoint schema (201 of PostEndpoint, items of GetEndpoints) names the write-side
    # Headers (sensitive: object); every answer of production shows the read side.
    props = schema["components"]["schemas"]["Endpoint"]["properties"]
    props["headers"] = {"$ref": "#/components/schemas/Headers-Read"}


def _event_retention_period_0_is_the_default(schema: Schema) -> None:
    prop = schema["components"]["schemas"]["Event"]["properties"]["retention_period"]
    prop.pop("minimum")


# --------------------------------------------------------------------------- witnesses
@dataclass(frozen=True)
class Witness:
    """One response to ``operation_id`` (with the given path parameters)."""

    operation_id: str
    status: int
    body: str = ""
    content_type: str | None = "application/json; charset=utf-8"
    recording: str | None = None  # the file it comes from, when production sent it

    @classmethod
    def recorded(cls, operation_id: str, name: str) -> Witness:
        """A response production sent, read from ``recorded/<name>.http``."""
        text = (RECORDED / f"{name}.http").read_text().replace("\r\n", "\n")
        head, _, body = text.partition("\n\n")
        status_line, *header_lines = head.split("\n")
        headers = {
            line.partition(":")[0].strip().lower(): line.partition(":")[2].strip()
            for line in header_lines
        }
        return cls(
            operation_id,
            int(status_line.split(" ")[1]),
            body.strip(),
            headers.get("content-type"),
            recording=name,
        )


# The recorded endpoint, changed in one place: what production shows for an endpoint created
# without that field (FIDELITY.md, Resources).
_ENDPOINT = (
    '{"uid":"fixture-edp-1","url":"https://example.com/hook","version":"latest",'
    '"description":%s,"filter_types":[],"topics":%s,"active":true,"rate_limit":%s,'
    '"headers":{"headers":%s,"sensitive":false},'
    '"created_at":"2022-10-29T09:53:59+00:00","updated_at":"2022-10-29T09:53:59+00:00"}'
)


def _endpoint(
    description: str = '"d"',
    topics: str = '["t"]',
    rate_limit: str = "2",
    headers: str = '{"X":"1"}',
) -> str:
    return _ENDPOINT % (description, topics, rate_limit, headers)


@dataclass(frozen=True)
class Deviation:
    name: str
    reason: str
    source: str
    amend: Callable[[Schema], None]
    witness: Witness


DEVIATIONS: list[Deviation] = [
    Deviation(
        "error-code-is-an-integer",
        'Error bodies carry the HTTP status as a JSON number (`"code":404`); the reference '
        "types `code` as a string.",
        "recorded/*.404.http; FIDELITY.md, Errors",
        _error_code_is_an_integer,
        Witness.recorded("GetApplication", "GetApplication.404"),
    ),
    Deviation(
        "401-has-an-empty-body",
        "A 401 has an empty body and no Content-Type; the reference declares a JSON object.",
        "recorded/GetApplications.401.http; FIDELITY.md, Transport",
        _unauthorized_has_no_body,
        Witness.recorded("GetApplications", "GetApplications.401"),
    ),
    Deviation(
        "every-operation-may-answer-401-and-429",
        "Every /v1 operation needs the bearer key (401) and counts against the rate limit (429 "
        "when enforced); the reference omits both on recover and secret rotation.",
        "FIDELITY.md, Transport",
        _every_operation_may_answer_401_and_429,
        Witness("PostEndpointSecretRotate", 401, "", None),
    ),
    Deviation(
        "bodies-may-answer-400",
        "A body that is not JSON or has a field of the wrong JSON type is a 400 "
        '`{"error": "request body schema invalid, check field types"}` (the emulator names '
        "the field in its X-Emulator-Hint header); the reference lists no 400.",
        "recorded/PostEndpoint.400.http, PostEndpointRecover.400.http, "
        "PostEndpointSecretRotate.400.http; FIDELITY.md, Errors; docs/fidelity.md, Requests",
        _bodies_may_answer_400,
        Witness.recorded("PostEndpoint", "PostEndpoint.400"),
    ),
    Deviation(
        "bodies-may-answer-413",
        'Bodies over the size limit (1 MiB) are a 413 `{"error", "code"}`.',
        "docs/fidelity.md, Requests",
        _bodies_may_answer_413,
        Witness("PostEvent", 413, '{"error":"request body larger than 1048576 bytes","code":413}'),
    ),
    Deviation(
        "missing-parent-is-404",
        "Every route under /v1/application/{app_id} answers 404 when the application (or "
        "endpoint, event) does not exist; the reference omits it on several.",
        "recorded/PostEvent.404.http, PostEndpointRecover.404.http, "
        "PostEndpointSecretRotate.404.http; FIDELITY.md, Errors",
        _missing_parent_is_404,
        Witness.recorded("PostEvent", "PostEvent.404"),
    ),
    Deviation(
        "bad-list-parameters-are-422",
        "`limit` outside 1..150, an unknown cursor or a date that does not parse is a 422 on "
        "that field; the reference lists no 422 on lists.",
        "FIDELITY.md, Lists",
        _bad_list_parameters_are_422,
        Witness(
            "GetApplications",
            422,
            '{"errors":[{"field":"limit","error":"limit must be a whole number from 1 to 150"}]}',
        ),
    ),
    Deviation(
        "endpoint-rename-conflict-is-409",
        "A PUT whose new uid is taken is a 409, for endpoints as for applications.",
        "FIDELITY.md, The 22 operations",
        _endpoint_rename_conflict_is_409,
        Witness(
            "PutEndpoint", 409, '{"error":"an endpoint with uid \'b\' already exists","code":409}'
        ),
    ),
    Deviation(
        "recover-answers-202",
        "Recover answers 202 with an empty body; the reference says 200.",
        "recorded/PostEndpointRecover.202.http; FIDELITY.md, The 22 operations",
        _recover_answers_202,
        Witness.recorded("PostEndpointRecover", "PostEndpointRecover.202"),
    ),
    Deviation(
        "attempt-status-and-trigger-are-strings",
        'Attempts show `status` and `trigger_type` as strings ("0"); the reference says integers.',
        "recorded/GetDeliveryAttempt.200.http; FIDELITY.md, Resources",
        _attempt_status_and_trigger_are_strings,
        Witness.recorded("GetDeliveryAttempt", "GetDeliveryAttempt.200"),
    ),
    Deviation(
        "endpoint-unset-fields-are-null",
        "An endpoint's `description` and `rate_limit` are null when unset; the reference types "
        "them as string and integer without null.",
        "FIDELITY.md, Resources",
        _endpoint_unset_fields_are_null,
        Witness("GetEndpoint", 200, _endpoint(description="null", rate_limit="null")),
    ),
    Deviation(
        "endpoint-without-topics-shows-an-empty-list",
        "An endpoint without topics shows `topics: []`; the reference's read schema says at "
        "least one item.",
        "FIDELITY.md, Resources (`[]` or null = no topic filter)",
        _endpoint_without_topics_shows_an_empty_list,
        Witness("GetEndpoint", 200, _endpoint(topics="[]")),
    ),
    Deviation(
        "endpoint-without-public-headers-shows-an-empty-object",
        "An endpoint without public headers shows `headers.headers: {}`; the reference says at "
        "least one property.",
        "FIDELITY.md, Resources (headers shown as {headers: {...public...}, sensitive: bool})",
        _endpoint_without_public_headers_shows_an_empty_object,
        Witness("GetEndpoint", 200, _endpoint(headers="{}")),
    ),
    Deviation(
        "created-endpoint-shows-sensitive-as-a-boolean",
        "The created endpoint (201) and list items show `headers.sensitive` as a boolean, like "
        "GetEndpoint; the reference's Endpoint schema has the write-side object there.",
        "recorded/PostEndpoint.201.http, GetEndpoints.200.http",
        _created_endpoint_shows_sensitive_as_a_boolean,
        Witness.recorded("PostEndpoint", "PostEndpoint.201"),
    ),
    Deviation(
        "event-retention-period-0-is-the-default",
        "An event published without `retention_period` shows 0 (the 90-day default); the "
        "reference's Event schema says 5 to 90.",
        "recorded/GetEvent.200.http; FIDELITY.md, Resources",
        _event_retention_period_0_is_the_default,
        Witness.recorded("GetEvent", "GetEvent.200"),
    ),
]


@functools.cache
def _parsed_reference() -> Schema:
    loaded: Schema = yaml.safe_load(OPENAPI.read_text())
    return loaded


def load_reference() -> Schema:
    """The published reference, as it is (a fresh copy)."""
    return copy.deepcopy(_parsed_reference())


def amended_reference(*, without: str | None = None) -> Schema:
    """The reference amended by every deviation (but ``without``)."""
    schema = load_reference()
    for deviation in DEVIATIONS:
        if deviation.name != without:
            deviation.amend(schema)
    return schema
