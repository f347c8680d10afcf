"""Where the emulator's signing key lives, so that every instance signs and verifies with the same one,
and the admin token every worker and instance derives from it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.auth.keys import new_private_pem
from graphlang.config import Settings
from graphlang.services import DATABASE_KEY_NAME, create_services
from tests.factories import Tokens
from tests.ops.support import LANGUAGES, shared_server_database


@pytest.mark.standalone
def test_instances_on_postgres_share_the_key_and_admin_token_through_the_database(tmp_path: Path) -> None:
    with shared_server_database() as url:
        first = create_services(Settings(data_dir=tmp_path / "a", database_url=url), auto_migrate=True)
        second = create_services(Settings(data_dir=tmp_path / "b", database_url=url))
        try:
            assert first.key.kid == second.key.kid
            assert first.admin_token == second.admin_token
            assert not (tmp_path / "a" / "signing-key.pem").exists()
            with TestClient(create_app(second.settings, second)) as client:
                token = Tokens(first).delegated()
                assert client.get(LANGUAGES, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        finally:
            first.close()
            second.close()


@pytest.mark.standalone
def test_instances_starting_together_store_exactly_one_key(tmp_path: Path) -> None:
    with shared_server_database() as url:
        services = create_services(Settings(data_dir=tmp_path, database_url=url, signing_key_file=tmp_path / "k"),
                                   auto_migrate=True)
        barrier = threading.Barrier(8)

        def first_use(_: int) -> bytes:
            barrier.wait()
            return services.store.signing_key_pem(DATABASE_KEY_NAME, new_private_pem)

        try:
            with ThreadPoolExecutor(8) as pool:
                keys = set(pool.map(first_use, range(8)))
        finally:
            services.close()
        assert len(keys) == 1


def test_on_sqlite_the_key_and_admin_token_come_from_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "one")
    first, again = create_services(settings), create_services(settings)
    other = create_services(replace(settings, data_dir=tmp_path / "two"))
    configured = create_services(replace(settings, admin_token="configured-token"))
    try:
        assert (tmp_path / "one" / "signing-key.pem").exists()
        assert first.key.kid == again.key.kid != other.key.kid
        assert first.admin_token == again.admin_token != other.admin_token
        assert configured.admin_token == "configured-token"
    finally:
        for services in (first, again, other, configured):
            services.close()
