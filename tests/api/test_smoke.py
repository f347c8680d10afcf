"""The shortest path through the service: create, read back, delete."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.factories import Tokens


def test_create_then_get_then_delete_round_trips(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = client.post("/beta/me/profile/languages", headers=headers,
                          json={"tag": "nb-NO", "spoken": "nativeOrBilingual"})
    assert created.status_code == 201, created.text
    language_id = created.json()["id"]
    fetched = client.get(f"/beta/me/profile/languages/{language_id}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json()["displayName"] == "Norwegian Bokmål"
    assert client.delete(f"/beta/me/profile/languages/{language_id}", headers=headers).status_code == 204
    assert client.get(f"/beta/me/profile/languages/{language_id}", headers=headers).status_code == 404
