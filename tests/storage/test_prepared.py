"""Prepared statements run on the driver's connection, with rows converted as SQLAlchemy would."""

from __future__ import annotations

from graphlang.services import Services
from graphlang.storage.prepared import StoredRows
from graphlang.storage.store import FIRST_PAGE

USER = "0f8b1a5e-0000-4000-8000-00000000000a"


def seeded(services: Services, count: int) -> list[dict[str, object]]:
    store = services.store
    store.ensure_user("tenant", USER, "ada@contoso.com", "Ada")
    for tag in ("en-US", "fr-FR", "de-DE")[:count]:
        store.create_language(USER, {"tag": tag, "is_searchable": True}, b'{"user":null}')
    return store.direct.all(FIRST_PAGE, {"user_id": USER, "audiences": None, "limit": 10})


def test_stored_rows_are_the_dicts_all_gives_made_when_asked_for(services: Services) -> None:
    expected = seeded(services, 3)
    rows = services.store.first_page(USER, None, 10)
    assert isinstance(rows, StoredRows)
    assert len(rows) == 3
    assert list(rows) == expected
    assert rows[-1] == expected[-1]
    assert rows[0]["is_searchable"] is True  # converted by the column's own processor


def test_a_slice_of_stored_rows_is_stored_rows_of_the_same_tuples(services: Services) -> None:
    expected = seeded(services, 3)
    rows = services.store.first_page(USER, None, 10)
    first_two = rows[:2]
    assert isinstance(first_two, StoredRows)
    assert list(first_two.raw) == list(rows.raw)[:2]
    assert list(first_two) == expected[:2]


def test_stored_rows_keep_the_drivers_tuples_which_can_key_a_cache(services: Services) -> None:
    seeded(services, 2)
    rows = services.store.first_page(USER, None, 10)
    assert all(isinstance(values, tuple) for values in rows.raw)
    assert len({hash(values) for values in rows.raw}) == 2
    assert [rows.convert(values) for values in rows.raw] == list(rows)
