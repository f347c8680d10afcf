"""Per-request state: the request id every response and log line carries."""

from __future__ import annotations

import os
import uuid

from graphlang.api.context import new_request_id


def test_request_ids_are_distinct_version_4_guids_in_canonical_form() -> None:
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text


def test_a_forked_process_makes_request_ids_of_its_own() -> None:
    new_request_id()  # the parent now holds a block of randomness
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert from_child != new_request_id()
