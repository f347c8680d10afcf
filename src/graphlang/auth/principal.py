"""The caller, as established from a verified token."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    user_id: str | None  # the token's oid, for delegated tokens
    user_principal_name: str | None
    name: str | None
    app_id: str | None
    app_name: str | None
    scopes: frozenset[str]  # delegated permissions (scp)
    roles: frozenset[str]  # application permissions (roles)

    @property
    def is_app_only(self) -> bool:
        return self.user_id is None

    @property
    def caller(self) -> str:
        """A short label for logs and the request journal: never a token or a secret."""
        if self.user_id is not None:
            return self.user_principal_name or self.user_id
        return f"app:{self.app_id}"
