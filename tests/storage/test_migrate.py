"""The schema revision: read with plain SQL as a server starts, migrated through Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext

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
