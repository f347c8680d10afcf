"""Fixtures of the operations tests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graphlang.config import Settings
from graphlang.storage.engine import is_memory_sqlite


@pytest.fixture
def shared_settings(settings: Settings) -> Settings:
    """The test database, but in a file when it would be in memory: one that several services (as
    several workers or instances would) can open, and that has a connection pool to report."""
    if is_memory_sqlite(settings.database_url or ""):
        return replace(settings, database_url=None)
    return settings
