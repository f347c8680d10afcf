"""Engines: each dialect's connection settings, checked before they reach the database."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from graphlang.config import Settings
from graphlang.services import create_services
from graphlang.storage.engine import WRITE_OPTION, make_engine


@pytest.mark.parametrize("value", ["FULLL", "FULL; DROP TABLE languages", ""])
def test_an_unknown_sqlite_synchronous_level_stops_startup_naming_it(settings: Settings, value: str) -> None:
    on_file = replace(settings, database_url=None, sqlite_synchronous=value)
    with pytest.raises(ValueError, match="GRAPHLANG_SQLITE_SYNCHRONOUS must be one of OFF, NORMAL, FULL, EXTRA"):
        create_services(on_file, auto_migrate=True)


@pytest.mark.parametrize("value", ["normal", "EXTRA"])
def test_every_sqlite_synchronous_level_is_accepted_in_any_case(settings: Settings, value: str) -> None:
    services = create_services(replace(settings, database_url=None, sqlite_synchronous=value), auto_migrate=True)
    try:
        with services.engine.connect() as conn:
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
    finally:
        services.close()
    assert level == {"normal": 1, "EXTRA": 3}[value]


def test_a_sqlite_writer_begins_with_the_write_lock_and_a_reader_without(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as writer, writer.begin():
            other = sqlite3.connect(tmp_path / "db.sqlite", timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # the writer holds SQLite's write lock already
            with engine.connect() as reader, reader.begin():
                assert reader.exec_driver_sql("SELECT 1").scalar_one() == 1  # a reader takes no lock
            other.close()
    finally:
        engine.dispose()


def test_a_begin_that_cannot_take_the_write_lock_raises_sqlalchemys_operational_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()  # the file exists, in WAL mode
        conn.rollback()
    holder = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as writer:
            writer.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # rather than wait 30 s
            with pytest.raises(OperationalError, match="locked"):
                writer.begin()
    finally:
        holder.close()
        engine.dispose()
