"""A process's renderings of items, kept under each item's (id, write id).

A profile's items are read far more often than they change, and rendering one costs several times
what finding it costs. Every write of a row gives it a new write id (storage/schema.py, migration
0005), so an id and a write id name one content of an item for ever: a rendering kept under them is
never stale, whatever wrote the row (a request, an import, a restore, a seed, another instance, an
operator's UPDATE by hand). Reads therefore fetch the
pair first, and the item's other columns only for an item this process has not rendered yet: fetching
a column from SQLite costs as much as looking a rendering up (docs/performance.md, step 45).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from graphlang.bounded import put_bounded
from graphlang.model.serialize import etag_of, to_json_object, whole_entity

Key = tuple[str, int]  # (id, write id)
CAPACITY = 4096  # about 1 KB each with its key: 4 MB at most per process


@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: ``all_of`` looks for None among them
class Rendering:
    """One item, rendered whole: its ETag, and its JSON as the body of an entity or a collection's member."""

    etag: str
    body: bytes
    fragment: orjson.Fragment  # the same bytes, for orjson to put into a collection as they are

    def entity_body(self, context: str) -> bytes:
        """The entity as a response body: ``@odata.context`` first, then the rest as it is kept."""
        # A view after the opening brace: the one copy is the concatenation's.
        return b'{"@odata.context":' + orjson.dumps(context) + b"," + memoryview(self.body)[1:]


class Renderings:
    """Renderings by key, the oldest dropped first when there are ``capacity`` of them.

    Read from the event loop and from worker threads: a lookup is one dict read; the rare insertion
    takes a lock, so two threads never drop the same oldest entry."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._held: OrderedDict[Key, Rendering] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Rendering | None:
        return self._held.get(key)

    def all_of(self, keys: Sequence[Key]) -> list[Rendering] | None:
        """The renderings of every key, in order; None when any of them is not held."""
        held = self._held
        found = [held.get(key) for key in keys]
        return None if None in found else found  # type: ignore[return-value]  # no None left

    def of(self, row: Mapping[str, Any]) -> Rendering:
        """The rendering of a whole stored row, made and kept when it is not held yet."""
        key = (row["id"], row["write_id"])
        found = self._held.get(key)
        if found is None:
            found = self._add(key, row)
        return found

    def _add(self, key: Key, row: Mapping[str, Any]) -> Rendering:
        # A copy of the exact size: orjson's own result keeps the 8 KB it was written in.
        body = bytes(memoryview(orjson.dumps(whole_entity(row))))
        rendering = Rendering(etag_of(row), body, orjson.Fragment(body))
        with self._lock:  # two threads must not drop the same oldest entry
            put_bounded(self._held, key, rendering, self.capacity)
        return rendering


RENDERINGS = Renderings()


def collection_items(rows: Iterable[Mapping[str, Any]], select: Iterable[str] | None = None
                     ) -> list[orjson.Fragment] | list[dict[str, Any]]:
    """A collection's ``value``: each whole item's rendering, or its selected properties."""
    if select is not None:
        return [to_json_object(row, select) for row in rows]
    return [RENDERINGS.of(row).fragment for row in rows]
