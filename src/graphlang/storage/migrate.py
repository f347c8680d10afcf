"""Alembic, driven from code: the migrations ship inside the package.

Every process that serves checks the schema revision as it starts. Alembic (with Mako and Pygments,
which it imports) costs each of them several megabytes for the rest of its life, so the check reads
the version table with plain SQL and compares it with ``HEAD_REVISION``; Alembic is imported only to
migrate, or to explain a revision that is not the head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, column, inspect, select, table

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration under migrations/versions; a test holds it equal to Alembic's script head.
HEAD_REVISION = "0007"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
_VERSIONS = table(VERSION_TABLE, column("version_num"))

_SCRIPTS = str(Path(__file__).resolve().parent.parent / "migrations")


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _SCRIPTS)
    return config


def head_revision() -> str:
    return HEAD_REVISION


def script_head() -> str | None:
    """The head of the migration scripts as Alembic reads them (``HEAD_REVISION`` follows it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's revision, None before the first migration: what Alembic's
    ``MigrationContext.get_current_revision`` answers, without importing Alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(select(_VERSIONS.c.version_num)).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"the database's {VERSION_TABLE} table names several revisions: {sorted(rows)}")
    return rows[0] if rows else None


def require_known(engine: Engine) -> None:
    """Refuse a database whose schema a newer graphlang wrote: this version cannot know its tables."""
    current = current_revision(engine)
    if current is None or current == HEAD_REVISION:
        return
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current not in known:
        raise RuntimeError(
            f"the database schema is at revision {current!r}, which this version of graphlang does not "
            f"know (its newest is {HEAD_REVISION!r}); run a graphlang at least as new as the one that "
            "migrated it"
        )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; a database already at the head is left alone without Alembic."""
    if revision in ("head", HEAD_REVISION) and current_revision(engine) == HEAD_REVISION:
        return
    require_known(engine)
    from alembic import command

    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == HEAD_REVISION
