"""Graph's permission table for profile languages, as data (spec §4).

Each entry lists the permissions that allow an operation, least privileged first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from graphlang.auth.principal import Principal
from graphlang.errors import BadRequest, Forbidden


class Access(Enum):
    READ = "read"
    WRITE = "write"


class Target(Enum):
    SELF = "self"
    OTHER = "other"


@dataclass(frozen=True)
class Rule:
    access: Access
    target: Target
    delegated: tuple[str, ...]
    application: tuple[str, ...]


RULES: tuple[Rule, ...] = (
    Rule(Access.READ, Target.SELF,
         ("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All"),
         ()),
    Rule(Access.WRITE, Target.SELF, ("User.ReadWrite", "User.ReadWrite.All"), ()),
    Rule(Access.READ, Target.OTHER, ("User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All"),
         ("User.Read.All", "User.ReadWrite.All")),
    Rule(Access.WRITE, Target.OTHER, ("User.ReadWrite.All",), ("User.ReadWrite.All",)),
)
_BY_KEY = {(r.access, r.target): r for r in RULES}

ME_REQUIRES_DELEGATED = "/me request is only valid with delegated authentication flow."


def rule_for(access: Access, target: Target) -> Rule:
    return _BY_KEY[(access, target)]


def require(principal: Principal, access: Access, target: Target) -> str:
    """Raise Forbidden unless the principal holds a permission for this; return the one that matched."""
    rule = rule_for(access, target)
    if principal.is_app_only:
        # App-only tokens act on /users/{id} paths, which always count as another user's data.
        accepted, held = rule_for(access, Target.OTHER).application, principal.roles
    else:
        accepted, held = rule.delegated, principal.scopes
    for permission in accepted:
        if permission in held:
            return permission
    kind = "application" if principal.is_app_only else "delegated"
    raise Forbidden(
        f"Insufficient privileges to complete the operation. This {access.value} requires one of the "
        f"{kind} permissions {', '.join(accepted) or '(none)'}; the least privileged is "
        f"{accepted[0] if accepted else 'not available'}."
    )


def require_delegated_for_me(principal: Principal) -> None:
    if principal.is_app_only:
        raise BadRequest(ME_REQUIRES_DELEGATED)
