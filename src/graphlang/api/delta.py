"""PATCH of a whole collection with an OData delta payload: upserts and removals in one transaction.

``{"@context": "#$delta", "value": [...]}`` (or ``@odata.context`` ending in ``$delta``): each entry
upserts an item (by ``id``, else by ``tag``, else creates one), and an entry marked ``@removed`` or
``@odata.removed`` deletes the item with its ``id``. An entry's ``@odata.etag`` makes it conditional,
as If-Match does for a single item. Every entry is validated before anything is written, and the
store applies them in one transaction, so a bad entry changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request

from graphlang.api.conditions import precondition_from
from graphlang.errors import BadRequest
from graphlang.model.serialize import to_json_object
from graphlang.model.validation import body_id, parse_changes
from graphlang.storage.store import DeltaEntry, DeltaRemoval, DeltaUpsert, Precondition, Row

REMOVED_MARKERS = ("@removed", "@odata.removed")


def is_delta_payload(body: object) -> bool:
    if not isinstance(body, dict):
        return False
    context = body.get("@context", body.get("@odata.context"))
    return isinstance(context, str) and context.endswith("$delta")


def delta_entries(request: Request, body: Mapping[str, Any]) -> list[DeltaEntry]:
    """Every entry of the payload, validated; a problem is a 400 naming the entry's index."""
    if request.headers.get("if-match") is not None:
        raise BadRequest("If-Match does not apply to a delta payload, which names many items; put each "
                         "item's ETag in its entry's '@odata.etag' instead.")
    value = body.get("value")
    if not isinstance(value, list):
        raise BadRequest("A delta payload needs a 'value' array of languageProficiency entries.")
    entries: list[DeltaEntry] = []
    for index, entry in enumerate(value):
        try:
            entries.append(_entry(entry))
        except BadRequest as error:
            error.message = f"value[{index}]: {error.message}"
            raise
    return entries


def _entry(entry: object) -> DeltaEntry:
    if not isinstance(entry, dict):
        raise BadRequest("Each entry of a delta payload must be a JSON object.")
    precondition = _precondition(entry)
    language_id = body_id(entry)
    if any(marker in entry for marker in REMOVED_MARKERS):
        if language_id is None:
            raise BadRequest("A removed entry must carry the 'id' of the languageProficiency to remove.")
        return DeltaRemoval(language_id, precondition)
    return DeltaUpsert(language_id, parse_changes(entry), precondition)


def _precondition(entry: Mapping[str, Any]) -> Precondition | None:
    etag = entry.get("@odata.etag")
    if etag is None:
        return None
    if not isinstance(etag, str):
        raise BadRequest("The property '@odata.etag' must be a string holding the item's ETag.")
    return precondition_from(etag, "'@odata.etag'")


def delta_body(context: str, entries: Sequence[DeltaEntry], results: Sequence[Row | None]) -> dict[str, Any]:
    """The outcome in the payload's own shape: each upserted item as it now is, each removal marked."""
    value: list[dict[str, Any]] = []
    for entry, row in zip(entries, results, strict=True):
        if row is None:
            value.append({"id": entry.language_id, "@removed": {"reason": "deleted"}})
        else:
            value.append(to_json_object(row))
    return {"@odata.context": context, "value": value}
