"""``graphlang token``: mint emulator access tokens, delegated (``--user``) or app-only (``--app``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson

from graphlang.cli.root import offline_services, settings_of
from graphlang.config import Settings

T = TypeVar("T")


def parse_claim(text: str) -> tuple[str, Any]:
    """``name=text`` sets a string claim; ``name:=json`` sets any JSON value (``ver:=2``, ``roles:=[]``)."""
    name, separator, value = text.partition("=")
    if not separator or not name.rstrip(":"):
        raise click.BadParameter(f"'{text}' is not name=value or name:=json", param_hint="--claim")
    if not name.endswith(":"):
        return name, value
    try:
        return name[:-1], orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"the value of '{name[:-1]}' is not JSON: {exc}", param_hint="--claim") from exc


@click.command(help="Print a signed access token (RS256) for the emulator on stdout, and nothing else. "
                    "--user makes a delegated token; --app alone makes an app-only one.")
@click.option("--user", "upn", default=None, help="User principal name, for a delegated token.")
@click.option("--app", "app_id", default=None,
              help="Application (client) id: of an app-only token, or the client app of a delegated one.")
@click.option("--scopes", default=None, help="Delegated permissions (space- or comma-separated) "
                                             "[User.ReadWrite].")
@click.option("--roles", default=None, help="Application permissions of an app-only token (space- or "
                                            "comma-separated) [the registered app's roles].")
@click.option("--name", default=None, help="The user's (or, app-only, the app's) display name.")
@click.option("--tenant", default=None, help="Tenant id [the default tenant].")
@click.option("--expires-in", type=int, default=3600, show_default=True,
              help="Lifetime in seconds; negative makes an expired token.")
@click.option("--claim", "claims", multiple=True, metavar="NAME=VALUE",
              help="Set or override a claim (repeatable); NAME:=JSON for a non-string value.")
@click.pass_context
def token(ctx: click.Context, upn: str | None, app_id: str | None, scopes: str | None, roles: str | None,
          name: str | None, tenant: str | None, expires_in: int, claims: tuple[str, ...]) -> None:
    from graphlang.auth.tokens import mint
    from graphlang.services import offline_signing_key

    settings = settings_of(ctx)
    if upn is None and app_id is None:
        raise click.UsageError("give --user for a delegated token or --app for an app-only one")
    if upn is not None and roles is not None:
        raise click.UsageError("--roles is for app-only tokens (--app without --user); use --scopes")
    if upn is None and scopes is not None:
        raise click.UsageError("--scopes is for delegated tokens (--user); use --roles for an app-only token")
    extra = dict(parse_claim(text) for text in claims)
    tenant_id = (tenant or settings.tenant).lower()
    common: dict[str, Any] = {"issuer": settings.emulator_issuer(tenant_id), "audience": settings.audiences[0],
                              "tenant": tenant_id, "expires_in": expires_in, "extra": extra}
    if upn is not None:
        user = directory_user(settings, tenant_id, upn, name)
        minted = mint(offline_signing_key(settings), user_id=user["id"], upn=user["user_principal_name"],
                      name=name or user["display_name"], scopes=_names(scopes or "User.ReadWrite"),
                      app_id=app_id.lower() if app_id else None, **common)
    else:
        assert app_id is not None
        app = registered_app(settings, app_id)
        if roles is None:
            if app is None:
                raise click.UsageError(f"the app '{app_id}' is not registered here, so give its --roles")
            roles = str(app["roles"])
        minted = mint(offline_signing_key(settings), app_id=app_id.lower(),
                      app_name=name or (app["display_name"] if app else None), roles=_names(roles), **common)
    click.echo(minted)


def _names(text: str) -> list[str]:
    return text.replace(",", " ").split()


def _with_store(settings: Settings, offline: T, action: Callable[[Any], T]) -> T:
    """``action(store)`` on the configured database; ``offline`` for an in-memory one, which only the
    running server holds (it creates users from the token's claims)."""
    from graphlang.storage.engine import is_memory_sqlite

    if is_memory_sqlite(settings.resolved_database_url):
        return offline
    with offline_services(settings) as services:
        try:
            return action(services.store)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc


def directory_user(settings: Settings, tenant_id: str, upn: str, name: str | None) -> Any:
    """The user with this UPN, added to the directory when missing."""
    from graphlang.auth import grants
    from graphlang.storage.store import derived_user_id

    offline: Any = {"id": derived_user_id(tenant_id, upn), "user_principal_name": upn, "display_name": name}
    return _with_store(settings, offline, lambda store: grants.directory_user(store, tenant_id, upn, name))


def registered_app(settings: Settings, app_id: str) -> Any:
    return _with_store(settings, None, lambda store: store.get_app(app_id))


def register(group: click.Group) -> None:
    group.add_command(token)
