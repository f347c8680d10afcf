"""Prefer: return=minimal answers writes with 204; return=representation (the default) with the entity."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.support import ME, assert_graph_error, create, listed
from tests.factories import Tokens

MINIMAL = {"Prefer": "return=minimal"}


def test_post_with_return_minimal_is_204_with_location_etag_and_no_body(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    response = client.post(ME, headers={**headers, **MINIMAL}, json={"tag": "nb-NO"})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["preference-applied"] == "return=minimal"
    assert "content-type" not in response.headers
    fetched = client.get(response.headers["location"], headers=headers)
    assert fetched.status_code == 200
    assert fetched.json()["tag"] == "nb-NO"
    assert response.headers["etag"] == fetched.headers["etag"]


def test_patch_with_return_minimal_is_204_with_the_new_etag(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    response = client.patch(f"{ME}/{item['id']}", headers={**headers, **MINIMAL}, json={"spoken": "elementary"})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["preference-applied"] == "return=minimal"
    assert response.headers["etag"] == f'W/"{item["id"]}-2"'
    assert "location" not in response.headers
    assert listed(client, headers)[0]["spoken"] == "elementary"


@pytest.mark.parametrize("body", [{"tag": "en-US"}, {"@context": "#$delta", "value": [{"tag": "en-US"}]}],
                         ids=["single-object", "delta"])
def test_the_collection_patch_honours_return_minimal(client: TestClient, tokens: Tokens, body: object) -> None:
    headers = tokens.headers()
    response = client.patch(ME, headers={**headers, **MINIMAL}, json=body)
    assert response.status_code == 204
    assert response.headers["preference-applied"] == "return=minimal"
    assert [item["tag"] for item in listed(client, headers)] == ["en-US"]


def test_return_representation_is_echoed_when_asked_for(client: TestClient, tokens: Tokens) -> None:
    response = client.post(ME, headers={**tokens.headers(), "Prefer": "return=representation"},
                           json={"tag": "fi-FI"})
    assert response.status_code == 201
    assert response.json()["tag"] == "fi-FI"
    assert response.headers["preference-applied"] == "return=representation"


def test_without_prefer_writes_return_the_representation_and_apply_no_preference(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = client.post(ME, headers=headers, json={"tag": "fi-FI"})
    patched = client.patch(f"{ME}/{created.json()['id']}", headers=headers, json={"tag": "sv-FI"})
    for response, status in ((created, 201), (patched, 200)):
        assert response.status_code == status
        assert response.json()["tag"]
        assert "preference-applied" not in response.headers


@pytest.mark.parametrize("prefer", [
    "odata.maxpagesize=5, return=minimal",
    "return=\"minimal\"; foo=bar",
    "RETURN=Minimal",
])
def test_return_minimal_is_found_among_other_preferences_and_spellings(
        client: TestClient, tokens: Tokens, prefer: str) -> None:
    response = client.post(ME, headers={**tokens.headers(), "Prefer": prefer}, json={"tag": "et-EE"})
    assert response.status_code == 204


def test_the_first_return_preference_wins(client: TestClient, tokens: Tokens) -> None:
    response = client.post(ME, headers={**tokens.headers(), "Prefer": "return=representation, return=minimal"},
                           json={"tag": "lv-LV"})
    assert response.status_code == 201


def test_an_unknown_return_value_is_ignored(client: TestClient, tokens: Tokens) -> None:
    response = client.post(ME, headers={**tokens.headers(), "Prefer": "return=nothing"}, json={"tag": "lt-LT"})
    assert response.status_code == 201
    assert "preference-applied" not in response.headers


def test_a_failed_write_is_the_usual_error_whatever_the_preference(client: TestClient, tokens: Tokens) -> None:
    response = client.post(ME, headers={**tokens.headers(), **MINIMAL}, json={"spoken": "fluent"})
    assert_graph_error(response, 400, "BadRequest", "'spoken'")
    assert "preference-applied" not in response.headers


def test_reads_and_deletes_ignore_return_minimal(client: TestClient, tokens: Tokens) -> None:
    headers = {**tokens.headers(), **MINIMAL}
    item = create(client, tokens.headers())
    fetched = client.get(f"{ME}/{item['id']}", headers=headers)
    assert fetched.status_code == 200
    assert "preference-applied" not in fetched.headers
    deleted = client.delete(f"{ME}/{item['id']}", headers=headers)
    assert deleted.status_code == 204
    assert "preference-applied" not in deleted.headers
