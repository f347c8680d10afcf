"""``graphlang permissions``: the permission table this deployment enforces."""

from __future__ import annotations

import click
import orjson

from graphlang.cli.root import settings_of


@click.command(help="Print the permission table: for each operation, the delegated and application "
                    "permissions that allow it, least privileged first.")
@click.option("--json", "as_json", is_flag=True, help="Print it in the format GRAPHLANG_PERMISSIONS_FILE takes.")
@click.pass_context
def permissions(ctx: click.Context, as_json: bool) -> None:
    from graphlang.auth.permissions import Kind, Target, load_table

    settings = settings_of(ctx)
    try:
        table = load_table(settings.permissions_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(orjson.dumps(table.as_data(), option=orjson.OPT_INDENT_2).decode())
        return
    rows = [("operation", "delegated", "application")]
    for rule in table.rules:
        application = ("(app-only calls count as another user's)" if rule.target is Target.SELF
                       else ", ".join(rule.accepted(Kind.APPLICATION)) or "not allowed")
        rows.append((rule.operation, ", ".join(rule.accepted(Kind.DELEGATED)) or "not allowed", application))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        click.echo(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
    click.echo("The first permission of each list is the least privileged one.")


def register(group: click.Group) -> None:
    group.add_command(permissions)
