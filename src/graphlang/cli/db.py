"""``graphlang db``: schema migrations."""

from __future__ import annotations

import click

from graphlang.cli.root import settings_of


@click.group(help="Database schema management.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply the Alembic migrations to the configured database.")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    from sqlalchemy.exc import OperationalError

    from graphlang.storage import migrate
    from graphlang.storage.engine import make_engine

    engine = make_engine(settings_of(ctx).resolved_database_url)
    try:
        migrate.upgrade(engine)
        click.echo(f"database at revision {migrate.current_revision(engine)}")
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    except OperationalError as exc:
        raise click.ClickException(f"cannot reach the database: {exc.orig or exc}") from exc
    finally:
        engine.dispose()


def register(group: click.Group) -> None:
    group.add_command(db)
