"""The lock file beside a SQLite database that its writers take turns through."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_lock_file(path: Path) -> int:
    """A descriptor of its own on the lock file: a lock taken through a descriptor is shared by every
    thread that uses that descriptor, and excludes the holders of every other one."""
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def held(lock: int) -> Iterator[None]:
    """Hold the lock exclusively for the duration, waiting for it first."""
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield
    finally:
        release(lock)


def taken_at_once(lock: int) -> bool:
    """Take the lock exclusively if it is free right now; False (and nothing taken) if it is not."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def release(lock: int) -> None:
    fcntl.flock(lock, fcntl.LOCK_UN)
