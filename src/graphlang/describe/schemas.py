"""JSON Schemas (OpenAPI 3.1 components) for graphlang's bodies, derived from the entity data model.

Response schemas describe exactly what the service writes (``additionalProperties`` is false wherever
the type is closed); request schemas describe what a client may send, which is a little wider in two
places where the service is lenient on input: a flags enum may also be a JSON array of members, and
``source.type`` may also be a single string (the docs' shape).
"""

from __future__ import annotations

from typing import Any

from graphlang.describe import edm
from graphlang.model.properties import PROPERTIES

Schema = dict[str, Any]

PREFIX = f"{edm.NAMESPACE}."
LANGUAGE = f"{PREFIX}languageProficiency"
LANGUAGE_ENTITY = f"{LANGUAGE}Entity"
LANGUAGE_COLLECTION = f"{PREFIX}languageProficiencyCollectionResponse"
LANGUAGE_CHANGES = "graphlang.languageProficiencyChanges"
SERVICE_DOCUMENT = "graphlang.serviceDocument"
ODATA_ERROR = f"{PREFIX}ODataErrors.ODataError"
MAIN_ERROR = f"{PREFIX}ODataErrors.MainError"
INNER_ERROR = f"{PREFIX}ODataErrors.InnerError"
ERROR_DETAILS = f"{PREFIX}ODataErrors.ErrorDetails"

_PRIMITIVES: dict[str, Schema] = {
    "Edm.String": {"type": "string"},
    "Edm.Boolean": {"type": "boolean"},
    "Edm.Double": {"type": "number"},
    # Graph's own form: UTC, seven fractional digits, "Z".
    "Edm.DateTimeOffset": {"type": "string", "format": "date-time"},
}
# Path segments: none holds a NUL, and a key segment never starts with "$" (that is a segment such as
# $count, not a key).
SEGMENT: Schema = {"type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$"}
KEY_SEGMENT: Schema = {"type": "string", "minLength": 1, "pattern": "^[^$\\u0000][^\\u0000]*$"}
# A @odata.* control property (context, etag, type, nextLink, count) may accompany any entity.
_ODATA_CONTROL: Schema = {"^@odata\\.": {}}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    if "type" in schema and "$ref" not in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _flags_pattern(members: list[str], lenient: bool) -> str:
    spaces = "\\s*" if lenient else ""
    one = f"{spaces}({'|'.join(members)}){spaces}"
    return f"^{one}(,{one})*$"


def type_schema(type_ref: str, *, request: bool = False) -> Schema:
    """The schema of a (non-null) value of a CSDL type."""
    if type_ref.startswith("Collection(") and type_ref.endswith(")"):
        return {"type": "array", "items": type_schema(type_ref[len("Collection("):-1], request=request)}
    if type_ref in _PRIMITIVES:
        return dict(_PRIMITIVES[type_ref])
    name = type_ref.removeprefix(f"{edm.ALIAS}.")
    enum_type = edm.ENUMS_BY_NAME.get(name)
    if request and enum_type is not None and enum_type.flags:
        members = list(enum_type.members)
        return {"anyOf": [
            {"type": "string", "pattern": _flags_pattern(members, lenient=True)},
            {"type": "array", "items": {"enum": members}, "minItems": 1},
        ]}
    if request and name in edm.COMPLEX_BY_NAME:
        return _complex_schema(edm.COMPLEX_BY_NAME[name], request=True)
    return ref(f"{PREFIX}{name}")


def _enum_schema(declared: edm.EnumType) -> Schema:
    members = list(declared.members)
    if declared.flags:
        return {
            "title": declared.name,
            "type": "string",
            "description": "A flags enum: one member, or several joined by commas in declaration order "
                           f"({', '.join(members)}).",
            "pattern": _flags_pattern(members, lenient=False),
            "x-ms-enum-flags": {"isFlags": True},
        }
    return {"title": declared.name, "type": "string", "enum": members}


def _complex_schema(declared: edm.StructuredType, *, request: bool = False) -> Schema:
    properties = {p.name: nullable(type_schema(p.type, request=request)) for p in declared.properties}
    if request and declared.name == "personDataSources":
        properties["type"] = nullable({"anyOf": [{"type": "string"}, type_schema("Collection(Edm.String)")]})
    schema: Schema = {"title": declared.name, "type": "object", "properties": properties}
    if not declared.open:
        # Open types may carry more members; closed ones never do, except annotations on input.
        if request:
            schema["patternProperties"] = {"@": {}}
        schema["additionalProperties"] = False
    return schema


def _language_schema() -> Schema:
    properties: dict[str, Schema] = {"@odata.etag": {"type": "string"}}
    for prop in edm.all_properties("languageProficiency"):
        value = type_schema(prop.type)
        properties[prop.name] = nullable(value) if prop.nullable else value
    return {
        "title": "languageProficiency",
        "description": "Every property is returned unless $select names a subset.",
        "type": "object",
        "properties": properties,
        "required": ["@odata.etag"],
        "patternProperties": _ODATA_CONTROL,
        "additionalProperties": False,
    }


def _changes_schema() -> Schema:
    settable = {p.name for p in PROPERTIES if p.settable}
    properties: dict[str, Schema] = {"@odata.type": {"type": "string", "example": f"#{LANGUAGE}"}}
    for prop in edm.all_properties("languageProficiency"):
        if prop.name in settable:
            properties[prop.name] = nullable(type_schema(prop.type, request=True))
        else:
            properties[prop.name] = {"description": "Server-managed: any value sent is ignored."}
    properties["tag"]["description"] = "A BCP-47 language tag; it is stored in canonical form (en-us -> en-US)."
    properties["id"]["description"] = ("Ignored, except by the upsert (PATCH on the collection), which "
                                       "updates the item with this id when it is a string.")
    return {
        "title": "languageProficiency (request)",
        "description": "The properties to set. Server-managed properties and instance annotations (names "
                       "containing '@') are ignored; any other name is a 400.",
        "type": "object",
        "properties": properties,
        "patternProperties": {"@": {}},
        "additionalProperties": False,
        "example": {"displayName": "Norwegian Bokmål", "tag": "nb-NO", "spoken": "nativeOrBilingual",
                    "written": "nativeOrBilingual", "reading": "nativeOrBilingual"},
    }


def _error_schemas() -> dict[str, Schema]:
    text = {"type": "string"}
    return {
        ODATA_ERROR: {"type": "object", "required": ["error"], "properties": {"error": ref(MAIN_ERROR)},
                      "additionalProperties": False},
        MAIN_ERROR: {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": text, "message": text, "target": nullable(text),
                           "details": {"type": "array", "items": ref(ERROR_DETAILS)},
                           "innerError": ref(INNER_ERROR)},
            "additionalProperties": False,
        },
        ERROR_DETAILS: {"type": "object", "required": ["code", "message"],
                        "properties": {"code": text, "message": text, "target": nullable(text)}},
        INNER_ERROR: {
            "type": "object",
            "description": "Seconds-precision date without a zone, as Graph writes it; more specific "
                           "members (code, status) may follow.",
            "required": ["date", "request-id", "client-request-id"],
            "properties": {"date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$"},
                           "request-id": text, "client-request-id": text},
        },
    }


def component_schemas() -> dict[str, Schema]:
    schemas: dict[str, Schema] = {}
    for enum_type in edm.ENUM_TYPES:
        schemas[f"{PREFIX}{enum_type.name}"] = _enum_schema(enum_type)
    for complex_type in edm.COMPLEX_TYPES:
        schemas[f"{PREFIX}{complex_type.name}"] = _complex_schema(complex_type)
    schemas[LANGUAGE] = _language_schema()
    schemas[LANGUAGE_ENTITY] = {"allOf": [ref(LANGUAGE), {"required": ["@odata.context"]}]}
    schemas[LANGUAGE_COLLECTION] = {
        "type": "object",
        "required": ["@odata.context", "value"],
        "properties": {
            "@odata.context": {"type": "string"},
            "@odata.count": {"type": "integer", "minimum": 0},
            "@odata.nextLink": {"type": "string", "format": "uri",
                                "description": "Absolute URL of the next page, with an opaque $skiptoken."},
            "value": {"type": "array", "items": ref(LANGUAGE)},
        },
        "additionalProperties": False,
    }
    schemas[LANGUAGE_CHANGES] = _changes_schema()
    schemas[SERVICE_DOCUMENT] = {
        "type": "object",
        "required": ["@odata.context", "value"],
        "properties": {
            "@odata.context": {"type": "string"},
            "value": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "kind", "url"],
                "properties": {"name": {"type": "string"},
                               "kind": {"enum": sorted({m.kind for m in edm.CONTAINER_MEMBERS})},
                               "url": {"type": "string"}},
                "additionalProperties": False,
            }},
        },
        "additionalProperties": False,
    }
    schemas.update(_error_schemas())
    return schemas
