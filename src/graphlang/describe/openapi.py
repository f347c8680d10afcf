"""The OpenAPI 3.1 document: the served routes, each rendered from its entry in the catalog."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from graphlang import __version__
from graphlang.controls.faults import STATUSES as FAULT_STATUSES
from graphlang.describe import catalog, schemas
from graphlang.describe.operations import Access, Operation, Reply
from graphlang.describe.schemas import Schema, ref
from graphlang.model.properties import PROPERTIES, SCALAR_PATHS
from graphlang.odata.limits import QueryLimits

OPENAPI_VERSION = "3.1.0"
CONTROL_PREFIX = "/_graphlang/"  # the control API is never throttled or faulted
_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")

ERROR_STATUSES: dict[int, tuple[str, tuple[str, ...]]] = {
    400: ("Bad request: a malformed body, header or query option, an unknown property or an invalid "
          "value; the message names it.", ()),
    401: ("The token is missing or invalid.", ("WWW-Authenticate",)),
    403: ("The token lacks a permission the operation needs; the message names the least privileged.", ()),
    404: ("No such user, item or path.", ()),
    412: ("If-Match does not match the item's current ETag.", ()),
    413: ("The body is larger than the configured limit.", ()),
    415: ("The body's Content-Type is not supported.", ()),
    429: ("Throttled, or an injected fault; retry after Retry-After seconds.", ("Retry-After",)),
    500: ("An unexpected fault (or an injected one); the body never carries internals.", ()),
    503: ("The database or the identity provider cannot be reached, or an injected fault; retry later.",
          ("Retry-After?",)),
    504: ("An injected fault.", ()),
}

_HEADERS: dict[str, Schema] = {
    "request-id": {"description": "A new GUID for every response.", "schema": {"type": "string"}},
    "client-request-id": {"description": "The client's client-request-id, else the request-id.",
                          "schema": {"type": "string"}},
    "Location": {"description": "The new item's absolute URL.", "schema": {"type": "string", "format": "uri"}},
    "ETag": {"description": "The item's weak entity tag.", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "The challenge, naming why the credentials were refused.",
                         "schema": {"type": "string"}},
    "Retry-After": {"description": "Whole seconds to wait.", "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "Preference-Applied": {"description": "The Prefer preference that was honoured.",
                           "schema": {"type": "string"}},
}
_ALWAYS = ("request-id", "client-request-id")


def _query_options(limits: QueryLimits) -> dict[str, tuple[Schema, str, bool]]:
    """Each OData option's value schema, description, and whether it is a comma-separated list."""
    names = [p.name for p in PROPERTIES]
    orderings = [f"{path}{suffix}" for path in SCALAR_PATHS for suffix in ("", " asc", " desc")]
    return {
        "select": ({"type": "array", "items": {"enum": names}, "minItems": 1},
                   "Properties to return; an unknown name is 400.", True),
        "filter": ({"type": "string"}, "An OData filter over the primitive and enum properties, "
                   "inference/confidenceScore and inference/userHasVerifiedAccuracy.", False),
        "orderby": ({"type": "array", "items": {"enum": orderings}, "minItems": 1},
                    "Sort keys; id is always appended as the last key.", True),
        "top": ({"type": "integer", "minimum": 1, "maximum": limits.max_top}, "The page size.", False),
        "skip": ({"type": "integer", "minimum": 0, "maximum": limits.max_skip}, "Items to skip.", False),
        "count": ({"type": "boolean"}, "true adds @odata.count.", False),
        "expand": ({"type": "string"}, "Not supported on this resource: 400.", False),
        "search": ({"type": "string"}, "Not supported on this resource: 400.", False),
        "skiptoken": ({"type": "string"}, "The opaque position from an @odata.nextLink.", False),
        "format": ({"enum": ["json", "application/json"]}, "Only JSON is served.", False),
    }


def _parameters(limits: QueryLimits) -> dict[str, Schema]:
    segment = schemas.KEY_SEGMENT
    parameters: dict[str, Schema] = {
        "user": {"name": "user", "in": "path", "required": True, "schema": segment,
                 "description": "The user's id or userPrincipalName (matched case-insensitively)."},
        "language": {"name": "language", "in": "path", "required": True, "schema": segment,
                     "description": "The languageProficiency id."},
        "If-Match": {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                     "description": "Entity tags (or *) the item must match; otherwise 412."},
        "Prefer": {"name": "Prefer", "in": "header",
                   "schema": {"type": "string", "examples": ["return=minimal", "return=representation"]},
                   "description": "return=minimal answers a successful write with 204 and no body."},
        **catalog.PARAMETERS,
    }
    for name, (schema, description, listed) in _query_options(limits).items():
        for key, wire in ((name, f"${name}"), (f"{name}-bare", name)):
            parameter: Schema = {"name": wire, "in": "query", "schema": schema, "description": description}
            if listed:
                parameter.update(style="form", explode=False)
            parameters[key] = parameter
    return parameters


def _headers(names: Iterable[str]) -> dict[str, Schema]:
    """Response headers by name; a name ending in "?" is sent only in some of the answers.

    Written out in full rather than as references: schemathesis reads ``required`` only from a
    header object itself, so a referenced required header would go unchecked.
    """
    rendered: dict[str, Schema] = {}
    for name in (*_ALWAYS, *names):
        bare = name.removesuffix("?")
        rendered[bare] = {**_HEADERS[bare], "required": not name.endswith("?")}
    return rendered


def _error_response(status: int) -> Schema:
    description, headers = ERROR_STATUSES[status]
    return {"description": description, "headers": _headers(headers),
            "content": {"application/json": {"schema": ref(schemas.ODATA_ERROR)}}}


def _reply(reply: Reply, operation: Operation) -> Schema:
    rendered: Schema = {"description": reply.description, "headers": _headers(reply.headers)}
    if reply.schema is not None:
        rendered["content"] = {reply.media_type: {"schema": reply.schema}}
        if operation.links and 200 <= reply.status < 300:
            rendered["links"] = dict(operation.links)
    return rendered


def _security(access: Access) -> list[dict[str, list[str]]]:
    if access is Access.BEARER:
        return [{"bearer": []}]
    if access is Access.ADMIN:
        return [{"adminToken": []}, {"adminBearer": []}]
    return []


def _path_parameters(template: str, known: Iterable[str]) -> list[Schema]:
    return [
        {"$ref": f"#/components/parameters/{name}"} if name in known
        else {"name": name, "in": "path", "required": True, "schema": schemas.SEGMENT}
        for name in _PATH_PARAMETER.findall(template)
    ]


def _operation(template: str, operation: Operation, operation_id: str, known: Iterable[str]) -> Schema:
    parameters = _path_parameters(template, known)
    parameters += [{"$ref": f"#/components/parameters/{name}"} for name in (*operation.query, *operation.headers)]
    errors = set(operation.errors)
    if not template.startswith(CONTROL_PREFIX):
        errors.update(FAULT_STATUSES)
    if _PATH_PARAMETER.search(template):
        errors.add(400)  # a path that is not UTF-8 or holds a NUL
    replies = {reply.status: reply for reply in operation.replies}
    responses: dict[str, Schema] = {}
    for status in sorted(errors | replies.keys()):
        reply = replies.get(status)
        responses[str(status)] = (
            _reply(reply, operation) if reply is not None else {"$ref": f"#/components/responses/Error{status}"}
        )
    rendered: Schema = {
        "operationId": operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": _security(operation.access),
        "responses": responses,
    }
    if operation.description:
        rendered["description"] = operation.description
    if parameters:
        rendered["parameters"] = parameters
    if operation.body is not None:
        rendered["requestBody"] = {
            "required": True,
            "content": {media_type: {"schema": operation.body} for media_type in operation.body_media_types},
        }
    return rendered


def _undescribed(template: str, method: str, known: Iterable[str]) -> Schema:
    """A served route without an entry in the catalog: listed, but marked so that a test catches it."""
    return {
        "operationId": f"undescribed.{method.lower()}.{template}",
        "summary": "Undescribed route",
        "x-graphlang-undescribed": True,
        "parameters": _path_parameters(template, known),
        "responses": {"default": {"$ref": "#/components/responses/Error500"}},
    }


def build_openapi(routes: Iterable[tuple[str, Iterable[str]]], limits: QueryLimits) -> dict[str, Any]:
    """The document for these served routes, given as (path template, methods) pairs."""
    parameters = _parameters(limits)
    paths: dict[str, dict[str, Schema]] = {}
    for template, methods in routes:
        described = catalog.OPERATIONS.get(template, {})
        for index, spelling in enumerate((template, *catalog.ALIASES.get(template, ()))):
            suffix = f".alias{index}" if index else ""
            for method in sorted(methods):
                operation = described.get(method)
                paths.setdefault(spelling, {})[method.lower()] = (
                    _undescribed(spelling, method, parameters) if operation is None
                    else _operation(spelling, operation, operation.operation_id + suffix, parameters)
                )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "graphlang",
            "version": __version__,
            "summary": "The Microsoft Graph (beta) profile languages API, as a service and an emulator.",
            "description": "Paths are matched case-insensitively and each segment is percent-decoded on its "
                           "own. Every error is the Graph error envelope, except the token endpoint's, which "
                           "are OAuth 2.0's. Every route outside /_graphlang can also answer an injected "
                           "fault's status.",
        },
        "tags": [{"name": name} for name in ("languages", "profile", "batch", "service", "issuer", "operations",
                                             "control")],
        "paths": paths,
        "components": {
            "schemas": {**schemas.component_schemas(), **catalog.SCHEMAS},
            "parameters": parameters,
            "responses": {f"Error{status}": _error_response(status) for status in ERROR_STATUSES},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "An Entra-shaped access token: the emulator's own, or your "
                                          "identity provider's in oidc mode."},
                "adminToken": {"type": "apiKey", "in": "header", "name": "x-graphlang-admin-token",
                               "description": "The control API's admin token."},
                "adminBearer": {"type": "http", "scheme": "bearer",
                                "description": "The control API's admin token, as a bearer token."},
            },
        },
    }
