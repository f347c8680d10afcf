"""``graphlang users``: the directory."""

from __future__ import annotations

import click

from graphlang.cli.root import offline_services, settings_of


@click.group(help="Manage users in the directory.")
def users() -> None:
    pass


@users.command("add", help="Add a user to the directory.")
@click.option("--upn", required=True, help="User principal name, e.g. adele@contoso.com.")
@click.option("--display-name", default=None, help="Display name.")
@click.option("--tenant", default=None, help="Tenant id [the default tenant].")
@click.option("--id", "user_id", default=None, help="Object id (a GUID); derived from the UPN if omitted.")
@click.pass_context
def users_add(ctx: click.Context, upn: str, display_name: str | None, tenant: str | None,
              user_id: str | None) -> None:
    from graphlang.storage.store import derived_user_id

    settings = settings_of(ctx)
    tenant_id = (tenant or settings.tenant).lower()
    with offline_services(settings) as services:
        try:
            row = services.store.ensure_user(tenant_id, user_id or derived_user_id(tenant_id, upn), upn,
                                             display_name)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{row['id']}\t{row['user_principal_name']}\t{row['display_name'] or ''}")


@users.command("list", help="List the users in the directory.")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    with offline_services(settings_of(ctx)) as services:
        for row in services.store.list_users():
            click.echo(f"{row['id']}\t{row['tenant_id']}\t{row['user_principal_name']}\t"
                       f"{row['display_name'] or ''}")


def register(group: click.Group) -> None:
    group.add_command(users)
