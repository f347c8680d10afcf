"""Whose languages a request is about, and whether the caller may touch them.

The permission check comes before any lookup, so a caller without permission learns nothing about
which users exist. Users are looked up in the caller's tenant and, for reads, in the tenants
federated with it; a user anywhere else is the same 404 as a user that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy.sql.elements import ColumnElement

from graphlang.api.context import RequestContext
from graphlang.auth.permissions import Access, Check, Target, denial_message, require_delegated_for_me
from graphlang.auth.principal import Principal
from graphlang.auth.visibility import addressable_tenants, admitted_by, others_audiences, readable_audiences
from graphlang.errors import Forbidden, Unauthenticated, UserNotFound
from graphlang.model.renderings import Rendering
from graphlang.storage.owners import Owner, OwnerChanged
from graphlang.storage.store import Row, Store

log = logging.getLogger("graphlang.auth")
T = TypeVar("T")
PERMISSION_NOTE = "permission"  # ctx.notes key holding the request's permission Check


@dataclass(frozen=True, slots=True)
class TargetUser:
    id: str
    tenant_id: str
    user_principal_name: str
    display_name: str | None
    is_self: bool
    path: str  # "me" or "users/{ref}", as the request named it
    # Conditions on the languages table that keep only the items the caller may read.
    visible: tuple[ColumnElement[bool], ...] = ()
    # The same as allowedAudiences bits, any of which admits the caller; None: every item.
    audiences: int | None = None
    # The rendering of the item a request named, when it was read together with the user (None: not
    # visible to the caller, or none such); see ``prefetched``.
    language: Rendering | None = None
    prefetched: bool = False
    # For a write: the user as this process remembered them, not looked up for this request, which the
    # write must check again (storage/owners.py); None when they were looked up just now.
    owner: Owner | None = None


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
            "The token's oid and user principal name do not match a user of its tenant in the directory.",
            reason=str(exc),
        ) from exc
    # By tenant too: the memory must not let another tenant's token with the same oid skip the check.
    # Under the object id, as a lookup by that id would find the caller (``_written_user``).
    services.owners.remember(principal.tenant_id, principal.user_id, _owner_of(row))
    return row


@lru_cache(maxsize=4096)
def users_path(ref: str) -> str:
    """``users/{ref}`` as a URL path, re-encoding what the request percent-encoded (a ``/`` in a UPN)."""
    return f"users/{quote(ref, safe='@')}"


def _names_caller(principal: Principal, ref: str) -> bool:
    key = ref.strip().lower()
    return principal.user_id is not None and key in (
        principal.user_id,
        (principal.user_principal_name or "").lower(),
    )


def authorize(ctx: RequestContext, access: Access, target: Target) -> Check:
    """Check the permission table and note the outcome on the request; Forbidden when denied."""
    principal = ctx.require_principal()
    check = ctx.services.authenticator.permissions.check(principal, access, target)
    ctx.notes[PERMISSION_NOTE] = check
    if not check.allowed:
        log.info("permission denied: %s; least privileged permission: %s", check.rule.operation,
                 check.least_privileged or "none available",
                 extra={"request_id": ctx.request_id, "caller": principal.caller,
                        "least_privileged": check.least_privileged})
        raise Forbidden(denial_message(check))
    return check


def find_addressable(store: Store, tenants: Sequence[str], ref: str) -> Row | None:
    for tenant in tenants:
        row = store.find_user(tenant, ref)
        if row is not None:
            return row
    return None


async def resolve_target(ctx: RequestContext, params: Mapping[str, str], access: Access,
                         language_id: str | None = None, *, remembered: bool = False) -> TargetUser:
    """The user a request names, after the permission check. For a read of another user's whole item,
    ``language_id`` lets the item's rendering come with the user (``TargetUser.prefetched``). A write
    whose store call checks ``TargetUser.owner`` may take the user from this process's memory
    (``remembered``)."""
    principal = ctx.require_principal()
    ref = params.get("user")
    if ref is None:
        require_delegated_for_me(principal)
        authorize(ctx, access, Target.SELF)
        return await _caller_target(ctx, principal, "me", access, remembered)
    if _names_caller(principal, ref):
        authorize(ctx, access, Target.SELF)
        return await _caller_target(ctx, principal, users_path(ref), access, remembered)
    authorize(ctx, access, Target.OTHER)
    if access is Access.WRITE:
        return await _written_user(ctx, principal, ref, remembered)
    settings = ctx.services.settings
    tenants = addressable_tenants(settings, principal.tenant_id)
    if language_id is not None:
        # In the caller's own tenant the audiences that admit the caller are known before the user is
        # (unless the user turns out to be the caller, who sees everything: then it is read again).
        own = others_audiences(settings, principal, principal.tenant_id)
        found = await ctx.services.read(ctx.services.store.find_user_with_language, tenants[0], ref, language_id,
                                        own)
        if found is not None and found[0]["id"] != principal.user_id:
            user, language = found
            return _other_user(principal, ref, user, own, language, prefetched=True)
    row = await ctx.services.read(find_addressable, ctx.services.store, tenants, ref)
    if row is None:
        raise UserNotFound(ref)
    return _other_user(principal, ref, row, readable_audiences(settings, principal, row["id"], row["tenant_id"]))


async def _written_user(ctx: RequestContext, principal: Principal, ref: str, remembered: bool) -> TargetUser:
    owners = ctx.services.owners
    key = ref.strip().lower()
    owner = owners.get(principal.tenant_id, key) if remembered else None
    if owner is not None:
        return _other_user(principal, ref, _owner_row(owner), None, owner=owner)
    owners.forget(principal.tenant_id, key)
    tenants = addressable_tenants(ctx.services.settings, principal.tenant_id)
    row = await ctx.services.read(find_addressable, ctx.services.store, tenants, ref)
    if row is None:
        raise UserNotFound(ref)
    if row["tenant_id"] != principal.tenant_id:
        raise Forbidden("Users of another tenant are read-only: tenant federation admits reads only.",
                        code="accessDenied")
    if _found_by_first_form(row, key):
        owners.remember(principal.tenant_id, key, _owner_of(row))
    return _other_user(principal, ref, row, None)


async def write_owned(ctx: RequestContext, params: Mapping[str, str], target: TargetUser,
                      write: Callable[..., T], *args: Any) -> tuple[TargetUser, T]:
    """The store write ``write(target.id, *args, target.owner)``, for a ``target`` resolved with
    ``remembered``. When the owner it remembered no longer holds, the user is looked up afresh (404 if
    they are gone) and the write runs once more, for the user found: that user, and the result."""
    try:
        return target, await ctx.services.write(write, target.id, *args, target.owner)
    except OwnerChanged:
        fresh = await resolve_target(ctx, params, Access.WRITE)
        return fresh, await ctx.services.write(write, fresh.id, *args, None)


def _found_by_first_form(row: Row, key: str) -> bool:
    """Whether a lookup by ``key`` found ``row`` by the form it tries first (``UserLookup.in_order``).
    Only then does a write's check of the remembered user (same id, tenant and user principal name)
    mean that a lookup now would find that user again: one found by the second form may since have
    been shadowed by a user the first form finds."""
    return bool(row["upn_key"] == key if "@" in key else row["id"] == key)


def _owner_of(row: Row) -> Owner:
    return Owner(row["id"], row["tenant_id"], row["upn_key"], row["user_principal_name"], row["display_name"])


def _owner_row(owner: Owner) -> Row:
    return {"id": owner.id, "tenant_id": owner.tenant_id, "user_principal_name": owner.user_principal_name,
            "display_name": owner.display_name}


def _other_user(principal: Principal, ref: str, row: Row, audiences: int | None, language: Rendering | None = None,
                *, prefetched: bool = False, owner: Owner | None = None) -> TargetUser:
    return TargetUser(
        id=row["id"],
        tenant_id=row["tenant_id"],
        user_principal_name=row["user_principal_name"],
        display_name=row["display_name"],
        is_self=row["id"] == principal.user_id,
        path=users_path(ref),
        visible=admitted_by(audiences),
        audiences=audiences,
        language=language,
        prefetched=prefetched,
        owner=owner,
    )


async def _caller_target(ctx: RequestContext, principal: Principal, path: str, access: Access,
                         remembered: bool) -> TargetUser:
    assert principal.user_id is not None
    # The memory is this process's alone: a reset through another worker or instance may have removed
    # the caller's row since. A read needs no row; a write makes sure of it, or checks it again in its
    # own statement.
    owner = ctx.services.owners.get(principal.tenant_id, principal.user_id)
    if owner is not None and access is Access.READ:
        return TargetUser(principal.user_id, principal.tenant_id, principal.user_principal_name or "",
                          principal.name, True, path)
    if owner is not None and remembered:
        return TargetUser(owner.id, owner.tenant_id, owner.user_principal_name, owner.display_name, True, path,
                          owner=owner)
    row = await ensure_caller(ctx, principal)
    return TargetUser(row["id"], row["tenant_id"], row["user_principal_name"], row["display_name"], True, path)
