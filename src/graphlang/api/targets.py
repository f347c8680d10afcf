"""Whose languages a request is about, and whether the caller may touch them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphlang.api.context import RequestContext
from graphlang.auth.permissions import Access, Target, require, require_delegated_for_me
from graphlang.auth.principal import Principal
from graphlang.errors import Unauthenticated, UserNotFound


@dataclass(frozen=True, slots=True)
class TargetUser:
    id: str
    tenant_id: str
    user_principal_name: str
    display_name: str | None
    is_self: bool
    path: str  # "me" or "users/{ref}", as the request named it


async def ensure_caller(ctx: RequestContext, principal: Principal) -> Mapping[str, Any]:
    """The calling user's directory entry, created from the token's claims on first use."""
    assert principal.user_id is not None
    services = ctx.services
    upn = principal.user_principal_name or f"{principal.user_id}@{principal.tenant_id}"
    try:
        row = await services.run(services.store.ensure_user, principal.tenant_id, principal.user_id, upn,
                                 principal.name)
    except ValueError as exc:
        raise Unauthenticated(
            "The token's oid does not match the directory's user for its user principal name.",
            reason=str(exc),
        ) from exc
    services.known_users.add(principal.user_id)
    return row


def _names_caller(principal: Principal, ref: str) -> bool:
    key = ref.strip().lower()
    return principal.user_id is not None and key in (
        principal.user_id,
        (principal.user_principal_name or "").lower(),
    )


async def resolve_target(ctx: RequestContext, params: Mapping[str, str], access: Access) -> TargetUser:
    """Check permission first (so nothing leaks about users the caller may not see), then look up."""
    principal = ctx.require_principal()
    ref = params.get("user")
    if ref is None:
        require_delegated_for_me(principal)
        require(principal, access, Target.SELF)
        return await _caller_target(ctx, principal, "me")
    if _names_caller(principal, ref):
        require(principal, access, Target.SELF)
        return await _caller_target(ctx, principal, f"users/{ref}")
    require(principal, access, Target.OTHER)
    row = await ctx.services.run(ctx.services.store.find_user, principal.tenant_id, ref)
    if row is None:
        raise UserNotFound(ref)
    return TargetUser(
        id=row["id"],
        tenant_id=row["tenant_id"],
        user_principal_name=row["user_principal_name"],
        display_name=row["display_name"],
        is_self=row["id"] == principal.user_id,
        path=f"users/{ref}",
    )


async def _caller_target(ctx: RequestContext, principal: Principal, path: str) -> TargetUser:
    assert principal.user_id is not None
    if principal.user_id in ctx.services.known_users:
        return TargetUser(principal.user_id, principal.tenant_id, principal.user_principal_name or "",
                          principal.name, True, path)
    row = await ensure_caller(ctx, principal)
    return TargetUser(row["id"], row["tenant_id"], row["user_principal_name"], row["display_name"], True,
                      path)
