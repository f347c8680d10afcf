"""``graphlang serve``."""

from __future__ import annotations

import click

from graphlang.cli.root import settings_of


@click.command(help="Run the service.")
@click.option("--host", default=None, help="Interface to bind [GRAPHLANG_HOST; 127.0.0.1].")
@click.option("--port", type=int, default=None,
              help="Port; 0 picks a free one and prints it [GRAPHLANG_PORT; 8000].")
@click.option("--auth", type=click.Choice(["emulator", "oidc", "none"]), default=None,
              help="Token source [GRAPHLANG_AUTH; emulator].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, auth: str | None) -> None:
    from graphlang.server import run

    settings = settings_of(ctx).with_overrides(host=host, port=port, auth=auth)
    try:
        run(settings)
    except (RuntimeError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


def register(group: click.Group) -> None:
    group.add_command(serve)
