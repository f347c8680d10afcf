"""Turn a client's JSON object into column changes, or raise BadRequest naming the problem.

Server-managed properties and ``@odata.*``/instance annotations are ignored, as Graph ignores
them; any other name that is not a property of the type is rejected with OData's own message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from graphlang.errors import BadRequest
from graphlang.model import enums
from graphlang.model.properties import (
    BY_NAME,
    ENTITY_TYPE,
    INFERENCE_MEMBERS,
    SOURCE_ANNOTATION_MEMBERS,
    Kind,
    Property,
)
from graphlang.model.tags import MAX_TAG_LENGTH, canonical_tag

Changes = dict[str, Any]


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _wrong_type(path: str, expected: str, value: object) -> BadRequest:
    return BadRequest(
        f"Invalid value for property '{path}': expected {expected}, got {_type_name(value)}."
    )


def _unknown(path: str, type_name: str) -> BadRequest:
    return BadRequest(
        f"The property '{path}' does not exist on type '{type_name}'. Make sure to only use property "
        "names that are defined by the type or mark the type as open type."
    )


def _string(path: str, value: object) -> str:
    if not isinstance(value, str):
        raise _wrong_type(path, "a string", value)
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL, and no property of this type has a use for it.
        raise BadRequest(f"Invalid value for property '{path}': the string contains a NUL character.")
    return value


def _boolean(path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _wrong_type(path, "a boolean", value)
    return value


def _double(path: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(path, "a number", value)
    number = float(value)
    if not math.isfinite(number):
        # JSON cannot carry these, but a YAML seed fixture can (.nan, .inf), and JSON could not return them.
        raise BadRequest(f"Invalid value for property '{path}': expected a finite number, got {number}.")
    return number


def _level(path: str, value: object) -> int:
    text = _string(path, value)
    level = enums.parse_level(text)
    if level is None:
        raise BadRequest(
            f"Invalid value '{text}' for property '{path}' of type '{enums.LEVEL_TYPE}'. "
            f"Valid members are: {', '.join(enums.LEVELS)}."
        )
    return level


def _audiences(path: str, value: object) -> int:
    # The SDK reads this flags enum as a list, so a JSON array of members is accepted too.
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        text = ",".join(value)
    elif isinstance(value, str):
        text = _string(path, value)
    else:
        raise _wrong_type(path, "a string or a non-empty array of member names", value)
    mask = enums.parse_audiences(text)
    if mask is None:
        raise BadRequest(
            f"Invalid value '{text}' for property '{path}' of type '{enums.AUDIENCES_TYPE}'. "
            f"Valid members are: {', '.join(enums.AUDIENCES)}, or a comma-separated combination."
        )
    return mask


def _tag(path: str, value: object) -> str:
    text = _string(path, value)
    tag = canonical_tag(text)
    if tag is None:
        raise BadRequest(f"Invalid value '{text}' for property '{path}': not a valid BCP-47 language tag.")
    if len(tag) > MAX_TAG_LENGTH:
        raise BadRequest(f"Invalid value for property '{path}': a language tag may have at most "
                         f"{MAX_TAG_LENGTH} characters, this one has {len(tag)}.")
    return tag


def _object(path: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _wrong_type(path, "an object", value)
    return value


def _members(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return {k: v for k, v in value.items() if "@" not in k}


def _inference(changes: Changes, value: object) -> None:
    if value is None:
        changes["confidence_score"] = None
        changes["user_has_verified_accuracy"] = None
        return
    members = _members(_object("inference", value))
    for key in members:
        if key not in INFERENCE_MEMBERS:
            raise _unknown(f"inference/{key}", "microsoft.graph.inferenceData")
    score = members.get("confidenceScore")
    verified = members.get("userHasVerifiedAccuracy")
    changes["confidence_score"] = None if score is None else _double("inference/confidenceScore", score)
    changes["user_has_verified_accuracy"] = (
        None if verified is None else _boolean("inference/userHasVerifiedAccuracy", verified)
    )


def _string_list(path: str, value: object) -> list[str]:
    if not isinstance(value, list):
        raise _wrong_type(path, "an array of strings", value)
    return [_string(path, item) for item in value]


def _source(value: object) -> bytes | None:
    if value is None:
        return None
    members = _members(_object("source", value))
    for key in members:
        if key != "type":
            raise _unknown(f"source/{key}", "microsoft.graph.personDataSources")
    kinds = members.get("type")
    # The docs show {"type": "User"}; the CSDL types it Collection(Edm.String). Accept both.
    if isinstance(kinds, str):
        kinds = [kinds]
    return orjson.dumps({"type": None if kinds is None else _string_list("source/type", kinds)})


def _sources(value: object) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _wrong_type("sources", "an array", value)
    annotations = []
    for item in value:
        members = _members(_object("sources", item))
        annotation: dict[str, Any] = dict.fromkeys(SOURCE_ANNOTATION_MEMBERS)
        for key, member in members.items():
            if key not in SOURCE_ANNOTATION_MEMBERS:
                raise _unknown(f"sources/{key}", "microsoft.graph.profileSourceAnnotation")
            if member is None:
                continue
            if key == "isDefaultSource":
                annotation[key] = _boolean("sources/isDefaultSource", member)
            elif key == "properties":
                annotation[key] = _string_list("sources/properties", member)
            else:
                annotation[key] = _string("sources/sourceId", member)
        annotations.append(annotation)
    return orjson.dumps(annotations)


def _apply(changes: Changes, prop: Property, value: object) -> None:
    name = prop.name
    if prop.kind is Kind.INFERENCE:
        _inference(changes, value)
        return
    column = prop.column
    assert column is not None
    if value is None:
        changes[column] = None
        if name == "tag":
            changes["tag_key"] = None
        return
    if prop.kind is Kind.LEVEL:
        changes[column] = _level(name, value)
    elif prop.kind is Kind.AUDIENCES:
        changes[column] = _audiences(name, value)
    elif prop.kind is Kind.BOOLEAN:
        changes[column] = _boolean(name, value)
    elif prop.kind is Kind.SOURCE:
        changes[column] = _source(value)
    elif prop.kind is Kind.SOURCES:
        changes[column] = _sources(value)
    elif name == "tag":
        tag = _tag(name, value)
        changes[column] = tag
        changes["tag_key"] = tag.lower()
    else:
        changes[column] = _string(name, value)


def parse_changes(body: object) -> Changes:
    """Column changes for every settable property present in ``body``."""
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object describing a {ENTITY_TYPE}, "
                         f"got {_type_name(body)}.")
    changes: Changes = {}
    for key, value in body.items():
        if "@" in key:
            continue  # @odata.type and other instance annotations
        prop = BY_NAME.get(key)
        if prop is None:
            raise _unknown(key, ENTITY_TYPE)
        if prop.settable:
            _apply(changes, prop, value)
    return changes


def body_id(body: Mapping[str, Any]) -> str | None:
    """The ``id`` a client put in an upsert body, if it is a string."""
    value = body.get("id")
    return value if isinstance(value, str) and value else None
