"""The root command group and what its subcommands share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from graphlang.config import Settings

ENV_HELP = "Every option can also be set as a GRAPHLANG_* environment variable."


@click.group(help=f"graphlang: the Microsoft Graph (beta) profile languages API. {ENV_HELP}")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the SQLite database and signing key live [GRAPHLANG_DATA_DIR; .graphlang].")
@click.option("--database-url", default=None,
              help="SQLAlchemy URL; 'sqlite://' keeps everything in memory [GRAPHLANG_DATABASE_URL].")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    try:
        ctx.obj = Settings.from_env(data_dir=data_dir, database_url=database_url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


@contextmanager
def offline_services(settings: Settings) -> Iterator[Any]:
    """The store and keys for an offline command, closed when the command is done with them."""
    from graphlang.services import create_services

    try:
        services = create_services(settings)
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield services
    finally:
        services.close()
