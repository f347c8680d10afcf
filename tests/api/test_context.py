"""Per-request state: the request id every response and log line carries."""

from __future__ import annotations

import uuid

from graphlang.api.context import new_request_id


def test_request_ids_are_distinct_version_4_guids_in_canonical_form() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
