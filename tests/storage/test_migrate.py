"""The schema revision: read with plain SQL as a server starts, migrated through Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from graphlang.config import Settings
from graphlang.services import create_services
from graphlang.storage import migrate
from graphlang.storage.engine import make_engine
from tests.e2e.process import postgres_database

# Loads what a worker loads to serve (create_app builds its services as a worker does), then names
# the modules of Alembic and of what Alembic imports.
SERVING_PROCESS = """
import sys
from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.server import serve_app
create_app(Settings.from_env()).services.close()
print(" ".join(sorted(name for name in sys.modules if name.partition(".")[0] in {"alembic", "mako", "pygments"})))
"""


@pytest.fixture
def empty_database(tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    """A database no migration has touched: a SQLite file, or a new database on the PostgreSQL
    server the tests are configured with."""
    if postgres_url is None:
        yield f"sqlite:///{tmp_path / 'graphlang.db'}"
        return
    with postgres_database(os.environ["GRAPHLANG_TEST_POSTGRES_URL"]) as url:
        yield url


def alembic_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def test_the_head_revision_is_the_newest_migration_script() -> None:
    # A new migration must move HEAD_REVISION too, or servers would take the old head for current.
    assert migrate.script_head() == migrate.HEAD_REVISION


def test_the_revision_read_without_alembic_is_the_one_alembic_reads(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        assert migrate.current_revision(engine) is None
        assert not migrate.is_current(engine)
        migrate.upgrade(engine, "0001")
        assert migrate.current_revision(engine) == alembic_revision(empty_database) == "0001"
        assert not migrate.is_current(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == alembic_revision(empty_database) == migrate.HEAD_REVISION
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_auto_migrate_still_brings_an_older_schema_to_the_head(settings: Settings, empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, "0001")
    finally:
        engine.dispose()
    services = create_services(replace(settings, database_url=empty_database), auto_migrate=True)
    try:
        assert migrate.current_revision(services.engine) == migrate.HEAD_REVISION
    finally:
        services.close()


def test_a_serving_process_on_a_migrated_database_does_not_import_alembic(
        tmp_path: Path, empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    # SQLite migrates on every start (and so checks the revision then); PostgreSQL only checks it.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRAPHLANG_")}
    env.update({"GRAPHLANG_DATA_DIR": str(tmp_path / "data"), "GRAPHLANG_DATABASE_URL": empty_database})
    done = subprocess.run([sys.executable, "-c", SERVING_PROCESS], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def _languages_shape(engine: Engine) -> tuple[list[tuple[str, tuple[str | None, ...]]], list[Any]]:
    found = inspect(engine)
    indexes = sorted((str(index["name"]), tuple(index["column_names"])) for index in found.get_indexes("languages"))
    return indexes, found.get_foreign_keys("languages")


def test_0005_gives_every_language_stored_before_it_a_write_id_of_its_own(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, "0004")
        before = _languages_shape(engine)
        user = {"id": "u1", "tenant_id": "t", "user_principal_name": "a@b", "upn_key": "a@b", "created_ticks": 1}
        item = {"user_id": "u1", "created_ticks": 1, "modified_ticks": 1, "version": 1}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, tenant_id, user_principal_name, upn_key, created_ticks) "
                              "VALUES (:id, :tenant_id, :user_principal_name, :upn_key, :created_ticks)"), user)
            conn.execute(text("INSERT INTO languages (id, user_id, created_ticks, modified_ticks, version) "
                              "VALUES (:id, :user_id, :created_ticks, :modified_ticks, :version)"),
                         [{**item, "id": f"l{number}"} for number in range(3)])
        migrate.upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO languages (id, user_id, created_ticks, modified_ticks, version) "
                              "VALUES ('l3', :user_id, :created_ticks, :modified_ticks, :version)"), item)
            write_ids = conn.execute(text("SELECT write_id FROM languages")).scalars().all()
        assert len(set(write_ids)) == 4
        assert None not in write_ids
        assert _languages_shape(engine) == before  # the table made again on SQLite keeps its indexes and keys
    finally:
        engine.dispose()


def test_after_0005_an_update_that_leaves_the_write_id_gets_a_new_one_and_one_that_sets_it_keeps_it(
        empty_database: str) -> None:
    # As an older graphlang's updates (during a rolling upgrade) and an operator's by hand leave it.
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, tenant_id, user_principal_name, upn_key, created_ticks) "
                              "VALUES ('u1', 't', 'a@b', 'a@b', 1)"))
            conn.execute(text("INSERT INTO languages (id, user_id, created_ticks, modified_ticks, version) "
                              "VALUES ('l1', 'u1', 1, 1, 1)"))

        def write_id() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT write_id FROM languages")).scalar_one())

        first = write_id()
        with engine.begin() as conn:
            conn.execute(text("UPDATE languages SET tag = 'en-US'"))
        second = write_id()
        with engine.begin() as conn:
            conn.execute(text("UPDATE languages SET tag = 'de-DE', write_id = 42"))
        assert len({first, second, 42}) == 3
        assert write_id() == 42
    finally:
        engine.dispose()


def test_0005_downgrades_to_0004_and_upgrades_again(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine)
        from alembic import command

        config = migrate._config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
        assert "write_id" not in {column["name"] for column in inspect(engine).get_columns("languages")}
        migrate.upgrade(engine)
        assert "write_id" in {column["name"] for column in inspect(engine).get_columns("languages")}
    finally:
        engine.dispose()


@pytest.mark.parametrize(("revision", "dropped"), [
    ("0006", ("ix_languages_user_tag", ("user_id", "tag_key"))),
    ("0007", ("ix_languages_user_modified", ("user_id", "modified_ticks", "id"))),
])
def test_an_index_dropping_migration_drops_its_index_and_its_downgrade_makes_it_again(
        empty_database: str, revision: str, dropped: tuple[str, tuple[str, ...]]) -> None:
    previous = f"{int(revision) - 1:04d}"
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, previous)
        before = _languages_shape(engine)
        migrate.upgrade(engine, revision)
        indexes, keys = _languages_shape(engine)
        assert [index for index in before[0] if index not in indexes] == [dropped]
        assert keys == before[1]
        from alembic import command

        config = migrate._config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, previous)
        assert _languages_shape(engine) == before
    finally:
        engine.dispose()
