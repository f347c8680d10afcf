"""Engines: each dialect's connection settings, checked before they reach the database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graphlang.config import Settings
from graphlang.services import create_services


@pytest.mark.parametrize("value", ["FULLL", "FULL; DROP TABLE languages", ""])
def test_an_unknown_sqlite_synchronous_level_stops_startup_naming_it(settings: Settings, value: str) -> None:
    on_file = replace(settings, database_url=None, sqlite_synchronous=value)
    with pytest.raises(ValueError, match="GRAPHLANG_SQLITE_SYNCHRONOUS must be one of OFF, NORMAL, FULL, EXTRA"):
        create_services(on_file, auto_migrate=True)


@pytest.mark.parametrize("value", ["normal", "EXTRA"])
def test_every_sqlite_synchronous_level_is_accepted_in_any_case(settings: Settings, value: str) -> None:
    services = create_services(replace(settings, database_url=None, sqlite_synchronous=value), auto_migrate=True)
    try:
        with services.engine.connect() as conn:
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
    finally:
        services.close()
    assert level == {"normal": 1, "EXTRA": 3}[value]
