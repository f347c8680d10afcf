"""Two ``graphlang serve`` instances on one PostgreSQL database behave as one service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.services import create_services
from tests.e2e.process import GraphlangServer, running_graphlang
from tests.factories import Tokens
from tests.ops.support import LANGUAGES, call, shared_server_database

RACERS = 10


def race(servers: list[GraphlangServer], request: Callable[[GraphlangServer, int], httpx.Response]
         ) -> list[httpx.Response]:
    """``RACERS`` requests released at once, alternating between the instances."""
    barrier = threading.Barrier(RACERS)

    def one(index: int) -> httpx.Response:
        barrier.wait()
        return request(servers[index % len(servers)], index)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


@pytest.mark.standalone
def test_two_instances_share_the_data_the_signing_key_and_the_concurrency_rules(tmp_path: Path) -> None:
    with shared_server_database() as url:
        env = {"GRAPHLANG_DATABASE_URL": url}
        with running_graphlang(tmp_path / "a", extra_env=env) as a, \
                running_graphlang(tmp_path / "b", extra_env=env) as b:
            # Neither has a key file of its own: the token from a's data directory is good on b too.
            token = a.token()

            created = call(a, "POST", LANGUAGES, token=token, json={"tag": "sv-SE", "reading": "elementary"})
            assert created.status_code == 201
            item = f"{LANGUAGES}/{created.json()['id']}"
            through_b = call(b, "GET", item, token=token)
            assert through_b.status_code == 200
            assert through_b.json() == created.json() | {"@odata.context": through_b.json()["@odata.context"]}

            etag = created.headers["ETag"]
            patches = race([a, b], lambda server, n: call(server, "PATCH", item, token=token,
                                                          headers={"If-Match": etag},
                                                          json={"displayName": f"writer {n}"}))
            statuses = sorted(response.status_code for response in patches)
            assert statuses == [200] + [412] * (RACERS - 1)
            [winner] = [response for response in patches if response.status_code == 200]
            assert call(b, "GET", item, token=token).json()["displayName"] == winner.json()["displayName"]

            upserts = race([a, b], lambda server, n: call(server, "PATCH", LANGUAGES, token=token,
                                                          json={"tag": "nl-NL", "written": "fullProfessional"}))
            assert {response.status_code for response in upserts} == {200}
            listed = call(a, "GET", LANGUAGES, token=token).json()["value"]
            assert [language["tag"] for language in listed].count("nl-NL") == 1
            assert len({response.json()["id"] for response in upserts}) == 1

            delta = {"@context": "#$delta", "value": [{"tag": "ja-JP"}, {"tag": "ko-KR"}, {"tag": "nl-NL"}]}
            syncs = race([a, b], lambda server, n: call(server, "PATCH", LANGUAGES, token=token, json=delta))
            assert {response.status_code for response in syncs} == {200}
            tags = sorted(language["tag"] for language in call(b, "GET", LANGUAGES, token=token).json()["value"])
            assert tags == ["ja-JP", "ko-KR", "nl-NL", "sv-SE"]


def test_a_reset_through_one_instance_does_not_break_writes_through_another(shared_settings: Settings) -> None:
    first, second = create_services(shared_settings, auto_migrate=True), create_services(shared_settings)
    headers = Tokens(first).headers()
    admin = {"Authorization": f"Bearer {shared_settings.admin_token}"}
    with TestClient(create_app(first.settings, first)) as one, TestClient(create_app(second.settings, second)) as two:
        assert two.post(LANGUAGES, headers=headers, json={"tag": "en-GB"}).status_code == 201
        assert one.post("/_graphlang/reset", headers=admin).status_code == 200

        assert two.get(LANGUAGES, headers=headers).json()["value"] == []
        again = two.post(LANGUAGES, headers=headers, json={"tag": "en-GB"})
        assert again.status_code == 201, again.text
