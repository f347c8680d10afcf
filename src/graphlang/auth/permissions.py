"""Graph's permission table for profile languages, as data (spec §4), and the check against it.

Each row lists the permissions that allow one kind of operation, least privileged first. The
defaults follow the published table; a deployment may replace rows from a JSON or YAML file
(``GRAPHLANG_PERMISSIONS_FILE``), for example to switch application access off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from graphlang.auth.principal import Principal
from graphlang.errors import BadRequest


class Access(Enum):
    READ = "read"
    WRITE = "write"
    # Every request's permission check is looked up by these enums' members: Enum's own __hash__ is
    # a Python call, and a member is only ever equal to itself, so the object's identity hash serves.
    __hash__ = object.__hash__


class Target(Enum):
    SELF = "self"
    OTHER = "other"
    __hash__ = object.__hash__


class Kind(Enum):
    DELEGATED = "delegated"
    APPLICATION = "application"
    __hash__ = object.__hash__

    @classmethod
    def of(cls, principal: Principal) -> Kind:
        return cls.APPLICATION if principal.is_app_only else cls.DELEGATED


@dataclass(frozen=True)
class Rule:
    access: Access
    target: Target
    delegated: tuple[str, ...]
    application: tuple[str, ...]  # always empty for SELF: app-only tokens have no "me"

    def accepted(self, kind: Kind) -> tuple[str, ...]:
        return self.application if kind is Kind.APPLICATION else self.delegated

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        # Rules key the counters of every request's permission report: hash the fields once.
        return hash((self.access, self.target, self.delegated, self.application))

    @property
    def operation(self) -> str:
        verb = "Reading" if self.access is Access.READ else "Changing"
        whose = "your own" if self.target is Target.SELF else "another user's"
        return f"{verb} {whose} languages"


@dataclass(frozen=True)
class Check:
    """The outcome of one permission check, kept on the request for logs and the least-privilege report."""

    rule: Rule
    kind: Kind
    held: frozenset[str]
    granted_by: str | None  # the held permission that allowed the call; None when denied

    @property
    def allowed(self) -> bool:
        return self.granted_by is not None

    @property
    def least_privileged(self) -> str | None:
        accepted = self.rule.accepted(self.kind)
        return accepted[0] if accepted else None


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(Access.READ, Target.SELF,
         ("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All"), ()),
    Rule(Access.WRITE, Target.SELF, ("User.ReadWrite", "User.ReadWrite.All"), ()),
    Rule(Access.READ, Target.OTHER, ("User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All"),
         ("User.Read.All", "User.ReadWrite.All")),
    Rule(Access.WRITE, Target.OTHER, ("User.ReadWrite.All",), ("User.ReadWrite.All",)),
)

MAX_CACHED_CHECKS = 4096
ME_REQUIRES_DELEGATED = "/me request is only valid with delegated authentication flow."


class PermissionTable:
    def __init__(self, rules: Iterable[Rule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)
        self._by_key = {(r.access, r.target): r for r in self.rules}
        self._checks: dict[tuple[Access, Target, Kind, frozenset[str]], Check] = {}

    def rule(self, access: Access, target: Target) -> Rule:
        return self._by_key[(access, target)]

    def check(self, principal: Principal, access: Access, target: Target) -> Check:
        kind = Kind.of(principal)
        held = principal.roles if kind is Kind.APPLICATION else principal.scopes
        key = (access, target, kind, held)
        found = self._checks.get(key)
        if found is None:
            # The outcome depends on nothing else, and a service sees few distinct permission sets.
            if len(self._checks) >= MAX_CACHED_CHECKS:
                self._checks.clear()
            found = self._checks[key] = self._check(kind, held, access, target)
        return found

    def _check(self, kind: Kind, held: frozenset[str], access: Access, target: Target) -> Check:
        # App-only tokens act on /users/{id} paths, which always count as another user's data.
        rule = self.rule(access, Target.OTHER if kind is Kind.APPLICATION else target)
        granted = next((p for p in rule.accepted(kind) if p in held), None)
        return Check(rule, kind, held, granted)

    def as_data(self) -> dict[str, Any]:
        """The table in the file format ``load_table`` reads."""
        out: dict[str, Any] = {}
        for rule in self.rules:
            row: dict[str, list[str]] = {"delegated": list(rule.delegated)}
            if rule.target is Target.OTHER:
                row["application"] = list(rule.application)
            out.setdefault(rule.access.value, {})[rule.target.value] = row
        return out


def denial_message(check: Check) -> str:
    """The 403 message: every permission that would have been enough, and the least privileged one."""
    accepted = check.rule.accepted(check.kind)
    if not accepted:
        return (f"Insufficient privileges to complete the operation. {check.rule.operation} is not "
                f"allowed with {check.kind.value} permissions in this deployment.")
    return (f"Insufficient privileges to complete the operation. {check.rule.operation} requires one of "
            f"the {check.kind.value} permissions {', '.join(accepted)}; the least privileged is {accepted[0]}.")


def require_delegated_for_me(principal: Principal) -> None:
    if principal.is_app_only:
        raise BadRequest(ME_REQUIRES_DELEGATED)


def load_table(path: Path | None) -> PermissionTable:
    """The default table with the rows named in ``path`` (JSON or YAML) replaced."""
    if path is None:
        return PermissionTable()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the permissions file {path}: {exc}") from exc
    return PermissionTable(_override(DEFAULT_RULES, data, path))


def _override(rules: Iterable[Rule], data: Any, path: Path) -> list[Rule]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping of 'read'/'write' to 'self'/'other' rows")
    by_key = {(r.access.value, r.target.value): r for r in rules}
    for access, targets in data.items():
        if access not in ("read", "write") or not isinstance(targets, Mapping):
            raise ValueError(f"{path}: '{access}' is not 'read' or 'write' with a mapping of rows")
        for target, row in targets.items():
            key = (access, target)
            if key not in by_key or not isinstance(row, Mapping):
                raise ValueError(f"{path}: '{access}.{target}' is not a row; rows are 'self' and 'other'")
            by_key[key] = _row(by_key[key], row, f"{path}: {access}.{target}")
    return list(by_key.values())


def _row(rule: Rule, row: Mapping[str, Any], where: str) -> Rule:
    allowed = {"delegated"} if rule.target is Target.SELF else {"delegated", "application"}
    unknown = set(row) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"expected {' and '.join(sorted(allowed))}")
    lists: dict[str, tuple[str, ...]] = {}
    for name, permissions in row.items():
        if not isinstance(permissions, list) or not all(isinstance(p, str) and p for p in permissions):
            raise ValueError(f"{where}.{name}: expected a list of permission names, least privileged first")
        lists[name] = tuple(permissions)
    return replace(rule, delegated=lists.get("delegated", rule.delegated),
                   application=lists.get("application", rule.application))
