"""Engines for the supported databases, with each dialect's connection settings in one place."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import Pool, StaticPool

WRITE_OPTION = "graphlang_write"
SQLITE_SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a SQLite connection waits for another's lock


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def is_memory_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form operators write and choose the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 8, max_overflow: int = 4, pool_timeout: float = 10,
                sqlite_synchronous: str = "FULL") -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, sqlite_synchronous)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    if synchronous.upper() not in SQLITE_SYNCHRONOUS_LEVELS:
        # It is written into a PRAGMA, which takes no bound parameters.
        raise ValueError(f"GRAPHLANG_SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS_LEVELS)}, "
                         f"got {synchronous!r}")
    memory = is_memory_sqlite(url)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if memory:
        # One shared connection holds the whole in-memory database; the store serialises access.
        kwargs["poolclass"] = StaticPool
    else:
        database = make_url(url).database
        assert database is not None
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["pool_size"] = 8
        kwargs["connect_args"]["timeout"] = 30
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Take over transaction control from the sqlite3 module so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades can
        # fail with SQLITE_BUSY instead of waiting for the lock.
        statement = "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        # Straight on the driver's connection: through exec_driver_sql (an execution context, a
        # cursor and a result) the BEGIN cost more than the write it opens. Its errors are raised as
        # exec_driver_sql raised them.
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, (), exc, sqlite3.Error, dialect=connection.dialect) from exc

    return engine


def private_pool(engine: Engine) -> Pool:
    """A pool of its own for a connection a component keeps (reads on the event loop, the group-commit
    writer, the checkpointer), with the engine's connect-time settings: the engine's pool, and what
    metrics report of it, then counts only the connections requests are using."""
    return engine.pool.recreate()
