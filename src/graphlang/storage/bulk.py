"""Replacing every user and language with a stream of rows, fast enough for millions of them.

Rows go in with batched ``executemany`` inside ONE transaction, so the load is all or nothing. On
SQLite the languages table's secondary indexes are dropped for the load and built again (sorting
once beats millions of scattered B-tree inserts) inside that same transaction, and the load runs in
rollback-journal mode (each page is written once, not to the WAL and then again by a checkpoint),
then the database returns to WAL. Synchronous stays FULL: the commit is durable when the import
reports success, and a crash or power loss during the import leaves the previous state.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import SQLAlchemyError

from graphlang.storage.engine import WRITE_OPTION
from graphlang.storage.schema import languages, users
from graphlang.storage.store import Store

BATCH_ROWS = 5000
MAX_IN_FLIGHT = 4  # batches handed to the writer and not yet stored: bounds the memory a load takes
CACHE_KIB = 256 * 1024  # SQLite page cache for the load: the primary key index takes random inserts
# The index builds' sorter keeps a page cache's worth of keys in memory: smaller runs of them are
# sorted by its threads while the table is read (then merged), where one large run is sorted by one,
# and a run this small is sorted within the CPU's caches (an index of 5M rows: 32 MB 9.3 s, 2 MB 6.4 to 6.8 s).
SORT_CACHE_KIB = 2 * 1024
SORTER_THREADS = 2
# The index builds read the whole table once per index: through a memory map, without a system call
# and a copy per page. (SQLite caps the map, at 2 GiB unless built otherwise.) Not for the load
# itself, whose pages are mostly written, and whose growing file the map would follow.
MMAP_BYTES = 1 << 32
TABLES = {"user": users, "language": languages}


class BulkLoadError(ValueError):
    """A row cannot be stored; the message names its line."""


Columns = tuple[str, ...]


def _insert_sql(conn: Connection, table_name: str, columns: Columns) -> str:
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # Names come from the schema, never from input.
    return f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"  # noqa: S608


class BulkLoad:
    """One open load: ``add`` rows (users before their languages), each with the columns it has a value
    for (the others are NULL); they are stored in batches of rows with the same columns.

    Batches are stored by one writer thread while the caller prepares the next ones: the database
    works with the GIL released, so reading and storing overlap. The writer takes jobs in order, so a
    lookup sees every batch handed over before it.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # SQLite: rows go straight to the driver, and a failed batch is explained without savepoints.
        self._sqlite: sqlite3.Connection | None = (
            conn.connection.driver_connection if conn.dialect.name == "sqlite" else None)
        self._sql: dict[tuple[str, Columns], str] = {}
        self.pending: dict[tuple[str, Columns], tuple[list[tuple[Any, ...]], list[int]]] = {}
        self.counts = dict.fromkeys(TABLES, 0)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphlang-bulk")
        self._in_flight: deque[Future[None]] = deque()
        self._failed = False

    def add(self, kind: str, columns: Columns, values: tuple[Any, ...], line: int) -> None:
        self.add_all(kind, columns, [values], [line])

    def add_all(self, kind: str, columns: Columns, values: list[tuple[Any, ...]], lines: list[int]) -> None:
        """``add`` for many rows with the same columns at once."""
        rows, pending_lines = self._pending(kind, columns)
        rows.extend(values)
        pending_lines.extend(lines)
        if len(rows) >= BATCH_ROWS:
            self._hand_over_full(kind, columns)

    def owner(self, user_id: str) -> tuple[str, str | None] | None:
        """A stored (or pending) user's principal name and display name."""
        self._hand_over_all("user")
        return self._writer.submit(self._owner, user_id).result()

    def finish(self) -> None:
        """Store what is pending and wait for every batch; raises the first failure."""
        self._hand_over_all("user")
        self._hand_over_all("language")
        try:
            while self._in_flight:
                self._in_flight.popleft().result()
        finally:
            self.close()

    def close(self) -> None:
        self._failed = self._failed or bool(self._in_flight)  # abandoned: skip what is queued
        self._writer.shutdown(wait=True)

    def _pending(self, kind: str, columns: Columns) -> tuple[list[tuple[Any, ...]], list[int]]:
        found = self.pending.get((kind, columns))
        if found is None:
            found = self.pending[kind, columns] = ([], [])
        return found

    def _hand_over_full(self, kind: str, columns: Columns) -> None:
        if kind == "language":
            self._hand_over_all("user")  # languages need their users stored first
        self._hand_over(kind, columns)

    def _hand_over_all(self, kind: str) -> None:
        for pending_kind, columns in list(self.pending):
            if pending_kind == kind:
                self._hand_over(kind, columns)

    def _hand_over(self, kind: str, columns: Columns) -> None:
        rows, lines = self.pending.pop((kind, columns), ([], []))
        if not rows:
            return
        self.counts[kind] += len(rows)
        self._in_flight.append(self._writer.submit(self._store, kind, columns, rows, lines))
        while len(self._in_flight) > MAX_IN_FLIGHT or (self._in_flight and self._in_flight[0].done()):
            self._in_flight.popleft().result()

    # -- on the writer thread --------------------------------------------------------------------

    def _store(self, kind: str, columns: Columns, rows: list[tuple[Any, ...]], lines: list[int]) -> None:
        if self._failed:
            return
        sql = self._sql.get((kind, columns))
        if sql is None:
            sql = self._sql[kind, columns] = _insert_sql(self.conn, str(TABLES[kind].name), columns)
        try:
            if self._sqlite is not None:
                self._store_sqlite(self._sqlite, sql, rows, lines)
            else:
                self._store_in_savepoint(sql, rows, lines)
        except BaseException:
            self._failed = True
            raise

    @staticmethod
    def _store_sqlite(raw: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]], lines: list[int]) -> None:
        # No savepoint per batch: each row is a statement of its own, which SQLite undoes alone when it
        # fails, so the rows stored before it tell which one it is. (A savepoint would copy every page
        # the batch changes to a journal of its own; a failure rolls the whole load back anyway.)
        before = raw.total_changes
        try:
            raw.executemany(sql, rows)
        except sqlite3.Error as exc:
            line = lines[min(raw.total_changes - before, len(lines) - 1)]
            raise BulkLoadError(f"Line {line} cannot be stored: {_reason(exc)}.") from exc

    def _store_in_savepoint(self, sql: str, rows: list[tuple[Any, ...]], lines: list[int]) -> None:
        try:
            # A savepoint per batch: a failed batch leaves none of its rows behind (and PostgreSQL can
            # go on after it), so each of its rows can be tried again on its own to find the one at fault.
            with self.conn.begin_nested():
                self.conn.exec_driver_sql(sql, rows)
        except SQLAlchemyError:
            self._explain(sql, rows, lines)
            raise

    def _owner(self, user_id: str) -> tuple[str, str | None] | None:
        found = self.conn.execute(select(users.c.user_principal_name, users.c.display_name)
                                  .where(users.c.id == user_id)).first()
        return None if found is None else (found[0], found[1])

    def _explain(self, sql: str, rows: list[tuple[Any, ...]], lines: list[int]) -> None:
        for values, line in zip(rows, lines, strict=True):
            try:
                with self.conn.begin_nested():
                    self.conn.exec_driver_sql(sql, [values])
            except SQLAlchemyError as exc:
                raise BulkLoadError(f"Line {line} cannot be stored: {_reason(exc)}.") from exc


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


@contextlib.contextmanager
def replacing_people(store: Store) -> Iterator[BulkLoad]:
    """Delete every user (so every language) and load new ones, in one transaction."""
    with store.engine.connect() as conn, _tuned_for_bulk(conn):
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            conn.execute(delete(languages))
            conn.execute(delete(users))
            indexes = _drop_secondary_indexes(conn)
            load = BulkLoad(conn)
            try:
                yield load
            except BaseException:
                load.close()
                raise
            load.finish()
            if indexes:
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SORT_CACHE_KIB}")
                conn.exec_driver_sql(f"PRAGMA mmap_size={MMAP_BYTES}")
            for statement in indexes:
                conn.exec_driver_sql(statement)


def _drop_secondary_indexes(conn: Connection) -> list[str]:
    """Drop the languages table's own indexes (SQLite); returns the statements that recreate them."""
    if conn.dialect.name != "sqlite":
        return []
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (str(languages.name),)).all()
    for name, _sql in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [str(sql) for _name, sql in found]


@contextlib.contextmanager
def _tuned_for_bulk(conn: Connection) -> Iterator[None]:
    """SQLite: a large page cache and the rollback journal for the load, then the connection's
    settings again."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    cache = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # Every language's user is checked as its line is read, so the database need not check again.
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute(f"PRAGMA threads={SORTER_THREADS}")  # index builds sort on more than one core
    mmap = raw.execute("PRAGMA mmap_size").fetchone()[0]
    journal = raw.execute("PRAGMA journal_mode").fetchone()[0]
    with contextlib.suppress(sqlite3.OperationalError):
        # Leaving WAL fails while another connection has the database open; the load then runs in WAL.
        raw.execute("PRAGMA journal_mode=DELETE")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA journal_mode={journal}")
        raw.execute(f"PRAGMA mmap_size={mmap}")
        raw.execute("PRAGMA threads=0")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute(f"PRAGMA cache_size={cache}")
