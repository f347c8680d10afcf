"""The users a process has looked up as the owners of written items, so that the next write to the
same user need not look them up again.

Users change rarely, but they do change, through another worker or instance as well as this one (a
reset, a seed that renames one, a user removed and created again). So a remembered owner is never
trusted: a write given one applies only while the users table still holds that user, in that tenant,
under that user principal name, a condition its own statement carries (storage/store.py). When the
condition fails, the write raises ``OwnerChanged`` and changes nothing; the caller forgets the entry,
looks the user up again and retries (api/targets.py). Memory only saves a read; it never decides
whose data a write touches.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from graphlang.bounded import put_bounded

CAPACITY = 4096  # about 300 bytes each: 1.2 MB at most per process


@dataclass(frozen=True, slots=True)
class Owner:
    """A user as a lookup found them in ``tenant_id``: what a write's condition checks again."""

    id: str
    tenant_id: str
    upn_key: str  # the lower-cased user principal name, as the users table keeps it
    user_principal_name: str
    display_name: str | None


class OwnerChanged(Exception):
    """The users table no longer holds a write's remembered owner as they were found; nothing was
    written."""


class Owners:
    """Owners by (tenant, the key a request named them by), the oldest dropped first when there are
    ``capacity`` of them. Used on the event loop only."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._held: OrderedDict[tuple[str, str], Owner] = OrderedDict()

    def get(self, tenant_id: str, key: str) -> Owner | None:
        return self._held.get((tenant_id, key))

    def remember(self, tenant_id: str, key: str, owner: Owner) -> None:
        put_bounded(self._held, (tenant_id, key), owner, self.capacity)

    def forget(self, tenant_id: str, key: str) -> None:
        self._held.pop((tenant_id, key), None)

    def clear(self) -> None:
        self._held.clear()
