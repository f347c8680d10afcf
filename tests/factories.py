"""Helpers that make tokens and request headers for tests."""

from __future__ import annotations

from typing import Any

from graphlang.auth.tokens import mint
from graphlang.services import Services
from graphlang.storage.store import derived_user_id


class Tokens:
    """Mints emulator tokens with the service's own key."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings

    def delegated(self, upn: str = "alice@contoso.com", scopes: str = "User.ReadWrite",
                  tenant: str | None = None, name: str | None = None, **kw: Any) -> str:
        tenant_id = tenant or self.settings.tenant
        return mint(
            self.services.key,
            issuer=kw.pop("issuer", self.settings.emulator_issuer(tenant_id)),
            audience=kw.pop("audience", self.settings.audiences[0]),
            tenant=tenant_id,
            user_id=kw.pop("user_id", derived_user_id(tenant_id, upn)),
            upn=upn,
            name=name or upn.split("@")[0].title(),
            scopes=scopes.split(),
            **kw,
        )

    def app(self, app_id: str = "11111111-2222-3333-4444-555555555555", roles: str = "User.Read.All",
            tenant: str | None = None, **kw: Any) -> str:
        tenant_id = tenant or self.settings.tenant
        return mint(
            self.services.key,
            issuer=self.settings.emulator_issuer(tenant_id),
            audience=self.settings.audiences[0],
            tenant=tenant_id,
            app_id=app_id,
            app_name=kw.pop("app_name", "Test App"),
            roles=roles.split(),
            **kw,
        )

    def headers(self, token: str | None = None, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.delegated(**kw)}"}

    def user_id(self, upn: str, tenant: str | None = None) -> str:
        return derived_user_id(tenant or self.settings.tenant, upn)
