"""If-Match: a client's entity tags as a store ``Precondition``.

An item's ETag is ``W/"<id>-<version>"`` (``model.serialize.etag_of``), and the version grows on every
write. Tags are compared weakly (RFC 9110 §8.8.3.2): the ``W/`` prefix is ignored, so a client may
echo the tag with or without it. The comparison itself happens in the store's UPDATE or DELETE
statement, so two writers holding the same tag can never both succeed.
"""

from __future__ import annotations

import re

from starlette.requests import Request

from graphlang.errors import MalformedEntityTag
from graphlang.storage.store import Precondition

_ENTITY_TAG = re.compile(r'\s*(?:W/)?"([^"]*)"\s*(?:,|$)')
_VERSION = re.compile(r"[0-9]{1,18}")


def _opaque_tags(value: str, source: str) -> list[str]:
    tags: list[str] = []
    position = 0
    while position < len(value):
        found = _ENTITY_TAG.match(value, position)
        if found is None or found.end() == position:
            raise MalformedEntityTag(source, value)
        tags.append(found.group(1))
        position = found.end()
    if not tags:
        raise MalformedEntityTag(source, value)
    return tags


def precondition_from(value: str, source: str) -> Precondition:
    """The condition an If-Match value states; ``*`` only asks that the item exist.

    A well-formed tag that graphlang never issued (another service's, or garbage between quotes)
    simply matches nothing, so it fails the condition rather than the request's syntax.
    """
    if value.strip() == "*":
        return Precondition(None)
    tags: list[tuple[str, int]] = []
    for opaque in _opaque_tags(value, source):
        language_id, _, version = opaque.rpartition("-")
        if language_id and _VERSION.fullmatch(version):
            tags.append((language_id.lower(), int(version)))
    return Precondition(tuple(tags))


def if_match(request: Request) -> Precondition | None:
    """The request's If-Match condition, or None when it sent no If-Match header."""
    values = request.headers.getlist("if-match")
    if not values:
        return None
    return precondition_from(", ".join(values), "If-Match header")
