"""The whole data state as one JSON document: exported in one consistent read, imported in one
transaction that replaces everything or nothing.

    {"format": "graphlang-snapshot", "version": 1, "revision": "<schema revision>",
     "exported": "<UTC time>",
     "tables": {"users": {"columns": [...], "rows": [[...], ...]}, "apps": ..., "languages": ...}}

Rows hold the stored values exactly (ids, 100 ns ticks, versions), so a round trip changes nothing.
Columns that hold JSON as bytes are written as the JSON they hold. Only data tables are included:
signing keys and other infrastructure never leave the database this way.

Import works on a stream of ``TableRows`` and inserts in batches, so it does not need the whole
document as Python objects; tables must come in dependency order (users before languages).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import orjson
from sqlalchemy import Boolean, Column, Connection, Float, Integer, LargeBinary, String, Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from graphlang.model.timestamps import format_ticks, now_ticks
from graphlang.storage import migrate
from graphlang.storage.schema import apps, languages, users
from graphlang.storage.store import Store

FORMAT = "graphlang-snapshot"
VERSION = 1
TABLES: tuple[Table, ...] = (users, apps, languages)  # dependency order
BY_NAME = {str(table.name): table for table in TABLES}
BATCH_ROWS = 1000


class SnapshotError(ValueError):
    """The snapshot cannot be imported; the message names the table, row or member at fault."""


@dataclass(frozen=True)
class TableRows:
    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _columns(table: Table) -> tuple[Column[Any], ...]:
    """The columns a snapshot carries: all but those the database manages for itself (a language's
    write id, which each row stored by an import gets anew)."""
    return tuple(column for column in table.columns if column.info.get("exported", True))


COLUMNS = {str(table.name): _columns(table) for table in TABLES}


def _holds_json(table: Table) -> tuple[bool, ...]:
    """Per column, whether it holds JSON as bytes."""
    return tuple(isinstance(column.type, LargeBinary) for column in COLUMNS[table.name])


def _exported(holds_json: Sequence[bool], row: Sequence[Any]) -> list[Any]:
    return [orjson.loads(value) if is_json and value is not None else value
            for is_json, value in zip(holds_json, row, strict=True)]


# -- export ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    tables: dict[str, int]

    def to_json(self) -> dict[str, int]:
        return dict(self.tables)


@contextmanager
def _consistent_read(store: Store) -> Iterator[Connection]:
    with store.engine.connect() as conn:
        if store.is_postgres:
            # One snapshot of the database for every table, not one per statement.
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def write_snapshot(store: Store, out: IO[bytes]) -> Counts:
    """Write the snapshot document to ``out``, one row per line, reading rows in batches."""
    counts: dict[str, int] = {}
    head = {"format": FORMAT, "version": VERSION, "revision": migrate.current_revision(store.engine),
            "exported": format_ticks(now_ticks())}
    out.write(orjson.dumps(head)[:-1] + b',"tables":{')
    with _consistent_read(store) as conn:
        for index, table in enumerate(TABLES):
            prefix = b"," if index else b""
            carried = COLUMNS[table.name]
            columns = orjson.dumps([column.key for column in carried])
            out.write(prefix + b'\n"' + table.name.encode() + b'":{"columns":' + columns + b',"rows":[')
            query = select(*carried).order_by(*table.primary_key.columns)
            holds_json = _holds_json(table)
            count = 0
            for row in conn.execute(query, execution_options={"yield_per": BATCH_ROWS}):
                out.write((b",\n" if count else b"\n") + orjson.dumps(_exported(holds_json, tuple(row))))
                count += 1
            out.write(b"]}")
            counts[str(table.name)] = count
    out.write(b"}}\n")
    return Counts(counts)


# -- import ---------------------------------------------------------------------------------------


def tables_in(document: object) -> list[TableRows]:
    """The tables of a parsed snapshot document, checked for shape."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise SnapshotError(f"The document is not a graphlang snapshot: its 'format' must be '{FORMAT}'.")
    if document.get("version") != VERSION:
        raise SnapshotError(f"The snapshot's 'version' is {document.get('version')!r}; this graphlang "
                            f"reads version {VERSION}.")
    tables = document.get("tables")
    if not isinstance(tables, Mapping):
        raise SnapshotError("The snapshot's 'tables' must be an object of tables by name.")
    found: list[TableRows] = []
    for table in TABLES:
        content = tables.get(table.name)
        if content is None:
            continue
        if not isinstance(content, Mapping) or not isinstance(content.get("columns"), list) \
                or not isinstance(content.get("rows"), list):
            raise SnapshotError(f"The snapshot's table '{table.name}' must have 'columns' and 'rows' lists.")
        found.append(TableRows(table.name, content["columns"], content["rows"]))
    unknown = sorted(set(tables) - set(BY_NAME))
    if unknown:
        raise SnapshotError(f"The snapshot has a table '{unknown[0]}' that this graphlang does not know; "
                            f"the tables are {', '.join(BY_NAME)}.")
    return found


def _checked_columns(part: TableRows) -> Table:
    table = BY_NAME.get(part.name)
    if table is None:
        raise SnapshotError(f"The snapshot has a table '{part.name}' that this graphlang does not know; "
                            f"the tables are {', '.join(BY_NAME)}.")
    carried = {column.key for column in COLUMNS[table.name]}
    for name in part.columns:
        if not isinstance(name, str) or name not in carried:
            names = ", ".join(column.key for column in COLUMNS[part.name])
            raise SnapshotError(f"The snapshot's table '{part.name}' has a column {name!r}, which snapshots "
                                f"of it do not have; they have {names}.")
    return table


def _expected(column: Column[Any]) -> tuple[type | tuple[type, ...], str] | None:
    """The JSON type a column's values must have (SQLite would store anything), and its name."""
    kind = column.type
    if isinstance(kind, Boolean):
        return bool, "a boolean"
    if isinstance(kind, Integer):
        return int, "a whole number"
    if isinstance(kind, Float):
        return (int, float), "a number"
    if isinstance(kind, String):
        return str, "a string"
    return None


def _stored_value(table: Table, name: str, value: Any, where: str) -> Any:
    column = table.columns[name]
    if value is None:
        if not column.nullable:
            raise SnapshotError(f"{where}: the column '{name}' must not be null.")
        return None
    if isinstance(column.type, LargeBinary):
        return orjson.dumps(value)
    expected = _expected(column)
    wrong_bool = isinstance(value, bool) and not isinstance(column.type, Boolean)
    if expected is not None and (wrong_bool or not isinstance(value, expected[0])):
        raise SnapshotError(f"{where}: the column '{name}' must be {expected[1]}.")
    return value


def _stored(table: Table, part: TableRows, start: int, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    for offset, row in enumerate(rows):
        where = f"Row {start + offset} of the snapshot's table '{part.name}'"
        if not isinstance(row, list | tuple) or len(row) != len(part.columns):
            raise SnapshotError(f"{where} must be a list of {len(part.columns)} values, one per column.")
        stored.append({name: _stored_value(table, name, value, where)
                       for name, value in zip(part.columns, row, strict=True)})
    return stored


def load_snapshot(store: Store, tables: Iterable[TableRows]) -> Counts:
    """Replace every data table with the given rows, in one transaction: all of it, or (on any error)
    nothing."""
    counts = {str(table.name): 0 for table in TABLES}
    with store.writing() as conn:
        for table in reversed(TABLES):
            conn.execute(delete(table))
        for part in tables:
            table = _checked_columns(part)
            rows = iter(part.rows)
            start = counts[part.name]
            while batch := list(itertools.islice(rows, BATCH_ROWS)):
                try:
                    conn.execute(insert(table), _stored(table, part, start, batch))
                except SQLAlchemyError as exc:
                    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                    raise SnapshotError(f"Rows {start} to {start + len(batch) - 1} of the snapshot's table "
                                        f"'{part.name}' cannot be stored: {reason}") from exc
                start += len(batch)
            counts[part.name] = start
    return Counts(counts)
