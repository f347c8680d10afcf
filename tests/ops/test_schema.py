"""``serve`` runs only on the schema of its own version; ``graphlang db upgrade`` gets it there."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from graphlang.storage import migrate
from graphlang.storage.engine import make_engine
from tests.e2e.process import clean_env
from tests.ops.support import database, run_graphlang, shared_server_database


def set_revision(url: str, revision: str) -> None:
    """Put the database at ``revision`` of the migrations, or at a revision no graphlang knows."""
    engine = make_engine(url)
    try:
        if revision == "0001":
            migrate.upgrade(engine, revision)
            return
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    finally:
        engine.dispose()


@pytest.mark.standalone
def test_serve_refuses_a_postgres_database_that_is_not_migrated(tmp_path: Path) -> None:
    with shared_server_database() as url:
        env = clean_env(tmp_path / "data", "admin", {"GRAPHLANG_DATABASE_URL": url})
        set_revision(url, "0001")
        refused = run_graphlang(env, "serve", "--port", "0")
        assert refused.returncode == 1
        assert "listening" not in refused.stdout
        assert f"at revision '0001', not {migrate.head_revision()!r}" in refused.stderr
        assert "run 'graphlang db upgrade' first" in refused.stderr

        upgraded = run_graphlang(env, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert upgraded.stdout.strip() == f"database at revision {migrate.head_revision()}"


@pytest.mark.standalone
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_serve_and_upgrade_refuse_a_schema_from_a_newer_version(tmp_path: Path, backend: str) -> None:
    with database(backend, tmp_path) as url:
        set_revision(url, "9999_from_the_future")
        env = clean_env(tmp_path / "data", "admin", {"GRAPHLANG_DATABASE_URL": url})
        for command in (("serve", "--port", "0"), ("db", "upgrade")):
            refused = run_graphlang(env, *command)
            assert refused.returncode == 1
            assert "at revision '9999_from_the_future', which this version of graphlang does not know" \
                in refused.stderr
            assert "Traceback" not in refused.stderr
