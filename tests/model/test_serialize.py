"""Rendering a stored row as Graph's languageProficiency JSON."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from graphlang.model.serialize import (
    ALL_PROPERTIES,
    RENDERED_COLUMNS,
    RENDERERS,
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
