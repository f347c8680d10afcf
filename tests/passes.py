"""The two passes of ``scripts/test`` (loaded there with ``-p tests.passes``).

``--database-pass sqlite`` runs everything except ``standalone`` tests. ``--database-pass postgresql``
runs every test that can reach the database through a fixture (with ``GRAPHLANG_TEST_POSTGRES_URL``
set, the fixtures use PostgreSQL), plus the ``standalone`` tests, which pick their databases
themselves. A test that uses none of the project's fixtures cannot reach the configured database, so a
second pass would only repeat it.
"""

from __future__ import annotations

import pytest

PROJECT_PACKAGE = "tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database-pass", choices=("sqlite", "postgresql"), default=None,
                     help="select the tests of one pass of scripts/test")


def _uses_project_fixtures(item: pytest.Item) -> bool:
    """Whether any fixture of the test is the project's own (conftest or test module), as opposed to
    pytest's, a plugin's, or a direct parametrization argument."""
    info = getattr(item, "_fixtureinfo", None)  # pytest keeps it on test functions only
    if info is None:
        return True  # not a plain test function: run it in both passes rather than guess
    definitions = info.name2fixturedefs
    return any(definition.func.__module__.split(".")[0] == PROJECT_PACKAGE
               for name in getattr(item, "fixturenames", ()) for definition in definitions.get(name, ()))


def _in_pass(item: pytest.Item, which: str) -> bool:
    standalone = item.get_closest_marker("standalone") is not None
    if which == "sqlite":
        return not standalone
    return standalone or _uses_project_fixtures(item)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    which = config.getoption("--database-pass")
    if which is None:
        return
    kept = [item for item in items if _in_pass(item, which)]
    dropped = [item for item in items if not _in_pass(item, which)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
