"""A read after a write shows that write, whatever made it.

A server keeps what it rendered of an item under the item's id and write id, and every write of a row
gives it a new write id. Each test here reads an item through every read path first (so its rendering
is kept), writes it another way, and reads it again through every path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from graphlang.services import Services
from tests.api.controls_support import ADMIN
from tests.api.support import ME, create
from tests.factories import Tokens

ADELE = "adele@contoso.com"
ITEM = "0f8fad5b-d9cb-469f-a165-70867728950e"


def seed(client: TestClient, **language: Any) -> None:
    fixture = {"users": [{"userPrincipalName": ADELE, "languages": [{"id": ITEM, **language}]}]}
    response = client.post("/_graphlang/seed", headers=ADMIN, json=fixture)
    assert response.status_code == 200, response.text


def read_everywhere(client: TestClient, tokens: Tokens, item_id: str = ITEM) -> list[dict[str, Any]]:
    """The item as its owner reads it and as another user reads it, alone and in the collection;
    each read twice, so that the second comes from what the first rendered."""
    owner = tokens.headers(upn=ADELE)
    reader = tokens.headers(upn="admin@contoso.com", scopes="User.Read.All")
    others = f"/beta/users/{ADELE}/profile/languages"
    found = []
    for _ in range(2):
        for path, headers in ((f"{ME}/{item_id}", owner), (f"{others}/{item_id}", reader)):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            assert response.headers["ETag"] == response.json()["@odata.etag"]
            found.append({k: v for k, v in response.json().items() if k != "@odata.context"})
        for path, headers in ((ME, owner), (others, reader)):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            found.extend(item for item in response.json()["value"] if item["id"] == item_id)
    assert len(found) == 8
    return found


def assert_everywhere(client: TestClient, tokens: Tokens, **expected: Any) -> None:
    for item in read_everywhere(client, tokens):
        assert {name: item[name] for name in expected} == expected, item


def test_a_reset_and_a_reseed_of_the_same_id_with_other_values_are_read_with_them(
        client: TestClient, tokens: Tokens) -> None:
    seed(client, tag="en-US", spoken="elementary")
    assert_everywhere(client, tokens, tag="en-US", spoken="elementary")
    assert client.post("/_graphlang/reset?reseed=false", headers=ADMIN).status_code == 200
    seed(client, tag="de-DE", spoken="nativeOrBilingual")  # version 1 again, as before
    assert_everywhere(client, tokens, tag="de-DE", spoken="nativeOrBilingual")


def test_a_seed_that_updates_an_item_is_read_with_its_values(client: TestClient, tokens: Tokens) -> None:
    seed(client, tag="en-US", spoken="elementary")
    assert_everywhere(client, tokens, spoken="elementary")
    seed(client, tag="en-US", spoken="fullProfessional")
    assert_everywhere(client, tokens, spoken="fullProfessional")


def test_a_restored_snapshot_with_other_values_under_the_same_version_is_read_with_them(
        client: TestClient, tokens: Tokens) -> None:
    seed(client, tag="en-US", displayName="English")
    assert_everywhere(client, tokens, displayName="English")
    document = client.get("/_graphlang/snapshot", headers=ADMIN).json()
    table = document["tables"]["languages"]
    assert "write_id" not in table["columns"]  # each restored row gets a new one
    table["rows"][0][table["columns"].index("display_name")] = "Englisch"
    restored = client.put("/_graphlang/snapshot", headers={**ADMIN, "Content-Type": "application/json"},
                          content=orjson.dumps(document))
    assert restored.status_code == 200, restored.text
    assert_everywhere(client, tokens, displayName="Englisch")


def test_an_item_changed_in_the_database_by_hand_is_read_with_its_values(
        client: TestClient, tokens: Tokens, services: Services) -> None:
    # The update leaves the write id as it was: the database gives the row a new one (migration 0005).
    seed(client, tag="en-US", displayName="English")
    assert_everywhere(client, tokens, displayName="English")
    with services.engine.begin() as conn:
        conn.execute(text("UPDATE languages SET display_name = 'Englisch' WHERE id = :id"), {"id": ITEM})
    assert_everywhere(client, tokens, displayName="Englisch")


def test_a_snapshot_that_names_a_write_id_is_400_and_changes_nothing(client: TestClient, tokens: Tokens) -> None:
    seed(client, tag="en-US")
    document = client.get("/_graphlang/snapshot", headers=ADMIN).json()
    table = document["tables"]["languages"]
    table["columns"].append("write_id")
    table["rows"][0].append(1)
    response = client.put("/_graphlang/snapshot", headers=ADMIN, json=document)
    assert response.status_code == 400, response.text
    assert "'write_id'" in response.json()["error"]["message"]
    assert_everywhere(client, tokens, tag="en-US")


Write = Callable[[TestClient, dict[str, str]], None]
WRITES: dict[str, Write] = {
    "PATCH of the item": lambda client, headers: client.patch(f"{ME}/{ITEM}", headers=headers,
                                                              json={"spoken": "limitedWorking"}),
    "upsert on the collection": lambda client, headers: client.patch(ME, headers=headers,
                                                                     json={"tag": "en-US", "spoken": "limitedWorking"}),
    "delta payload": lambda client, headers: client.patch(ME, headers=headers, json={
        "@context": "#$delta", "value": [{"id": ITEM, "spoken": "limitedWorking"}]}),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_an_item_changed_through_the_api_is_read_with_its_values(
        client: TestClient, tokens: Tokens, write: Write) -> None:
    seed(client, tag="en-US", spoken="elementary")
    assert_everywhere(client, tokens, spoken="elementary")
    write(client, tokens.headers(upn=ADELE))
    assert_everywhere(client, tokens, spoken="limitedWorking", **{"@odata.etag": f'W/"{ITEM}-2"'})


def test_a_created_item_is_read_as_its_create_answered(client: TestClient, tokens: Tokens) -> None:
    seed(client, tag="en-US")
    created = create(client, tokens.headers(upn=ADELE), {"tag": "fr-FR", "written": "elementary"})
    for item in read_everywhere(client, tokens, created["id"]):
        assert item == {k: v for k, v in created.items() if k != "@odata.context"}
