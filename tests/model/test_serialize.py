"""Rendering a stored row as Graph's languageProficiency JSON."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from graphlang.model.serialize import ALL_PROPERTIES, RENDERERS, to_json_object

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


def test_a_whole_confidence_score_renders_alike_as_an_integer_or_a_real() -> None:
    # SQLite may hand a whole REAL back as an int.
    as_int, as_real = ({**FULL_ROW, "confidence_score": score} for score in (3, 3.0))
    assert orjson.dumps(to_json_object(as_int)) == orjson.dumps(to_json_object(as_real))
