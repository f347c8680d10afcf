"""Fixtures: a fresh graphlang world per test, on SQLite or (GRAPHLANG_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.services import Services, create_services
from graphlang.storage.engine import make_engine
from graphlang.storage.schema import metadata
from tests.factories import Tokens

POSTGRES_ADMIN_URL = os.environ.get("GRAPHLANG_TEST_POSTGRES_URL")
# Fixture modules shared by several test folders.
pytest_plugins = ["tests.api.controls_support"]


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "signing-key.pem"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A database of this run's own on the shared server, dropped at the end."""
    if not POSTGRES_ADMIN_URL:
        yield None
        return
    name = f"graphlang_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(postgres_url: str | None) -> str:
    if postgres_url is None:
        return "sqlite://"
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            existing = {row[0] for row in conn.execute(text("SELECT tablename FROM pg_tables "
                                                            "WHERE schemaname = 'public'"))}
            names = [t.name for t in metadata.sorted_tables if t.name in existing]
            if names:
                conn.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))
    finally:
        engine.dispose()
    return postgres_url


@pytest.fixture
def settings(tmp_path: Path, key_file: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, signing_key_file=key_file,
                    control_api=True, admin_token="test-admin-token")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = create_services(settings, auto_migrate=True)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def tokens(services: Services) -> Tokens:
    return Tokens(services)
