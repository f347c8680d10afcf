"""Fixtures for identity and access: a graphlang with chosen settings, and a local identity provider."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.services import Services, create_services
from tests.auth.idp import LocalIdentityProvider, running_idp
from tests.factories import Tokens


@dataclass
class World:
    client: TestClient
    services: Services
    tokens: Tokens


MakeWorld = Callable[..., World]


def _worlds(settings: Settings) -> Iterator[MakeWorld]:
    with ExitStack() as stack:
        def make(**overrides: Any) -> World:
            services = create_services(replace(settings, **overrides), auto_migrate=True)
            stack.callback(services.close)
            client = stack.enter_context(TestClient(create_app(services.settings, services),
                                                    base_url="http://testserver"))
            return World(client, services, Tokens(services))

        yield make


@pytest.fixture
def make_world(settings: Settings) -> Iterator[MakeWorld]:
    """``(**setting_overrides) -> World``: a graphlang app on the test's fresh database with those settings."""
    yield from _worlds(settings)


@pytest.fixture(scope="module")
def make_shared_world(tmp_path_factory: pytest.TempPathFactory, key_file: Path, postgres_url: str | None
                      ) -> Iterator[MakeWorld]:
    """Like ``make_world``, but shared by the tests of one module, which must therefore not depend on
    what others wrote: on PostgreSQL the database is not emptied first, so use names of the module's own."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("shared") / "data", database_url=postgres_url or "sqlite://",
                        signing_key_file=key_file, control_api=True, admin_token="test-admin-token")
    yield from _worlds(settings)


@pytest.fixture
def idp() -> Iterator[LocalIdentityProvider]:
    with running_idp() as provider:
        yield provider


@pytest.fixture
def oidc(make_world: MakeWorld, idp: LocalIdentityProvider) -> World:
    """graphlang in oidc mode, trusting the local provider through its discovery document."""
    return make_world(auth="oidc", oidc_discovery_url=idp.discovery_url, audiences=("api://graphlang",),
                      oidc_refresh_interval=0)
