"""A stored row as Graph's JSON for languageProficiency: every property, null where unset."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from graphlang.model import enums
from graphlang.model.timestamps import format_ticks

Row = Mapping[Any, Any]


def _level(value: int | None) -> str | None:
    return None if value is None else enums.LEVEL_NAMES[value]


def _json(value: bytes | str | None) -> Any:
    return None if value is None else orjson.loads(value)


def _inference(row: Row) -> dict[str, Any] | None:
    score, verified = row["confidence_score"], row["user_has_verified_accuracy"]
    if score is None and verified is None:
        return None
    return {"confidenceScore": score, "userHasVerifiedAccuracy": verified}


def _score(value: float | None) -> float | int | None:
    # Whole numbers print as Graph prints them (1024, not 1024.0), as long as they are exact integers
    # in a double. SQLite may hand a whole REAL back as an int, so normalise through float first.
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() and abs(number) <= 2**53 else number


RENDERERS: Mapping[str, Callable[[Row], Any]] = {
    "id": lambda r: r["id"],
    "allowedAudiences": lambda r: (
        None if r["allowed_audiences"] is None else enums.format_audiences(r["allowed_audiences"])
    ),
    "inference": lambda r: (
        None if (inf := _inference(r)) is None
        else {**inf, "confidenceScore": _score(inf["confidenceScore"])}
    ),
    "createdDateTime": lambda r: format_ticks(r["created_ticks"]),
    "createdBy": lambda r: _json(r["created_by"]),
    "lastModifiedDateTime": lambda r: format_ticks(r["modified_ticks"]),
    "lastModifiedBy": lambda r: _json(r["last_modified_by"]),
    "source": lambda r: _json(r["source"]),
    "sources": lambda r: _json(r["sources"]),
    "isSearchable": lambda r: r["is_searchable"],
    "displayName": lambda r: r["display_name"],
    "tag": lambda r: r["tag"],
    "spoken": lambda r: _level(r["spoken"]),
    "written": lambda r: _level(r["written"]),
    "reading": lambda r: _level(r["reading"]),
    "proficiency": lambda r: _level(r["proficiency"]),
    "thumbnailUrl": lambda r: r["thumbnail_url"],
}

ALL_PROPERTIES: tuple[str, ...] = tuple(RENDERERS)


def etag_of(row: Row) -> str:
    return f'W/"{row["id"]}-{row["version"]}"'


def to_json_object(row: Row, select: Iterable[str] | None = None) -> dict[str, Any]:
    """The entity as a dict, with only ``select``'s properties when it is given."""
    if select is None:
        return whole_entity(row)
    out: dict[str, Any] = {"@odata.etag": etag_of(row)}
    for name in select:
        out[name] = RENDERERS[name](row)
    return out


def whole_entity(row: Row) -> dict[str, Any]:
    """Every property, written out rather than looked up in RENDERERS (tests/model holds the two
    equal): this runs for every item a process renders."""
    # The stored JSON values (written by orjson) go into the response as they are, as orjson
    # fragments, instead of being parsed only to be serialized again.
    audiences = row["allowed_audiences"]
    levels = enums.LEVEL_NAMES
    spoken, written, reading, proficiency = row["spoken"], row["written"], row["reading"], row["proficiency"]
    created_by, modified_by = row["created_by"], row["last_modified_by"]
    source, sources = row["source"], row["sources"]
    inference = _inference(row)
    return {
        "@odata.etag": f'W/"{row["id"]}-{row["version"]}"',
        "id": row["id"],
        "allowedAudiences": None if audiences is None else enums.format_audiences(audiences),
        "inference": None if inference is None else {**inference,
                                                     "confidenceScore": _score(inference["confidenceScore"])},
        "createdDateTime": format_ticks(row["created_ticks"]),
        "createdBy": None if created_by is None else orjson.Fragment(created_by),
        "lastModifiedDateTime": format_ticks(row["modified_ticks"]),
        "lastModifiedBy": None if modified_by is None else orjson.Fragment(modified_by),
        "source": None if source is None else orjson.Fragment(source),
        "sources": None if sources is None else orjson.Fragment(sources),
        "isSearchable": row["is_searchable"],
        "displayName": row["display_name"],
        "tag": row["tag"],
        "spoken": None if spoken is None else levels[spoken],
        "written": None if written is None else levels[written],
        "reading": None if reading is None else levels[reading],
        "proficiency": None if proficiency is None else levels[proficiency],
        "thumbnailUrl": row["thumbnail_url"],
    }
