"""``graphlang token``: mint emulator access tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from graphlang.cli.root import open_services, settings_of
from graphlang.config import Settings


@click.command(help="Print a signed access token (RS256) for the emulator on stdout, and nothing else.")
@click.option("--user", "upn", default=None, help="User principal name, for a delegated token.")
@click.option("--scopes", default="User.ReadWrite", show_default=True,
              help="Delegated permissions (space- or comma-separated).")
@click.option("--name", default=None, help="The user's display name.")
@click.option("--tenant", default=None, help="Tenant id [the default tenant].")
@click.option("--expires-in", type=int, default=3600, show_default=True, help="Lifetime in seconds.")
@click.pass_context
def token(ctx: click.Context, upn: str | None, scopes: str, name: str | None, tenant: str | None,
          expires_in: int) -> None:
    from graphlang.auth.keys import load_or_create
    from graphlang.auth.tokens import mint
    from graphlang.services import signing_key_path

    settings = settings_of(ctx)
    if upn is None:
        raise click.UsageError("--user is required")
    tenant_id = (tenant or settings.tenant).lower()
    user = directory_user(settings, tenant_id, upn, name)
    key = load_or_create(Path(signing_key_path(settings)))
    click.echo(mint(
        key,
        issuer=settings.emulator_issuer(tenant_id),
        audience=settings.audiences[0],
        tenant=tenant_id,
        user_id=user["id"],
        upn=user["user_principal_name"],
        name=name or user["display_name"],
        scopes=scopes.replace(",", " ").split(),
        expires_in=expires_in,
    ))


def directory_user(settings: Settings, tenant_id: str, upn: str, name: str | None) -> Any:
    """The user with this UPN, added to the directory when missing."""
    from graphlang.storage.engine import is_memory_sqlite
    from graphlang.storage.store import derived_user_id

    if is_memory_sqlite(settings.resolved_database_url):
        # Nothing to record: the running server creates the user from the token's claims.
        return {"id": derived_user_id(tenant_id, upn), "user_principal_name": upn, "display_name": name}
    services = open_services(settings)
    try:
        found = services.store.find_user(tenant_id, upn)
        if found is not None:
            return found
        return services.store.ensure_user(tenant_id, derived_user_id(tenant_id, upn), upn, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        services.close()


def register(group: click.Group) -> None:
    group.add_command(token)
