"""Prepared statements: Core statements compiled once per dialect and run on the DBAPI connection.

Building a statement, computing its cache key, and executing it through a SQLAlchemy Connection
(checkout, BEGIN, execution context, result objects, ROLLBACK) costs far more than the point read
itself, which in SQLite takes a few microseconds. The hottest statements are therefore declared
once, with bind parameters, compiled on first use for the engine's dialect (so SQLite and
PostgreSQL each get their own SQL and parameter style), and executed straight on a DBAPI cursor.
Results come back as plain dicts, converted by the columns' own result processors (SQLite's 0/1 to
booleans, for example), exactly as a SQLAlchemy result would convert them; ``stored`` keeps the
driver's tuples and converts each row only when it is asked for.

Values must be plain ``str``, ``int``, ``bytes`` or ``None``: no bind processors run.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import Pool
from sqlalchemy.sql import ColumnElement, Delete, Insert, Select, Update

from graphlang.storage.engine import is_memory_sqlite, private_pool

Converter = Callable[[Sequence[Any]], dict[str, Any]]


class StoredRows(Sequence[dict[str, Any]]):
    """Rows as dicts, each made from the driver's tuple when it is asked for.

    ``raw`` keeps the tuples and ``convert`` makes a dict of one: columns that need no converting (an
    item's id and write id, an owner's text) are read from the tuples as they are, without the dicts.
    """

    __slots__ = ("convert", "raw")

    def __init__(self, raw: Sequence[Any], convert: Converter) -> None:
        self.raw = raw
        self.convert = convert

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> StoredRows: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | StoredRows:
        if isinstance(index, slice):
            return StoredRows(self.raw[index], self.convert)
        return self.convert(self.raw[index])

    def __len__(self) -> int:
        return len(self.raw)


@dataclass(slots=True)
class Compiled:
    sql: str
    order: tuple[str, ...] | None  # bind names in positional order, or None for a named paramstyle
    defaults: Mapping[str, Any]  # literal values the statement itself holds (LIMIT 1, a 0 to compare)
    columns: tuple[ColumnElement[Any], ...]
    dialect: Dialect
    # Known after the first execution: some processors depend on the type the driver reports.
    convert: Converter | None = None
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        merged = {**self.defaults, **values} if self.defaults else values
        if self.order is None:
            return merged
        return self._positional(merged)

    def _positional(self, merged: Mapping[str, Any]) -> tuple[Any, ...]:
        # Built on first use: an itemgetter picks every value in C (given one name it would return
        # the value itself, hence the one-name case of its own).
        if self.pick is None:
            assert self.order  # None or empty only with named parameters
            if len(self.order) == 1:
                name = self.order[0]
                self.pick = lambda values: (values[name],)
            else:
                self.pick = operator.itemgetter(*self.order)
        picked: tuple[Any, ...] = self.pick(merged)
        return picked

    def converter(self, cursor: Any) -> Converter:
        """Rows as dicts; built on the first execution, from what the driver reports of each column
        (asked only then: ``cursor.description`` builds a tuple a column on every call)."""
        if self.convert is None:
            description = cursor.description
            keys = tuple(str(column.key) for column in self.columns)
            processors = tuple(
                (index, key, process)
                for index, (key, column, described) in enumerate(zip(keys, self.columns, description, strict=True))
                if (process := column.type._cached_result_processor(self.dialect, described[1])) is not None
            )

            def convert(row: Sequence[Any]) -> dict[str, Any]:
                # Every row has the columns of the description zipped (strictly) above, and a strict
                # zip builds the dict at half the speed.
                converted = dict(zip(keys, row))  # noqa: B905
                for index, key, process in processors:  # most columns need none
                    value = row[index]
                    if value is not None:
                        converted[key] = process(value)
                return converted

            self.convert = convert
        return self.convert


ReturningDML = Insert | Update | Delete  # with RETURNING: what it changed comes back as rows


class Prepared:
    """One statement, compiled once per dialect."""

    def __init__(self, statement: Select[Any] | ReturningDML) -> None:
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}

    def for_dialect(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> Compiled:
        compiled = self.statement.compile(dialect=dialect)
        columns = list(self.statement.exported_columns)
        order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        defaults = {name: value for name, value in compiled.params.items() if value is not None}
        return Compiled(sql=str(compiled), order=order, defaults=defaults, columns=tuple(columns), dialect=dialect)


class DirectConnections:
    """DBAPI connections for prepared statements.

    With a SQLite file, the first thread that calls ``hold`` (the event loop's) keeps one connection
    of its own: reads from it need neither a pool checkout nor a worker thread, and in WAL mode they
    never wait for a writer. Every other use checks a connection out of the engine's pool and returns
    it. Database errors are raised as SQLAlchemy's, so callers handle them as they handle any other.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.can_hold = engine.dialect.name == "sqlite" and not is_memory_sqlite(str(engine.url))
        self._held: Any = None  # a pooled connection wrapper, kept checked out
        self._held_cursor: Any = None  # its one DBAPI cursor, used for every read
        self._own_pool: Pool | None = None
        self._holder: int | None = None
        self._lock = threading.Lock()

    def hold(self) -> bool:
        """Whether reads may run on the calling thread: with a SQLite file they may, and the first
        thread to ask keeps a connection for them."""
        if not self.can_hold:
            return False
        if self._holder is None:
            with self._lock:
                if self._holder is None:
                    self._own_pool = self._own_pool or private_pool(self.engine)
                    self._held = self._checkout(self._own_pool)
                    self._held_cursor = self._held.dbapi_connection.cursor()
                    self._holder = threading.get_ident()
        return True

    def release(self) -> None:
        with self._lock:
            if self._held is not None:
                self._held_cursor.close()
                self._held.close()
            self._held, self._held_cursor, self._holder = None, None, None
            if self._own_pool is not None:
                self._own_pool.dispose()
                self._own_pool = None

    def all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows, convert = self._run(prepared, values)
        return [convert(row) for row in rows]

    def stored(self, prepared: Prepared, values: Mapping[str, Any]) -> StoredRows:
        """``all``'s rows, each converted only when it is asked for."""
        return StoredRows(*self._run(prepared, values))

    def _run(self, prepared: Prepared, values: Mapping[str, Any]) -> tuple[list[Any], Converter]:
        compiled = prepared.for_dialect(self.dialect)
        parameters = compiled.parameters(values)
        if self._holder == threading.get_ident():
            return self._execute(self._held, compiled, parameters, self._held_cursor)
        pooled = self._checkout(self.engine.pool)
        try:
            return self._execute(pooled, compiled, parameters)
        finally:
            pooled.close()  # the pool rolls back whatever the connection still has open

    def _execute(self, connection: Any, compiled: Compiled, parameters: Any, kept: Any = None
                 ) -> tuple[list[Any], Converter]:
        """Run on ``connection``, on its ``kept`` cursor when it has one (a new cursor for each read
        costs more than a point read); the rows as the driver gives them, and their converter."""
        cursor = kept if kept is not None else connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall()
            convert = compiled.converter(cursor)
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrapped(exc, connection, cursor, compiled.sql, parameters) from exc
        finally:
            if kept is None:
                cursor.close()
        return rows, convert

    def within(self, conn: Connection, prepared: Prepared, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run on the connection of ``conn``, inside its transaction."""
        compiled = prepared.for_dialect(self.dialect)
        rows, convert = self._execute(conn.connection, compiled, compiled.parameters(values))
        return [convert(row) for row in rows]

    def one(self, prepared: Prepared, values: Mapping[str, Any]) -> dict[str, Any] | None:
        rows = self.all(prepared, values)
        return rows[0] if rows else None

    def _checkout(self, pool: Pool) -> Any:
        try:
            return pool.connect()
        except self.dialect.loaded_dbapi.Error as exc:  # the database cannot be reached
            raise DBAPIError.instance(None, None, exc, self.dialect.loaded_dbapi.Error,
                                      connection_invalidated=True, dialect=self.dialect) from exc

    def _wrapped(self, exc: Any, connection: Any, cursor: Any, sql: str, parameters: Any) -> DBAPIError:
        lost = self.dialect.is_disconnect(exc, connection.driver_connection, cursor)
        if lost:
            if connection is self._held:
                with self._lock:
                    self._held, self._held_cursor, self._holder = None, None, None
            connection.invalidate(exc)
        wrapped: DBAPIError = DBAPIError.instance(sql, parameters, exc, self.dialect.loaded_dbapi.Error,
                                                  connection_invalidated=lost, dialect=self.dialect)
        return wrapped
