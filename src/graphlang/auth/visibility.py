"""Who may see another user's languages: tenants, federation, and each item's ``allowedAudiences``.

A user is addressable from the caller's own tenant and, for reads, from tenants federated with it
(``GRAPHLANG_FEDERATED_TENANTS`` together with ``GRAPHLANG_TENANT`` form one federation). Items a
caller other than the owner reads are filtered in SQL by the audience bits that admit that caller;
graphlang has no contacts, families or groups, so ``family``, ``contacts`` and ``groupMembers``
admit nobody but the owner.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.sql.elements import ColumnElement

from graphlang.auth.principal import Principal
from graphlang.config import Settings
from graphlang.model.enums import AUDIENCES
from graphlang.storage.schema import languages

SAME_TENANT = AUDIENCES["organization"] | AUDIENCES["federatedOrganizations"] | AUDIENCES["everyone"]
FEDERATED_TENANT = AUDIENCES["federatedOrganizations"] | AUDIENCES["everyone"]
ANY_TENANT = AUDIENCES["everyone"]


def federation(settings: Settings) -> frozenset[str]:
    """The tenants that trust each other; empty when the deployment lists no federated tenants."""
    if not settings.federated_tenants:
        return frozenset()
    return frozenset(t.lower() for t in (settings.tenant, *settings.federated_tenants))


def addressable_tenants(settings: Settings, caller_tenant: str) -> tuple[str, ...]:
    """Where a reader's user reference is looked up: its own tenant first, then its federation."""
    group = federation(settings)
    partners = sorted(group - {caller_tenant}) if caller_tenant in group else []
    return (caller_tenant, *partners)


def admitting_audiences(settings: Settings, caller_tenant: str, owner_tenant: str) -> int:
    """The audience bits, any of which makes an item visible to a caller from ``caller_tenant``."""
    if caller_tenant == owner_tenant:
        return SAME_TENANT
    group = federation(settings)
    if caller_tenant in group and owner_tenant in group:
        return FEDERATED_TENANT
    return ANY_TENANT


def readable_audiences(settings: Settings, principal: Principal, owner_id: str, owner_tenant: str) -> int | None:
    """The audience bits, any of which lets this caller read an item of the owner; None: every item."""
    if principal.user_id == owner_id:
        return None
    return others_audiences(settings, principal, owner_tenant)


def others_audiences(settings: Settings, principal: Principal, owner_tenant: str) -> int | None:
    """``readable_audiences`` for an owner who is not the caller: known from the owner's tenant alone."""
    if principal.is_app_only and principal.tenant_id == owner_tenant:
        return None  # an application granted read access in the owner's tenant sees every item
    return admitting_audiences(settings, principal.tenant_id, owner_tenant)


@lru_cache(maxsize=16)
def admitted_by(bits: int | None) -> tuple[ColumnElement[bool], ...]:
    """SQL conditions keeping the items that any of ``bits`` admits (None: every item).

    Built once per bit mask (there are three): constructing the expression costs more than the read.
    A NULL audience matches no bit, so an item whose audience was cleared stays private.
    """
    return () if bits is None else (languages.c.allowed_audiences.bitwise_and(bits) != 0,)
