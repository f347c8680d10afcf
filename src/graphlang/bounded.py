"""A process's memories that must not grow without end: dicts holding at most so many entries."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def put_bounded(held: dict[K, V], key: K, value: V, capacity: int) -> None:
    """``held[key] = value``, first dropping the oldest entry when a new key would exceed ``capacity``
    (dicts keep insertion order). Callers that share ``held`` between threads hold their own lock."""
    if held and key not in held and len(held) >= capacity:
        del held[next(iter(held))]
    held[key] = value
