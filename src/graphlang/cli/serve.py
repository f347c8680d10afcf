"""``graphlang serve``."""

from __future__ import annotations

from pathlib import Path

import click

from graphlang.cli.root import settings_of

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command(help="Run the service.")
@click.option("--host", default=None, help="Interface to bind [GRAPHLANG_HOST; 127.0.0.1].")
@click.option("--port", type=int, default=None,
              help="Port; 0 picks a free one and prints it [GRAPHLANG_PORT; 8000].")
@click.option("--auth", type=click.Choice(["emulator", "oidc", "none"]), default=None,
              help="Token source [GRAPHLANG_AUTH; emulator].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes sharing the port [GRAPHLANG_WORKERS; 1].")
@click.option("--json", "announce_json", is_flag=True,
              help="Print one JSON line (base URL, token endpoint, admin token) instead of the greeting.")
@click.option("--seed", "seed_file", type=EXISTING_FILE, default=None,
              help="Load users, apps and languages from this JSON or YAML fixture at start and on every "
                   "reset [GRAPHLANG_SEED_FILE].")
@click.option("--faults", "faults_file", type=EXISTING_FILE, default=None,
              help="Install the fault rules in this JSON or YAML file [GRAPHLANG_FAULTS_FILE].")
@click.option("--tls-cert", type=EXISTING_FILE, default=None,
              help="Serve HTTPS with this PEM certificate (see 'graphlang cert') [GRAPHLANG_TLS_CERT].")
@click.option("--tls-key", type=EXISTING_FILE, default=None,
              help="The PEM private key of --tls-cert [GRAPHLANG_TLS_KEY].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, auth: str | None, workers: int | None,
          announce_json: bool, seed_file: Path | None, faults_file: Path | None, tls_cert: Path | None,
          tls_key: Path | None) -> None:
    settings = settings_of(ctx).with_overrides(host=host, port=port, auth=auth, workers=workers,
                                               seed_file=seed_file, faults_file=faults_file,
                                               tls_cert=tls_cert, tls_key=tls_key)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise click.UsageError("HTTPS needs both --tls-cert and --tls-key")
    from graphlang.server import run

    try:
        run(settings, announce_json=announce_json)
    except (RuntimeError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


def register(group: click.Group) -> None:
    group.add_command(serve)
