"""Rendering a stored row as Graph's languageProficiency JSON."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from graphlang.model.serialize import (
    ALL_PROPERTIES,
    RENDERED_COLUMNS,
    RENDERERS,
    collection_items,
    rendered_entity,
    rendered_item,
    to_json_object,
)

EMPTY_ROW: dict[str, Any] = {
    "id": "0f8b1a5e-0000-4000-8000-000000000001", "version": 1, "allowed_audiences": None,
    "confidence_score": None, "user_has_verified_accuracy": None, "created_ticks": 17_000_000_000_000_000,
    "modified_ticks": 17_000_000_000_000_001, "created_by": None, "last_modified_by": None, "source": None,
    "sources": None, "is_searchable": None, "display_name": None, "tag": None, "spoken": None, "written": None,
    "reading": None, "proficiency": None, "thumbnail_url": None,
}
FULL_ROW: dict[str, Any] = {
    **EMPTY_ROW, "version": 7, "allowed_audiences": 3, "confidence_score": 1024.0,
    "user_has_verified_accuracy": True, "created_by": orjson.dumps({"user": {"id": "u"}}),
    "last_modified_by": orjson.dumps({"application": {"id": "a"}}), "source": orjson.dumps({"type": ["User"]}),
    "sources": orjson.dumps([{"type": ["User"]}]), "is_searchable": False, "display_name": "English",
    "tag": "en-US", "spoken": 0, "written": 1, "reading": 2, "proficiency": 3, "thumbnail_url": "https://x/y.png",
}


def by_renderers(row: dict[str, Any]) -> dict[str, Any]:
    etag = f'W/"{row["id"]}-{row["version"]}"'
    return {"@odata.etag": etag, **{name: RENDERERS[name](row) for name in ALL_PROPERTIES}}


@pytest.mark.parametrize("row", [EMPTY_ROW, FULL_ROW, {**FULL_ROW, "confidence_score": 0.5,
                                                        "user_has_verified_accuracy": None}])
def test_whole_entity_serializes_every_property_as_the_renderers_do(row: dict[str, Any]) -> None:
    rendered = to_json_object(row)
    assert orjson.loads(orjson.dumps(rendered)) == by_renderers(row)
    assert orjson.dumps(rendered) == orjson.dumps(by_renderers(row))
    assert list(rendered) == ["@odata.etag", *ALL_PROPERTIES]


def test_whole_number_confidence_score_renders_as_an_integer() -> None:
    assert to_json_object(FULL_ROW)["inference"] == {"confidenceScore": 1024, "userHasVerifiedAccuracy": True}


def test_select_renders_only_the_selected_properties_and_the_etag() -> None:
    assert to_json_object(FULL_ROW, ("tag", "spoken")) == {
        "@odata.etag": 'W/"0f8b1a5e-0000-4000-8000-000000000001-7"', "tag": "en-US",
        "spoken": RENDERERS["spoken"](FULL_ROW)}


@pytest.mark.parametrize("row", [EMPTY_ROW, FULL_ROW])
def test_rendered_item_is_the_whole_entity_serialized(row: dict[str, Any]) -> None:
    assert orjson.dumps({"value": [rendered_item(row)]}) == orjson.dumps({"value": [to_json_object(row)]})


@pytest.mark.parametrize("row", [EMPTY_ROW, FULL_ROW])
def test_rendered_entity_is_the_context_and_the_whole_entity_serialized(row: dict[str, Any]) -> None:
    context = "https://graph.microsoft.com/beta/$metadata#users('u')/profile/languages/$entity"
    assert rendered_entity(context, row) == orjson.dumps({"@odata.context": context, **to_json_object(row)})


def test_rendering_reads_no_column_outside_rendered_columns() -> None:
    # The rendered cache is keyed by these columns' values: a column read but not keyed would let a
    # changed item be answered with its old rendering.
    only_keyed = {name: FULL_ROW[name] for name in RENDERED_COLUMNS}
    assert orjson.dumps(to_json_object(only_keyed)) == orjson.dumps(to_json_object(FULL_ROW))
    assert set(RENDERED_COLUMNS) == set(FULL_ROW)


@pytest.mark.parametrize(("column", "changed"), [("tag", "en-GB"), ("spoken", 5), ("is_searchable", True),
                                                 ("created_by", b'{"user":{"id":"v"}}'), ("version", 8)])
def test_rendered_item_of_a_changed_row_is_rendered_afresh(column: str, changed: Any) -> None:
    before = orjson.loads(orjson.dumps([rendered_item(FULL_ROW)]))[0]
    after = orjson.loads(orjson.dumps([rendered_item({**FULL_ROW, column: changed})]))[0]
    assert after == orjson.loads(orjson.dumps(to_json_object({**FULL_ROW, column: changed})))
    assert after != before


class DriverRows(list[dict[str, Any]]):
    """Rows as storage's StoredRows holds them: the driver's tuples and the converter that makes each a
    dict (here SQLite's: booleans stored as 0/1)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(rows)
        self.raw = [tuple(int(v) if isinstance(v, bool) else v for v in row.values()) for row in rows]

    @staticmethod
    def convert(values: tuple[Any, ...]) -> dict[str, Any]:
        row = dict(zip(RENDERED_COLUMNS, values, strict=True))
        for column in ("is_searchable", "user_has_verified_accuracy"):
            if row[column] is not None:
                row[column] = bool(row[column])
        return row


def in_columns_order(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in RENDERED_COLUMNS}


def test_collection_items_from_driver_rows_are_those_of_their_dicts() -> None:
    rows = [in_columns_order(EMPTY_ROW), in_columns_order(FULL_ROW)]
    expected = orjson.dumps([to_json_object(row) for row in rows])
    assert orjson.dumps(collection_items(DriverRows(rows))) == expected
    assert orjson.dumps(collection_items(DriverRows(rows))) == expected  # and again, from the cache
    assert orjson.dumps(collection_items(rows)) == expected


@pytest.mark.parametrize(("column", "changed"), [("tag", "en-GB"), ("is_searchable", True), ("version", 8),
                                                 ("last_modified_by", b'{"user":{"id":"v"}}')])
def test_collection_items_from_a_changed_driver_row_are_rendered_afresh(column: str, changed: Any) -> None:
    before, after = in_columns_order(FULL_ROW), in_columns_order({**FULL_ROW, column: changed})
    assert orjson.dumps(collection_items(DriverRows([before]))) == orjson.dumps([to_json_object(before)])
    assert orjson.dumps(collection_items(DriverRows([after]))) == orjson.dumps([to_json_object(after)])


def test_a_whole_confidence_score_renders_alike_as_an_integer_or_a_real_from_the_driver() -> None:
    # SQLite may hand a whole REAL back as an int; the two are equal keys, and must render alike.
    as_int, as_real = (in_columns_order({**FULL_ROW, "confidence_score": score}) for score in (3, 3.0))
    assert orjson.dumps(collection_items(DriverRows([as_int]))) == orjson.dumps(collection_items(DriverRows([as_real])))


def test_collection_items_with_a_select_hold_only_the_selected_properties() -> None:
    assert collection_items(DriverRows([in_columns_order(FULL_ROW)]), ("tag",)) == [
        {"@odata.etag": 'W/"0f8b1a5e-0000-4000-8000-000000000001-7"', "tag": "en-US"}]
