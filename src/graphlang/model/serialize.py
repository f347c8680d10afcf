"""A stored row as Graph's JSON for languageProficiency: every property, null where unset."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
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
        return _whole(row)
    out: dict[str, Any] = {"@odata.etag": etag_of(row)}
    for name in select:
        out[name] = RENDERERS[name](row)
    return out


# Every column ``_whole`` reads, and nothing else: a row's values of these determine its rendering.
RENDERED_COLUMNS = ("id", "version", "allowed_audiences", "confidence_score", "user_has_verified_accuracy",
                    "created_ticks", "created_by", "modified_ticks", "last_modified_by", "source", "sources",
                    "is_searchable", "display_name", "tag", "spoken", "written", "reading", "proficiency",
                    "thumbnail_url")
_rendered_values = operator.itemgetter(*RENDERED_COLUMNS)


def rendered_item(row: Row) -> orjson.Fragment:
    """The whole entity, already serialized, for a collection's ``value``."""
    return orjson.Fragment(_rendered(_rendered_values(row)))


def collection_items(rows: Sequence[Row], select: Iterable[str] | None = None
                     ) -> list[orjson.Fragment] | list[dict[str, Any]]:
    """A collection's ``value``: each whole entity already serialized, or its selected properties."""
    if select is not None:
        return [to_json_object(row, select) for row in rows]
    # Rows the database driver's tuples still hold (storage's StoredRows) render from those: an item
    # seen before is then found without making its dict, or the key of ``_rendered``, at all.
    raw: Sequence[tuple[Any, ...]] | None = getattr(rows, "raw", None)
    if raw is None:
        return [rendered_item(row) for row in rows]
    convert: Callable[[tuple[Any, ...]], Row] = getattr(rows, "convert")  # noqa: B009 - known to be there
    return [_fragment_from_driver(convert, values) for values in raw]


def rendered_entity(context: str, row: Row) -> bytes:
    """The whole entity as a response body: ``@odata.context`` first, then what ``to_json_object``
    gives, byte for byte as ``orjson.dumps`` would write the two together."""
    # A view of the rendering after its opening brace: the one copy is the concatenation's.
    return b'{"@odata.context":' + orjson.dumps(context) + b"," + memoryview(_rendered(_rendered_values(row)))[1:]


@lru_cache(maxsize=2048)  # about 1.5 KB an item with its key: 3 MB at most per process
def _rendered(values: tuple[Any, ...]) -> bytes:
    # A profile's items are read far more often than they change, and rendering one costs several
    # times what finding it here does. The key is every value the rendering reads
    # (RENDERED_COLUMNS), so a changed item, whatever changed it, is rendered afresh. Booleans come
    # from the database drivers as bool (SQLAlchemy's processors), never as the 1/0 a key would take
    # for equal. What is kept is a copy of the exact size: orjson's own result keeps the 8 KB it was
    # written in.
    return bytes(memoryview(orjson.dumps(_whole(dict(zip(RENDERED_COLUMNS, values, strict=True))))))


@lru_cache(maxsize=2048)  # its fragments hold _rendered's own bytes: about 0.3 KB an item for the key
def _fragment_from_driver(convert: Callable[[tuple[Any, ...]], Row], values: tuple[Any, ...]) -> orjson.Fragment:
    # ``values`` is a row as the driver gave it, which ``convert`` makes the dict that is rendered:
    # the same values, so the same rendering, from the same converter (one per statement and
    # database, so a driver's 1 and another's True never share a key). A whole REAL that SQLite hands
    # back as 1 equals the 1.0 another row holds, and both render as 1.
    return orjson.Fragment(_rendered(_rendered_values(convert(values))))


def _whole(row: Row) -> dict[str, Any]:
    # Every property, written out rather than looked up in RENDERERS: this runs for every item of
    # every response. The stored JSON values (written by orjson) go into the response as they are,
    # as orjson fragments, instead of being parsed only to be serialized again. tests/model pins
    # the serialized result to RENDERERS'.
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
