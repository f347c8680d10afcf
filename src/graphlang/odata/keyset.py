"""Keyset paging: the condition for "after this position" in a total order of mixed directions.

The order is that of ``SortKey.clause``: NULL is the smallest value (first ascending, last
descending), in both databases. A position is the sort-key values of the last row served; ``id``
is always among the keys, so the position is unique and each row is served exactly once even when
rows are inserted or deleted between pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, literal, or_, tuple_

from graphlang.odata.compiler import Condition, SortKey
from graphlang.odata.skiptoken import invalid_skiptoken


def row_position(sort: Sequence[SortKey], row: Mapping[Any, Any]) -> list[Any]:
    return [row[key.column.name] for key in sort]


def check_position(sort: Sequence[SortKey], values: Sequence[Any]) -> None:
    """Refuse a position whose shape does not fit the keys (a token from an older layout)."""
    if len(values) != len(sort):
        raise invalid_skiptoken()
    for key, value in zip(sort, values, strict=True):
        if value is None:
            if not key.column.nullable:
                raise invalid_skiptoken()
            continue
        expected = key.column.type.python_type
        if type(value) is not expected and not (expected is float and type(value) is int):
            raise invalid_skiptoken()


def _bound(key: SortKey, value: Any) -> ColumnElement[Any]:
    # Typed by the column, so that booleans compare as values (SQLAlchemy refuses 'col > true').
    return literal(value, key.column.type)


def _after(key: SortKey, value: Any) -> Condition | None:
    """Rows strictly after ``value`` on this key alone; None when there are none."""
    column = key.column
    if key.descending:
        if value is None:
            return None
        before: Condition = column < _bound(key, value)
        return or_(before, column.is_(None)) if column.nullable else before
    if value is None:
        return column.is_not(None)
    beyond: Condition = column > _bound(key, value)
    return beyond


def _equal(key: SortKey, value: Any) -> Condition:
    return key.column.is_(None) if value is None else key.column == _bound(key, value)


def seek_after(sort: Sequence[SortKey], values: Sequence[Any]) -> Condition:
    """Rows after the position ``values`` in the order ``sort``."""
    columns = [key.column for key in sort]
    directions = {key.descending for key in sort}
    if len(directions) == 1 and not any(column.nullable for column in columns):
        # One direction and no NULLs: a row-value comparison, which both databases seek in an index.
        position = tuple_(*(_bound(key, value) for key, value in zip(sort, values, strict=True)))
        rows = tuple_(*columns)
        return rows < position if sort[0].descending else rows > position
    branches: list[Condition] = []
    equal_so_far: list[Condition] = []
    for key, value in zip(sort, values, strict=True):
        after = _after(key, value)
        if after is not None:
            branches.append(and_(*equal_so_far, after))
        equal_so_far.append(_equal(key, value))
    if not branches:
        return false()
    first, value = sort[0], values[0]
    if first.column.nullable:
        return or_(*branches)
    # A redundant bound on the leading key lets the database seek instead of scanning the user's rows.
    bound = first.column <= _bound(first, value) if first.descending else first.column >= _bound(first, value)
    return and_(bound, or_(*branches))
