"""The least-privilege report: per app and per user, the permissions their tokens carried and the
smallest set that would have allowed every call they made.

It is kept in the memory of one process: each instance of a scaled-out deployment reports the
calls it served, and a restart starts it afresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphlang.auth.permissions import Check, Kind, Rule
from graphlang.auth.principal import Principal
from graphlang.model.timestamps import format_ticks, now_ticks

MAX_PRINCIPALS = 10_000


@dataclass
class Usage:
    kind: Kind
    tenant_id: str
    label: str | None  # UPN or app display name
    carried: set[str] = field(default_factory=set)
    allowed: Counter[Rule] = field(default_factory=Counter)
    denied: Counter[Rule] = field(default_factory=Counter)

    def needed(self) -> list[str]:
        """The least privileged permission of each allowed operation, dropping any whose operations
        another chosen permission also allows (User.Read falls away beside User.ReadWrite)."""
        operations = [rule.accepted(self.kind) for rule in self.allowed]
        chosen = list(dict.fromkeys(accepted[0] for accepted in operations if accepted))
        for permission in list(chosen):
            others = [p for p in chosen if p != permission]
            if all(any(p in accepted for p in others) for accepted in operations):
                chosen = others
        return sorted(chosen)

    def as_json(self) -> dict[str, Any]:
        needed = self.needed()
        rules = sorted(set(self.allowed) | set(self.denied), key=lambda r: (r.access.value, r.target.value))
        return {
            "tenantId": self.tenant_id,
            "carried": sorted(self.carried),
            "needed": needed,
            "unused": sorted(self.carried - set(needed)),
            "operations": [
                {"operation": rule.operation, "allowed": self.allowed[rule], "denied": self.denied[rule],
                 "leastPrivileged": (rule.accepted(self.kind) or (None,))[0]}
                for rule in rules
            ],
        }


class PermissionReport:
    def __init__(self) -> None:
        self.started = now_ticks()
        self._apps: dict[str, Usage] = {}
        self._users: dict[str, Usage] = {}
        self.untracked = 0

    def record(self, principal: Principal, check: Check, calls: int = 1) -> None:
        usage = self._usage(principal, check.kind, calls)
        if usage is None:
            return
        usage.carried |= check.held
        (usage.allowed if check.allowed else usage.denied)[check.rule] += calls

    def record_all(self, uses: Iterable[tuple[Principal, Check]]) -> None:
        """``record`` for each, counting a caller's repeated check once with its number of calls: the
        requests one turn answers mostly are one caller's, and a check is kept per permission set
        (PermissionTable), so its object recurs."""
        counted: dict[tuple[int, int], list[Any]] = {}
        for principal, check in uses:
            key = (id(principal), id(check))  # the list below holds both, so neither id is reused meanwhile
            found = counted.get(key)
            if found is None:
                counted[key] = [principal, check, 1]
            else:
                found[2] += 1
        for principal, check, calls in counted.values():
            self.record(principal, check, calls)

    def _usage(self, principal: Principal, kind: Kind, calls: int) -> Usage | None:
        table = self._apps if kind is Kind.APPLICATION else self._users
        key = principal.app_id if kind is Kind.APPLICATION else principal.user_id
        assert key is not None
        usage = table.get(key)
        if usage is None:
            if len(self._apps) + len(self._users) >= MAX_PRINCIPALS:
                self.untracked += calls
                return None
            label = principal.app_name if kind is Kind.APPLICATION else principal.user_principal_name
            usage = table[key] = Usage(kind, principal.tenant_id, label)
        return usage

    def as_json(self) -> dict[str, Any]:
        return {
            "since": format_ticks(self.started),
            "scope": "this process",
            "untrackedCalls": self.untracked,
            "apps": [{"appId": key, "displayName": usage.label, **usage.as_json()}
                     for key, usage in sorted(self._apps.items())],
            "users": [{"id": key, "userPrincipalName": usage.label, **usage.as_json()}
                      for key, usage in sorted(self._users.items())],
        }
