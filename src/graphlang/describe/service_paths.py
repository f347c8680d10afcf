"""The routes outside Graph's API: self-description, the emulator's OpenID Connect issuer, metrics, and
the control API under ``/_graphlang``."""

from __future__ import annotations

from graphlang.auth.grants import GRANTS
from graphlang.controls.faults import PROPERTIES as FAULT_PROPERTIES
from graphlang.controls.faults import STATUSES as FAULT_STATUSES
from graphlang.describe import schemas
from graphlang.describe.operations import CONTROL_ERRORS, Access, Operation, Paths, Reply
from graphlang.describe.schemas import Schema, nullable, ref

OAUTH_ERROR = "graphlang.oauthError"
FAULT_RULE = "graphlang.faultRule"
THROTTLING = "graphlang.throttling"
COUNTS = "graphlang.counts"
SNAPSHOT = "graphlang.snapshot"
FORM = "application/x-www-form-urlencoded"
_ANYONE = Access.ANONYMOUS


def _object(properties: dict[str, Schema], *required: str, closed: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


_TEXT = {"type": "string"}
_WHOLE = {"type": "integer", "minimum": 0}

SCHEMAS: dict[str, Schema] = {
    OAUTH_ERROR: _object({
        "error": _TEXT, "error_description": _TEXT, "error_codes": {"type": "array", "items": {"type": "integer"}},
        "timestamp": _TEXT, "trace_id": _TEXT, "correlation_id": _TEXT,
    }, "error", "error_description"),
    FAULT_RULE: _object({
        "id": _TEXT,
        "method": nullable({"type": "array", "items": _TEXT}),
        "path": _TEXT,
        "caller": nullable(_TEXT),
        "status": nullable({"enum": list(FAULT_STATUSES)}),
        "count": nullable(_WHOLE),
        "remaining": nullable(_WHOLE),
        "fired": _WHOLE,
        "rate": {"type": "number"},
        "seed": _WHOLE,
        "retryAfter": nullable(_WHOLE),
        "latencyMs": nullable({"type": "array", "items": _WHOLE, "minItems": 2, "maxItems": 2}),
        "code": nullable(_TEXT),
        "message": nullable(_TEXT),
    }, "id", "path", "status"),
    THROTTLING: _object({"enabled": {"type": "boolean"}, "userLimit": _WHOLE, "appLimit": _WHOLE,
                         "windowSeconds": _WHOLE}, "enabled", "userLimit", "appLimit", "windowSeconds"),
    COUNTS: {"type": "object", "additionalProperties": _WHOLE},
    SNAPSHOT: _object({"format": _TEXT, "version": {"type": "integer"}, "tables": {"type": "object"}},
                      "format", "version", "tables", closed=False),
}

PARAMETERS: dict[str, Schema] = {
    "tenant": {"name": "tenant", "in": "path", "required": True, "schema": schemas.SEGMENT,
               "description": "The tenant id, as in Entra's URLs."},
    "rule": {"name": "rule", "in": "path", "required": True, "schema": schemas.SEGMENT,
             "description": "A fault rule's id."},
    "reseed": {"name": "reseed", "in": "query", "schema": {"type": "boolean"},
               "description": "Load the configured seed after the reset (default true)."},
    "reset-user": {"name": "user", "in": "query", "schema": {"type": "string"},
                   "description": "Reset only this user's languages (id or userPrincipalName)."},
    "reset-tenant": {"name": "tenant", "in": "query", "schema": {"type": "string"},
                     "description": "The tenant of 'user' (default: the emulator's tenant)."},
    "journal-status": {"name": "status", "in": "query", "schema": {"type": "integer", "minimum": 1},
                       "description": "Only requests answered with this status."},
    "journal-mistakes": {"name": "clientMistakes", "in": "query", "schema": {"type": "boolean"},
                         "description": "Only requests that retried before Retry-After had passed."},
    "journal-top": {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 1},
                    "description": "Only the last N requests."},
}

_SELF_ERRORS = (500,)


def _self_description() -> Paths:
    service_document = Operation(
        "service.GetServiceDocument", "The OData service document", "service",
        (Reply(200, "The entity sets and singletons at the service root.", ref(schemas.SERVICE_DOCUMENT)),),
        _SELF_ERRORS, access=_ANYONE,
    )
    return {
        "/beta": {"GET": service_document},
        "/beta/$metadata": {"GET": Operation(
            "service.GetMetadata", "The CSDL of the model graphlang serves", "service",
            (Reply(200, "OData v4 CSDL XML.", _TEXT, media_type="application/xml"),), _SELF_ERRORS, access=_ANYONE,
        )},
        "/openapi.json": {"GET": Operation(
            "service.GetOpenApi", "This OpenAPI 3.1 description", "service",
            (Reply(200, "The OpenAPI document.", {"type": "object"}),), _SELF_ERRORS, access=_ANYONE,
        )},
        "/metrics": {"GET": Operation(
            "service.GetMetrics", "Prometheus metrics", "operations",
            (Reply(200, "The Prometheus text exposition format.", _TEXT, media_type="text/plain"),),
            _SELF_ERRORS, access=_ANYONE,
        )},
    }


def _issuer() -> Paths:
    oauth_error = (Reply(400, "An OAuth 2.0 error, as Entra writes it.", ref(OAUTH_ERROR)),
                   Reply(401, "The client could not be authenticated (OAuth 2.0 invalid_client).",
                         ref(OAUTH_ERROR), headers=("WWW-Authenticate",)))
    token_form = _object({
        "grant_type": {"enum": list(GRANTS)},
        "client_id": _TEXT, "client_secret": _TEXT, "scope": _TEXT, "username": _TEXT, "password": _TEXT,
        "refresh_token": _TEXT,
    }, "grant_type", closed=False)
    token = _object({"token_type": {"const": "Bearer"}, "access_token": _TEXT, "expires_in": {"type": "integer"},
                     "ext_expires_in": {"type": "integer"}, "scope": _TEXT, "refresh_token": _TEXT},
                    "token_type", "access_token", "expires_in", closed=False)
    return {
        "/{tenant}/v2.0/.well-known/openid-configuration": {"GET": Operation(
            "issuer.GetOpenIdConfiguration", "OpenID Connect discovery (emulator mode)", "issuer",
            (Reply(200, "The issuer's metadata.", _object(
                {"issuer": _TEXT, "token_endpoint": _TEXT, "jwks_uri": _TEXT}, "issuer", "token_endpoint",
                "jwks_uri", closed=False)),),
            _SELF_ERRORS, access=_ANYONE,
        )},
        "/{tenant}/discovery/v2.0/keys": {"GET": Operation(
            "issuer.GetKeys", "The emulator's signing keys (JWKS)", "issuer",
            (Reply(200, "A JSON Web Key Set.", _object(
                {"keys": {"type": "array", "items": {"type": "object", "required": ["kty", "kid"]}}}, "keys")),),
            _SELF_ERRORS, access=_ANYONE,
        )},
        "/{tenant}/oauth2/v2.0/token": {"POST": Operation(
            "issuer.PostToken", "Issue an access token (emulator mode)", "issuer",
            (Reply(200, "The token response.", token), *oauth_error), (413, 500), access=_ANYONE,
            body=token_form, body_media_types=(FORM,),
            description="Client credentials may also come as HTTP Basic. Failures use OAuth 2.0's error "
                        "shape, as Entra's do.",
        )},
    }


def _control(operation_id: str, summary: str, reply: Reply, *, errors: tuple[int, ...] = (),
             query: tuple[str, ...] = (), body: Schema | None = None,
             body_media_types: tuple[str, ...] = ("application/json",)) -> Operation:
    """An operation of the control API: admin token, never throttled or faulted."""
    return Operation(f"control.{operation_id}", summary, "control", (reply,), (*CONTROL_ERRORS, *errors),
                     access=Access.ADMIN, query=query, body=body, body_media_types=body_media_types)


def _control_api() -> Paths:
    done = Reply(204, "Done.")
    rule = ref(FAULT_RULE)
    rules = _object({"value": {"type": "array", "items": rule}}, "value")
    fault_input = _object({name: {} for name in FAULT_PROPERTIES})
    throttling_input = {**SCHEMAS[THROTTLING], "required": []}
    return {
        "/_graphlang/health": {"GET": Operation(
            "control.GetHealth", "Liveness", "control",
            (Reply(200, "The process is up.", _object({"status": _TEXT, "version": _TEXT}, "status")),),
            _SELF_ERRORS, access=_ANYONE,
        )},
        "/_graphlang/ready": {"GET": Operation(
            "control.GetReady", "Readiness: the database answers", "control",
            (Reply(200, "Ready.", _object({"status": _TEXT}, "status")),), (500, 503), access=_ANYONE,
        )},
        "/_graphlang/reset": {"POST": _control(
            "Reset", "Back to the state at start, for everyone or one user",
            Reply(200, "What was reset and seeded.", _object(
                {"reset": _TEXT, "seeded": nullable(ref(COUNTS)), "languagesRemoved": _WHOLE}, "reset", "seeded")),
            errors=(400, 503), query=("reseed", "reset-user", "reset-tenant"),
        )},
        "/_graphlang/seed": {"POST": _control(
            "Seed", "Load a fixture of users, apps and languages",
            Reply(200, "What was loaded.", _object({"seeded": ref(COUNTS)}, "seeded")),
            errors=(400, 413, 415, 503), body={"type": "object"},
            body_media_types=("application/json", "application/yaml"),
        )},
        "/_graphlang/snapshot": {
            "GET": _control("GetSnapshot", "Export every table", Reply(200, "The snapshot.", ref(SNAPSHOT)),
                            errors=(503,)),
            "PUT": _control("PutSnapshot", "Replace every table with a snapshot's rows",
                            Reply(200, "What was imported.", _object({"imported": ref(COUNTS)}, "imported")),
                            errors=(400, 413, 415, 503), body=ref(SNAPSHOT)),
        },
        "/_graphlang/requests": {
            "GET": _control("ListRequests", "The request journal",
                            Reply(200, "The most recent requests, oldest first.", _object(
                                {"value": {"type": "array", "items": {"type": "object"}}}, "value")),
                            errors=(400,), query=("journal-status", "journal-mistakes", "journal-top")),
            "DELETE": _control("ClearRequests", "Empty the request journal", done),
        },
        "/_graphlang/faults": {
            "GET": _control("ListFaults", "The fault rules", Reply(200, "Every rule.", rules)),
            "POST": _control("AddFaults", "Add a fault rule, or a list of them (all or none)",
                             Reply(201, "The rule (with its Location), or the list of rules.",
                                   {"anyOf": [rule, rules]}, headers=("Location?",)),
                             errors=(400, 413, 415), body={"anyOf": [fault_input, {"type": "array",
                                                                                    "items": fault_input}]}),
            "DELETE": _control("RemoveFaults", "Remove every fault rule", done),
        },
        "/_graphlang/faults/{rule}": {
            "GET": _control("GetFault", "One fault rule", Reply(200, "The rule.", rule)),
            "DELETE": _control("RemoveFault", "Remove one fault rule", done),
        },
        "/_graphlang/throttling": {
            "GET": _control("GetThrottling", "The throttling settings", Reply(200, "The settings.",
                                                                             ref(THROTTLING))),
            "PATCH": _control("UpdateThrottling", "Change the throttling settings until the next reset",
                              Reply(200, "The settings now.", ref(THROTTLING)),
                              errors=(400, 413, 415), body=throttling_input),
        },
        "/_graphlang/permissions/report": {"GET": _control(
            "GetPermissionsReport", "Permissions used and needed, per caller, since the process started",
            Reply(200, "The report.", {"type": "object"}),
        )},
    }


PATHS: Paths = {**_self_description(), **_issuer(), **_control_api()}
