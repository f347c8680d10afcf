"""``graphlang apps``: the applications the emulator's token endpoint issues tokens to."""

from __future__ import annotations

import click

from graphlang.cli.root import offline_services, settings_of


@click.group(help="Manage the apps registered with the emulator's token endpoint.")
def apps() -> None:
    pass


@apps.command("add", help="Register an app (or replace the one with this id). graphlang keeps only a hash "
                          "of its secret.")
@click.option("--app-id", required=True, help="Application (client) id, e.g. a GUID.")
@click.option("--name", default=None, help="Display name.")
@click.option("--secret", default=None,
              help="Client secret [a new one, printed once]; the client_credentials grant needs it.")
@click.option("--public", is_flag=True, help="A public client without a secret (the password grant only).")
@click.option("--roles", default="", help="Application permissions its app-only tokens carry "
                                          "(space- or comma-separated), e.g. 'User.Read.All'.")
@click.option("--tenant", default=None, help="Tenant id [the default tenant].")
@click.pass_context
def apps_add(ctx: click.Context, app_id: str, name: str | None, secret: str | None, public: bool, roles: str,
             tenant: str | None) -> None:
    from graphlang.auth.client_secrets import hash_secret, new_secret

    if public and secret is not None:
        raise click.UsageError("--public registers an app without a secret; leave out --secret")
    settings = settings_of(ctx)
    generated = None if public or secret is not None else new_secret()
    plain = secret or generated
    with offline_services(settings) as services:
        row = services.store.add_app(app_id, (tenant or settings.tenant).lower(), name,
                                     hash_secret(plain) if plain else None, " ".join(roles.replace(",", " ").split()))
    click.echo(f"{row['id']}\t{row['tenant_id']}\t{row['display_name'] or ''}\t{row['roles']}")
    if generated:
        click.echo(f"client secret (shown once): {generated}")


@apps.command("list", help="List the registered apps (never their secrets).")
@click.pass_context
def apps_list(ctx: click.Context) -> None:
    with offline_services(settings_of(ctx)) as services:
        for row in services.store.list_apps():
            kind = "confidential" if row["secret_hash"] else "public"
            click.echo(f"{row['id']}\t{row['tenant_id']}\t{row['display_name'] or ''}\t{kind}\t{row['roles']}")


def register(group: click.Group) -> None:
    group.add_command(apps)
