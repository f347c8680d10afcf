"""Renderings kept under (id, write id): what an item renders as, and when it is rendered again."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from graphlang.model.renderings import Renderings, collection_items
from graphlang.model.serialize import to_json_object
from tests.model.test_serialize import EMPTY_ROW, FULL_ROW

CONTEXT = "https://graph.microsoft.com/beta/$metadata#users('u')/profile/languages/$entity"


def stored(row: dict[str, Any], write_id: int = 1, **changes: Any) -> dict[str, Any]:
    return {**row, "write_id": write_id, **changes}


@pytest.mark.parametrize("row", [EMPTY_ROW, FULL_ROW])
def test_a_rendering_is_the_whole_entity_as_a_member_and_as_a_body(row: dict[str, Any]) -> None:
    rendering = Renderings().of(stored(row))
    assert orjson.dumps({"value": [rendering.fragment]}) == orjson.dumps({"value": [to_json_object(row)]})
    assert rendering.entity_body(CONTEXT) == orjson.dumps({"@odata.context": CONTEXT, **to_json_object(row)})
    assert rendering.etag == f'W/"{row["id"]}-{row["version"]}"'


def test_a_row_of_a_key_already_rendered_is_answered_with_that_rendering() -> None:
    renderings = Renderings()
    first = renderings.of(stored(FULL_ROW))
    assert renderings.of(stored(FULL_ROW)) is first
    assert renderings.get((FULL_ROW["id"], 1)) is first


@pytest.mark.parametrize(("column", "changed"), [("tag", "en-GB"), ("spoken", 5), ("is_searchable", True),
                                                 ("created_by", b'{"user":{"id":"v"}}'), ("version", 8)])
def test_a_row_with_a_new_write_id_is_rendered_afresh(column: str, changed: Any) -> None:
    renderings = Renderings()
    before = renderings.of(stored(FULL_ROW, 1))
    after = renderings.of(stored(FULL_ROW, 2, **{column: changed}))
    assert orjson.dumps(after.fragment) == orjson.dumps(to_json_object({**FULL_ROW, column: changed}))
    assert after.body != before.body


def test_all_of_is_every_rendering_in_order_or_none_when_one_is_missing() -> None:
    renderings = Renderings()
    first, second = renderings.of(stored(FULL_ROW, 1)), renderings.of(stored(EMPTY_ROW, 1))
    assert renderings.all_of([(EMPTY_ROW["id"], 1), (FULL_ROW["id"], 1)]) == [second, first]
    assert renderings.all_of([(FULL_ROW["id"], 1), (FULL_ROW["id"], 2)]) is None
    assert renderings.all_of([]) == []


def test_the_oldest_rendering_is_dropped_at_capacity() -> None:
    renderings = Renderings(capacity=2)
    for write_id in (1, 2, 3):
        renderings.of(stored(FULL_ROW, write_id))
    assert renderings.get((FULL_ROW["id"], 1)) is None
    assert renderings.get((FULL_ROW["id"], 2)) is not None
    assert renderings.get((FULL_ROW["id"], 3)) is not None


def test_collection_items_are_the_renderings_or_the_selected_properties() -> None:
    # Write ids no other test uses: collection_items keeps its renderings in the process's own.
    rows = [stored(EMPTY_ROW, -1), stored(FULL_ROW, -2)]
    assert orjson.dumps(collection_items(rows)) == orjson.dumps([to_json_object(row) for row in rows])
    assert collection_items([stored(FULL_ROW, -2)], ("tag",)) == [
        {"@odata.etag": 'W/"0f8b1a5e-0000-4000-8000-000000000001-7"', "tag": "en-US"}]
