"""Optimistic concurrency: ETags on items, If-Match on PATCH, DELETE and the upsert route."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from graphlang.auth.keys import load_or_create
from graphlang.auth.tokens import mint
from graphlang.config import Settings
from graphlang.storage.store import derived_user_id
from tests.api.support import ME, assert_graph_error, create, entity, listed
from tests.e2e.process import GraphlangServer, postgres_database, running_graphlang
from tests.factories import Tokens

POSTGRES_ADMIN_URL = os.environ.get("GRAPHLANG_TEST_POSTGRES_URL")


def item_url(item: dict[str, Any]) -> str:
    return f"{ME}/{item['id']}"


def current(client: TestClient, headers: dict[str, str], item: dict[str, Any]) -> httpx.Response:
    response = client.get(item_url(item), headers=headers)
    assert response.status_code == 200, response.text
    return response


def assert_mismatch(response: httpx.Response) -> None:
    error = assert_graph_error(response, 412, "resourceModified", "If-Match")
    assert error["innerError"]["code"] == "entityTagDoesNotMatch"


# -- ETags --------------------------------------------------------------------------------------


def test_an_item_carries_the_same_etag_in_header_and_body_and_every_write_changes_it(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = client.post(ME, headers=headers, json={"tag": "en-US"})
    assert created.headers["etag"] == created.json()["@odata.etag"] == f'W/"{created.json()["id"]}-1"'
    item = created.json()
    fetched = current(client, headers, item)
    assert fetched.headers["etag"] == fetched.json()["@odata.etag"] == created.headers["etag"]
    patched = client.patch(item_url(item), headers=headers, json={"spoken": "elementary"})
    assert patched.headers["etag"] == patched.json()["@odata.etag"] == f'W/"{item["id"]}-2"'
    assert listed(client, headers)[0]["@odata.etag"] == patched.headers["etag"]


# -- If-Match on PATCH --------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["{etag}", "{bare}", '"other", {etag}', '{etag}, W/"other-9"'],
                         ids=["weak", "without-W/", "in-a-list", "first-of-a-list"])
def test_patch_with_a_matching_if_match_succeeds(client: TestClient, tokens: Tokens, spelling: str) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    etag = item["@odata.etag"]
    value = spelling.format(etag=etag, bare=etag.removeprefix("W/"))
    response = client.patch(item_url(item), headers={**headers, "If-Match": value}, json={"tag": "en-GB"})
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == "en-GB"


def test_patch_with_a_stale_if_match_is_412_and_leaves_the_item_unchanged(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers, {"tag": "en-US", "spoken": "elementary"})
    stale = item["@odata.etag"]
    assert client.patch(item_url(item), headers=headers, json={"spoken": "conversational"}).status_code == 200
    before = current(client, headers, item)
    response = client.patch(item_url(item), headers={**headers, "If-Match": stale},
                            json={"spoken": "nativeOrBilingual"})
    assert_mismatch(response)
    after = current(client, headers, item)
    assert after.json() == before.json()
    assert after.json()["spoken"] == "conversational"


def test_an_etag_of_another_item_does_not_match(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    first, second = create(client, headers, {"tag": "en-US"}), create(client, headers, {"tag": "fr-FR"})
    response = client.patch(item_url(first), headers={**headers, "If-Match": second["@odata.etag"]},
                            json={"tag": "de-DE"})
    assert_mismatch(response)
    assert current(client, headers, first).json()["tag"] == "en-US"


def test_if_match_star_updates_an_existing_item(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    response = client.patch(item_url(item), headers={**headers, "If-Match": "*"}, json={"tag": "en-GB"})
    assert response.status_code == 200


def test_if_match_star_on_a_missing_item_is_404(client: TestClient, tokens: Tokens) -> None:
    response = client.patch(f"{ME}/0b8f8a8e-0000-4000-8000-000000000000",
                            headers={**tokens.headers(), "If-Match": "*"}, json={"tag": "en-GB"})
    assert_graph_error(response, 404, "itemNotFound")


@pytest.mark.parametrize("value", ['W/abc', 'abc', '"unterminated', '"a" "b"', "", '*, "a"', 'W/"a",,'])
def test_a_malformed_if_match_is_400_and_leaves_the_item_unchanged(
        client: TestClient, tokens: Tokens, value: str) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    response = client.patch(item_url(item), headers={**headers, "If-Match": value}, json={"tag": "en-GB"})
    error = assert_graph_error(response, 400, "BadRequest", "If-Match", "quoted")
    assert error["innerError"]["code"] == "malformedEntityTag"
    assert entity(current(client, headers, item).json()) == entity(item)


# -- If-Match on DELETE -------------------------------------------------------------------------


def test_delete_with_a_stale_if_match_is_412_and_keeps_the_item(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    client.patch(item_url(item), headers=headers, json={"tag": "en-GB"})
    response = client.delete(item_url(item), headers={**headers, "If-Match": item["@odata.etag"]})
    assert_mismatch(response)
    assert current(client, headers, item).json()["tag"] == "en-GB"


def test_delete_with_the_current_etag_or_star_deletes(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    first, second = create(client, headers), create(client, headers)
    assert client.delete(item_url(first), headers={**headers, "If-Match": first["@odata.etag"]}).status_code == 204
    assert client.delete(item_url(second), headers={**headers, "If-Match": "*"}).status_code == 204
    assert listed(client, headers) == []


def test_delete_with_star_on_a_missing_item_is_404(client: TestClient, tokens: Tokens) -> None:
    response = client.delete(f"{ME}/0b8f8a8e-0000-4000-8000-000000000000",
                             headers={**tokens.headers(), "If-Match": "*"})
    assert_graph_error(response, 404, "itemNotFound")


# -- If-Match on the single-object upsert -------------------------------------------------------


def test_upsert_with_the_current_etag_updates_the_matched_item(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers, {"tag": "en-US"})
    response = client.patch(ME, headers={**headers, "If-Match": item["@odata.etag"]},
                            json={"tag": "en-US", "spoken": "fullProfessional"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == item["id"]


def test_upsert_with_a_stale_etag_is_412_and_changes_nothing(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers, {"tag": "en-US"})
    client.patch(item_url(item), headers=headers, json={"written": "elementary"})
    before = listed(client, headers)
    response = client.patch(ME, headers={**headers, "If-Match": item["@odata.etag"]},
                            json={"id": item["id"], "spoken": "fullProfessional"})
    assert_mismatch(response)
    assert listed(client, headers) == before


def test_upsert_with_if_match_never_creates(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    response = client.patch(ME, headers={**headers, "If-Match": "*"}, json={"tag": "ja-JP"})
    assert_graph_error(response, 412, "resourceModified", "existing")
    assert listed(client, headers) == []


# -- racing writers, against a real server process ----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphlangServer, str]]:
    """``graphlang serve --port 0`` on a file SQLite database, or on PostgreSQL in the PostgreSQL run,
    with a user's token signed by the key it was given."""
    root: Path = tmp_path_factory.mktemp("concurrency")
    key_file = root / "signing-key.pem"
    settings = Settings()
    token = mint(load_or_create(key_file), issuer=settings.emulator_issuer(settings.tenant),
                 audience=settings.audiences[0], tenant=settings.tenant,
                 user_id=derived_user_id(settings.tenant, "racer@contoso.com"), upn="racer@contoso.com",
                 scopes=["User.ReadWrite"])
    with ExitStack() as stack:
        env = {"GRAPHLANG_SIGNING_KEY_FILE": str(key_file)}
        if POSTGRES_ADMIN_URL:
            env["GRAPHLANG_DATABASE_URL"] = stack.enter_context(postgres_database(POSTGRES_ADMIN_URL))
        yield stack.enter_context(running_graphlang(root, extra_env=env)), token


def race(clients: list[httpx.Client], send: Any) -> list[httpx.Response]:
    """Every client calls ``send(client)`` at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(clients))
    responses: list[httpx.Response | None] = [None] * len(clients)

    def worker(index: int) -> None:
        barrier.wait()
        responses[index] = send(clients[index])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


@pytest.mark.e2e
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_concurrent_writes_with_the_same_if_match_never_both_succeed(
        server: tuple[GraphlangServer, str], method: str) -> None:
    writers, rounds = 8, 5
    process, token = server
    headers = {"Authorization": f"Bearer {token}"}
    collection = f"{process.base_url}{ME}"
    clients = [httpx.Client(headers=headers, timeout=30) for _ in range(writers)]
    try:
        for round_number in range(rounds):
            item = clients[0].post(collection, json={"tag": "en-US"}).json()
            url, etag = f"{collection}/{item['id']}", item["@odata.etag"]

            def send(client: httpx.Client, url: str = url, etag: str = etag) -> httpx.Response:
                if method == "DELETE":
                    return client.delete(url, headers={"If-Match": etag})
                return client.patch(url, headers={"If-Match": etag}, json={"displayName": str(id(client))})

            statuses = sorted(r.status_code for r in race(clients, send))
            final = clients[0].get(url)
            if method == "PATCH":
                assert statuses == [200] + [412] * (writers - 1), (round_number, statuses)
                assert final.json()["@odata.etag"] == f'W/"{item["id"]}-2"'
            else:
                # After the one delete, the item is gone: the others find nothing to delete.
                assert statuses == [204] + [404] * (writers - 1), (round_number, statuses)
                assert final.status_code == 404
    finally:
        for client in clients:
            client.close()
