"""The Graph routes under ``/beta``: profile languages (with ``$count`` and the upsert), the profile and
``$batch``."""

from __future__ import annotations

from graphlang.describe import schemas
from graphlang.describe.operations import GRAPH_ERRORS, READ_ERRORS, WRITE_ERRORS, Operation, Paths, Reply
from graphlang.describe.schemas import Schema, ref


def odata(*names: str) -> tuple[str, ...]:
    """OData system query options: each is accepted as ``$name`` and, as on Graph beta, as ``name``."""
    return tuple(parameter for name in names for parameter in (name, f"{name}-bare"))


# By the scope that accepts them. $expand and $search are documented because Graph's SDK offers them;
# this resource answers them with 400.
LIST_OPTIONS = odata("select", "filter", "orderby", "top", "skip", "count", "expand", "search", "skiptoken",
                     "format")
ITEM_OPTIONS = odata("select", "expand", "format")
COUNT_OPTIONS = odata("filter", "format")

PROFILE = f"{schemas.PREFIX}profile"
DELTA_PAYLOAD = "graphlang.languageProficiencyDelta"
DELTA_RESPONSE = "graphlang.languageProficiencyDeltaResponse"
BATCH_REQUEST = "graphlang.batchRequest"
BATCH_RESPONSE = "graphlang.batchResponse"
MAX_BATCH_REQUESTS = 20

_ETAG = ("ETag",)
_ENTITY = ref(schemas.LANGUAGE_ENTITY)
_CHANGES = ref(schemas.LANGUAGE_CHANGES)
_MINIMAL = Reply(204, "Prefer: return=minimal was sent: no body.", headers=("Preference-Applied",))


def _strings() -> Schema:
    return {"type": "object", "additionalProperties": {"type": "string"}}


SCHEMAS: dict[str, Schema] = {
    PROFILE: {
        "type": "object",
        "description": "The profile with its languages facet, the only facet graphlang keeps.",
        "required": ["@odata.context", "id", "languages"],
        "properties": {"@odata.context": {"type": "string"}, "id": {"type": "string"},
                       "languages": {"type": "array", "items": ref(schemas.LANGUAGE)}},
        "additionalProperties": False,
    },
    DELTA_PAYLOAD: {
        "type": "object",
        "description": "An OData delta payload: each entry upserts an item (by id, else by tag), or removes "
                       "the item with its id when marked @removed; an entry's @odata.etag makes it "
                       "conditional. All entries apply, or none.",
        "required": ["@context", "value"],
        "properties": {"@context": {"type": "string", "pattern": "\\$delta$", "example": "#$delta"},
                       "value": {"type": "array", "items": _CHANGES}},
    },
    DELTA_RESPONSE: {
        "type": "object",
        "required": ["@odata.context", "value"],
        "properties": {
            "@odata.context": {"type": "string"},
            "value": {"type": "array", "items": {"anyOf": [
                ref(schemas.LANGUAGE),
                {"type": "object", "required": ["id", "@removed"],
                 "properties": {"id": {"type": "string"}, "@removed": {"type": "object"}},
                 "additionalProperties": False},
            ]}},
        },
        "additionalProperties": False,
    },
    BATCH_REQUEST: {
        "type": "object",
        "required": ["requests"],
        "properties": {"requests": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_REQUESTS, "items": {
            "type": "object",
            "required": ["id", "method", "url"],
            "properties": {
                "id": {"type": "string", "minLength": 1, "description": "Unique in the batch, case-insensitively."},
                "method": {"type": "string", "example": "GET"},
                "url": {"type": "string", "minLength": 1, "example": "/me/profile/languages",
                        "description": "Relative to the version root."},
                "headers": _strings(),
                "body": {"description": "JSON, or a base64 string; needs a Content-Type in headers."},
                "dependsOn": {"type": "array", "items": {"type": "string", "minLength": 1}},
            },
        }}},
    },
    BATCH_RESPONSE: {
        "type": "object",
        "required": ["responses"],
        "properties": {"responses": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "status", "headers"],
            "properties": {"id": {"type": "string"}, "status": {"type": "integer"}, "headers": _strings(),
                           "body": {"description": "JSON, or base64 for any other content."}},
            "additionalProperties": False,
        }}},
        "additionalProperties": False,
    },
}


def _languages(owner: str, prefix: str, who: str) -> Paths:
    """The languages operations under ``owner``: ``/beta/me`` or ``/beta/users/{user}``."""
    collection = f"{owner}/profile/languages"
    by_id = {"language": "$response.body#/id"}
    if "{user}" in owner:
        by_id["user"] = "$request.path.user"
    get_created = {"GetCreatedLanguage": {"operationId": f"{prefix}.GetLanguage", "parameters": by_id}}
    return {
        collection: {
            "GET": Operation(
                f"{prefix}.ListLanguages", f"List {who} languages", "languages",
                (Reply(200, "One page of the collection.", ref(schemas.LANGUAGE_COLLECTION)),),
                READ_ERRORS, query=LIST_OPTIONS,
                description="Ordered by createdDateTime then id unless $orderby says otherwise; more pages "
                            "are linked by @odata.nextLink.",
            ),
            "POST": Operation(
                f"{prefix}.CreateLanguage", f"Add a language to {who} profile", "languages",
                (Reply(201, "Created.", _ENTITY, headers=("Location", *_ETAG)), _MINIMAL),
                WRITE_ERRORS, headers=("Prefer",), body=_CHANGES, links=get_created,
            ),
            "PATCH": Operation(
                f"{prefix}.UpsertLanguages", f"Upsert languages in {who} profile (extension)", "languages",
                (Reply(200, "The language as it now is (whether updated or created), or the outcome of each "
                       "delta entry.", {"anyOf": [_ENTITY, ref(DELTA_RESPONSE)]}), _MINIMAL),
                (*WRITE_ERRORS, 412), headers=("If-Match", "Prefer"),
                body={"anyOf": [_CHANGES, ref(DELTA_PAYLOAD)]},
                description="One object updates the language with its id, else the oldest with its tag, else "
                            "creates one. A delta payload does that for each entry, in one transaction.",
            ),
        },
        f"{collection}/$count": {"GET": Operation(
            f"{prefix}.CountLanguages", f"Count {who} languages", "languages",
            (Reply(200, "The number of (filtered) items.", {"type": "string", "pattern": "^[0-9]+$"},
                   media_type="text/plain"),),
            READ_ERRORS, query=COUNT_OPTIONS,
        )},
        f"{collection}/{{language}}": {
            "GET": Operation(
                f"{prefix}.GetLanguage", f"Get one of {who} languages", "languages",
                (Reply(200, "The language.", _ENTITY, headers=_ETAG),), READ_ERRORS, query=ITEM_OPTIONS,
            ),
            "PATCH": Operation(
                f"{prefix}.UpdateLanguage", f"Update one of {who} languages", "languages",
                (Reply(200, "The language as it now is.", _ENTITY, headers=_ETAG), _MINIMAL),
                (*WRITE_ERRORS, 412), headers=("If-Match", "Prefer"), body=_CHANGES,
                description="Merges: absent properties keep their values; an explicit null clears one.",
            ),
            "DELETE": Operation(
                f"{prefix}.DeleteLanguage", f"Delete one of {who} languages", "languages",
                (Reply(204, "Deleted."),), (400, 403, 404, 412, *GRAPH_ERRORS), headers=("If-Match",),
            ),
        },
    }


def _profile(owner: str, prefix: str, who: str) -> Paths:
    return {f"{owner}/profile": {"GET": Operation(
        f"{prefix}.GetProfile", f"Get {who} profile", "profile",
        (Reply(200, "The profile.", ref(PROFILE)),), READ_ERRORS,
    )}}


PATHS: Paths = {
    **_languages("/beta/me", "me", "your"),
    **_languages("/beta/users/{user}", "users", "a user's"),
    **_profile("/beta/me", "me", "your"),
    **_profile("/beta/users/{user}", "users", "a user's"),
    "/beta/user/{user}/profile/languages": {"PATCH": Operation(
        "user.UpsertLanguages", "Upsert languages (the seed route, extension)", "languages",
        (Reply(200, "As the upsert on /users/{user}/profile/languages.",
               {"anyOf": [_ENTITY, ref(DELTA_RESPONSE)]}), _MINIMAL),
        (*WRITE_ERRORS, 412), headers=("If-Match", "Prefer"), body={"anyOf": [_CHANGES, ref(DELTA_PAYLOAD)]},
    )},
    "/beta/$batch": {"POST": Operation(
        "batch.Post", "Run up to 20 requests in one", "batch",
        (Reply(200, "Each request's own status, headers and body.", ref(BATCH_RESPONSE)),),
        (400, 413, 415, *GRAPH_ERRORS), body=ref(BATCH_REQUEST),
        description="Each request goes through the full request path (authentication, throttling, faults); "
                    "a request whose dependency failed gets 424.",
    )},
}
