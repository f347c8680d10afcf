"""The database goes away and comes back: 503 with Retry-After meanwhile, then service by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.errors import ServiceUnavailable
from graphlang.services import Services, create_services
from tests.e2e.process import clean_env, running_graphlang
from tests.factories import Tokens
from tests.ops.support import (
    LANGUAGES,
    POSTGRES_SERVER_URL,
    call,
    free_port,
    mint_token,
    postgres_cluster,
    run_graphlang,
    shared_server_database,
    wait_for,
)


@pytest.mark.standalone
def test_an_unreachable_database_is_503_and_not_ready_until_it_returns(tmp_path: Path) -> None:
    with postgres_cluster() as cluster, \
            running_graphlang(tmp_path, extra_env={"GRAPHLANG_DATABASE_URL": cluster.url}) as server:
        token = mint_token(server)
        created = call(server, "POST", LANGUAGES, token=token, json={"tag": "it-IT"})
        assert created.status_code == 201
        item = f"{LANGUAGES}/{created.json()['id']}"
        assert call(server, "GET", "/_graphlang/ready").status_code == 200

        cluster.stop()
        for method, path, body in (("GET", item, None), ("POST", LANGUAGES, {"tag": "es-ES"}),
                                   ("PATCH", item, {"displayName": "during the outage"})):
            refused = call(server, method, path, token=token, json=body)
            assert refused.status_code == 503, f"{refused.text}\n{server.logs()[-4000:]}"
            assert refused.headers["Retry-After"] == "5"
            error = refused.json()["error"]
            assert error["code"] == "serviceNotAvailable"
            assert "Traceback" not in refused.text
        not_ready = call(server, "GET", "/_graphlang/ready")
        assert not_ready.status_code == 503
        assert not_ready.json()["error"]["code"] == "serviceNotAvailable"
        assert call(server, "GET", "/_graphlang/health").status_code == 200

        cluster.start()
        wait_for(lambda: call(server, "GET", item, token=token).status_code == 200, "recovery")
        assert call(server, "GET", "/_graphlang/ready").status_code == 200
        assert call(server, "GET", item, token=token).json()["displayName"] == created.json()["displayName"]
        listed = call(server, "GET", LANGUAGES, token=token).json()["value"]
        assert [language["tag"] for language in listed] == ["it-IT"]  # nothing written during the outage
        assert "Traceback" not in server.logs()


@pytest.mark.standalone
def test_a_request_that_waits_longer_than_the_pool_timeout_is_503(tmp_path: Path) -> None:
    with shared_server_database() as url:
        settings = Settings.from_env({"GRAPHLANG_DATA_DIR": str(tmp_path), "GRAPHLANG_DATABASE_URL": url,
                                      "GRAPHLANG_POOL_SIZE": "1", "GRAPHLANG_POOL_MAX_OVERFLOW": "0",
                                      "GRAPHLANG_POOL_TIMEOUT_SECONDS": "1"})
        services = create_services(settings, auto_migrate=True)
        headers = Tokens(services).headers()
        with TestClient(create_app(settings, services)) as client:
            assert client.get(LANGUAGES, headers=headers).status_code == 200
            with services.engine.connect():  # the pool's only connection, held
                waited = client.get(LANGUAGES, headers=headers)
            assert waited.status_code == 503
            assert waited.headers["Retry-After"] == "5"
            assert waited.json()["error"]["code"] == "serviceNotAvailable"
            assert client.get(LANGUAGES, headers=headers).status_code == 200


def test_serve_does_not_start_without_its_database(tmp_path: Path) -> None:
    url = f"postgresql://graphlang:secret-password@127.0.0.1:{free_port()}/graphlang"
    env = clean_env(tmp_path, "admin", {"GRAPHLANG_DATABASE_URL": url})
    refused = run_graphlang(env, "serve", "--port", "0")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: cannot reach the database: ")
    assert "secret-password" not in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.standalone
def test_a_connection_the_database_dropped_is_replaced_unnoticed(tmp_path: Path) -> None:
    with shared_server_database() as url:
        settings = Settings(data_dir=tmp_path, database_url=url, pool_size=1, pool_max_overflow=0)
        services = create_services(settings, auto_migrate=True)
        headers = Tokens(services).headers()
        with TestClient(create_app(settings, services)) as client:
            assert client.get(LANGUAGES, headers=headers).status_code == 200
            with psycopg.connect(POSTGRES_SERVER_URL, autocommit=True) as admin:
                [[dropped]] = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (url.rsplit("/", 1)[1],)).fetchall()
            assert dropped == 1  # the pool's only connection
            assert client.get(LANGUAGES, headers=headers).status_code == 200


def test_a_driver_error_that_escapes_the_pool_is_503_too(services: Services) -> None:
    driver_error = services.engine.dialect.loaded_dbapi.OperationalError

    def connection_lost() -> None:
        raise driver_error("server closed the connection unexpectedly")

    with pytest.raises(ServiceUnavailable) as raised:
        asyncio.run(services.run(connection_lost))
    assert raised.value.headers["Retry-After"] == "5"
