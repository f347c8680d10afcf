"""Helpers for tests of the emulator controls: the admin header and apps built with other settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.services import create_services

ADMIN = {"x-graphlang-admin-token": "test-admin-token"}
MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: Settings) -> Iterator[MakeClient]:
    """``(**settings overrides) -> TestClient`` on its own services; all are closed at teardown."""
    with ExitStack() as stack:
        def make(**overrides: Any) -> TestClient:
            services = create_services(replace(settings, **overrides), auto_migrate=True)
            stack.callback(services.close)
            app = create_app(services.settings, services)
            return stack.enter_context(TestClient(app, base_url="http://testserver"))

        yield make


def journal(client: TestClient, **query: str) -> list[dict[str, Any]]:
    response = client.get("/_graphlang/requests", headers=ADMIN, params=query)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["value"]
    return entries


def add_fault(client: TestClient, rule: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/_graphlang/faults", headers=ADMIN, json=rule)
    assert response.status_code == 201, response.text
    added: dict[str, Any] = response.json()
    return added
