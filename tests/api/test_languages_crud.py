"""The five operations on /me and /users/{id|upn}: status codes, shapes and server-managed fields."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from tests.api.support import (
    EVERY_PROPERTY,
    GRAPH_TIMESTAMP,
    GUID,
    ME,
    assert_graph_error,
    create,
    entity,
    listed,
)
from tests.factories import Tokens

ADMIN_SCOPES = "User.ReadWrite.All"


def test_list_of_a_new_user_is_an_empty_collection_with_context(client: TestClient, tokens: Tokens) -> None:
    response = client.get(ME, headers=tokens.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["value"] == []
    user_id = tokens.user_id("alice@contoso.com")
    assert body["@odata.context"] == f"http://testserver/beta/$metadata#users('{user_id}')/profile/languages"


def test_create_is_201_with_location_and_every_property(client: TestClient, tokens: Tokens) -> None:
    response = client.post(ME, headers=tokens.headers(),
                           json={"tag": "nb-NO", "spoken": "nativeOrBilingual"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert GUID.match(body["id"])
    assert response.headers["location"] == f"http://testserver/beta/me/profile/languages/{body['id']}"
    assert set(entity(body)) == EVERY_PROPERTY
    assert body["@odata.context"].endswith("/profile/languages/$entity")
    assert body["displayName"] == "Norwegian Bokmål"
    assert body["allowedAudiences"] == "organization"
    assert body["written"] is None and body["inference"] is None and body["source"] is None


def test_location_of_a_users_create_names_the_path_used(client: TestClient, tokens: Tokens) -> None:
    tokens_headers = tokens.headers(upn="admin@contoso.com", scopes=ADMIN_SCOPES)
    client.get(ME, headers=tokens.headers(upn="bob@contoso.com"))  # bob exists from his first call
    response = client.post("/beta/users/bob%40contoso.com/profile/languages", headers=tokens_headers,
                           json={"tag": "de"})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == (
        f"http://testserver/beta/users/bob@contoso.com/profile/languages/{response.json()['id']}"
    )


def test_location_keeps_a_slash_in_the_user_segment_encoded(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers(upn="dev/ops@contoso.com")
    response = client.post("/beta/users/dev%2Fops%40contoso.com/profile/languages", headers=headers,
                           json={"tag": "de"})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith("http://testserver/beta/users/dev%2Fops")
    assert client.get(location, headers=headers).json()["id"] == response.json()["id"]


def test_get_returns_the_created_object(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = create(client, headers, {"tag": "fr-FR", "written": "limitedWorking"})
    response = client.get(f"{ME}/{created['id']}", headers=headers)
    assert response.status_code == 200
    assert entity(response.json()) == entity(created)
    assert response.json()["@odata.context"].endswith("/$entity")


def test_get_matches_the_language_id_case_insensitively(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = create(client, headers)
    assert client.get(f"{ME}/{created['id'].upper()}", headers=headers).json()["id"] == created["id"]


def test_list_returns_created_languages_oldest_first(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    ids = [create(client, headers, {"tag": tag})["id"] for tag in ("en-US", "de-DE", "ja-JP")]
    assert [item["id"] for item in listed(client, headers)] == ids
    assert all(set(entity(item)) == EVERY_PROPERTY for item in listed(client, headers))


def test_patch_is_200_with_the_full_merged_object(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = create(client, headers, {"tag": "es-ES", "spoken": "elementary", "written": "elementary",
                                       "displayName": "Spanish", "isSearchable": True})
    response = client.patch(f"{ME}/{created['id']}", headers=headers, json={"written": "conversational"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(entity(body)) == EVERY_PROPERTY
    assert body["written"] == "conversational"
    assert (body["spoken"], body["displayName"], body["tag"], body["isSearchable"]) == (
        "elementary", "Spanish", "es-ES", True)
    assert entity(client.get(f"{ME}/{created['id']}", headers=headers).json()) == entity(body)


def test_patch_with_explicit_null_clears_nullable_properties(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = create(client, headers, {
        "tag": "it-IT", "spoken": "elementary", "displayName": "Italiano", "thumbnailUrl": "https://x.test/a",
        "inference": {"confidenceScore": 0.5, "userHasVerifiedAccuracy": True}, "isSearchable": False,
        "source": {"type": ["User"]}, "sources": [{"sourceId": "s1"}], "proficiency": "elementary",
    })
    cleared = ("spoken", "displayName", "thumbnailUrl", "inference", "isSearchable", "source", "sources",
               "proficiency", "allowedAudiences", "tag")
    response = client.patch(f"{ME}/{created['id']}", headers=headers, json=dict.fromkeys(cleared))
    assert response.status_code == 200, response.text
    body = client.get(f"{ME}/{created['id']}", headers=headers).json()
    assert {name: body[name] for name in cleared} == dict.fromkeys(cleared)


def test_patch_changes_last_modified_but_not_created(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = create(client, headers)
    time.sleep(0.002)  # timestamps have 100 ns resolution; make sure the clock has moved
    patched = client.patch(f"{ME}/{created['id']}", headers=headers, json={"spoken": "elementary"}).json()
    assert patched["createdDateTime"] == created["createdDateTime"]
    assert patched["lastModifiedDateTime"] > created["lastModifiedDateTime"]
    assert GRAPH_TIMESTAMP.match(patched["lastModifiedDateTime"])


def test_delete_is_204_without_body_and_the_item_is_gone(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = create(client, headers)
    response = client.delete(f"{ME}/{created['id']}", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert_graph_error(client.get(f"{ME}/{created['id']}", headers=headers), 404, "itemNotFound", created["id"])
    assert listed(client, headers) == []


def test_timestamps_are_utc_with_seven_fractional_digits(client: TestClient, tokens: Tokens) -> None:
    created = create(client, tokens.headers())
    assert GRAPH_TIMESTAMP.match(created["createdDateTime"])
    assert created["createdDateTime"] == created["lastModifiedDateTime"]


def test_created_by_is_an_identity_set_naming_the_caller(client: TestClient, tokens: Tokens) -> None:
    created = create(client, tokens.headers(upn="carol@contoso.com", name="Carol Danvers"))
    expected = {"application": None, "device": None,
                "user": {"displayName": "Carol Danvers", "id": tokens.user_id("carol@contoso.com")}}
    assert created["createdBy"] == expected
    assert created["lastModifiedBy"] == expected


def test_created_by_names_the_application_when_the_token_has_one(client: TestClient, tokens: Tokens) -> None:
    app_id = "9e3c9a6b-0c8e-4c0f-8d5e-2a7a1e0b7c11"
    token = tokens.delegated(upn="dana@contoso.com", name="Dana", app_id=app_id, app_name="Contoso Portal")
    created = create(client, tokens.headers(token))
    assert created["createdBy"]["application"] == {"displayName": "Contoso Portal", "id": app_id}
    assert created["createdBy"]["user"]["id"] == tokens.user_id("dana@contoso.com")


def test_last_modified_by_names_whoever_patched(client: TestClient, tokens: Tokens) -> None:
    owner = tokens.headers(upn="erin@contoso.com", name="Erin")
    created = create(client, owner)
    admin = tokens.headers(upn="admin@contoso.com", scopes=ADMIN_SCOPES, name="Admin")
    path = f"/beta/users/erin@contoso.com/profile/languages/{created['id']}"
    patched = client.patch(path, headers=admin, json={"reading": "elementary"}).json()
    assert patched["createdBy"]["user"]["displayName"] == "Erin"
    assert patched["lastModifiedBy"]["user"] == {"displayName": "Admin",
                                                 "id": tokens.user_id("admin@contoso.com")}


@pytest.mark.parametrize("method", ["post", "patch"])
def test_server_managed_properties_sent_by_a_client_are_ignored(client: TestClient, tokens: Tokens,
                                                                method: str) -> None:
    headers = tokens.headers(upn="frank@contoso.com", name="Frank")
    target = create(client, headers)
    forged = {
        "@odata.type": "#microsoft.graph.languageProficiency",
        "@odata.etag": 'W/"nope"',
        "id": "00000000-0000-0000-0000-000000000001",
        "createdDateTime": "2001-01-01T00:00:00Z",
        "lastModifiedDateTime": "2001-01-01T00:00:00Z",
        "createdBy": {"user": {"id": "someone-else", "displayName": "Mallory"}},
        "lastModifiedBy": {"user": {"id": "someone-else", "displayName": "Mallory"}},
        "tag": "pt-BR",
    }
    if method == "post":
        response = client.post(ME, headers=headers, json=forged)
        assert response.status_code == 201, response.text
    else:
        response = client.patch(f"{ME}/{target['id']}", headers=headers, json=forged)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == target["id"]
        assert response.json()["createdDateTime"] == target["createdDateTime"]
    body = response.json()
    assert body["tag"] == "pt-BR"
    assert body["id"] != forged["id"]
    assert not body["createdDateTime"].startswith("2001")
    assert not body["lastModifiedDateTime"].startswith("2001")
    assert body["createdBy"]["user"]["displayName"] == "Frank"
    assert body["lastModifiedBy"]["user"]["displayName"] == "Frank"
    assert client.get(f"{ME}/{forged['id']}", headers=headers).status_code == 404


def test_every_settable_property_round_trips(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    sent = {
        "allowedAudiences": "contacts", "inference": {"confidenceScore": 1024, "userHasVerifiedAccuracy": True},
        "source": {"type": ["User", "Entra"]}, "isSearchable": True, "displayName": "Bokmål",
        "tag": "nb-NO", "spoken": "nativeOrBilingual", "written": "fullProfessional", "reading": "limitedWorking",
        "proficiency": "professionalWorking", "thumbnailUrl": "https://example.test/nb.png",
        "sources": [{"sourceId": "46a57efc-33f8-4eec-a512-b90039ad6187", "isDefaultSource": True,
                     "properties": ["tag", "spoken"]}],
    }
    created = create(client, headers, sent)
    assert {name: created[name] for name in sent} == sent
    fetched = client.get(f"{ME}/{created['id']}", headers=headers).json()
    assert {name: fetched[name] for name in sent} == sent


def test_source_given_as_the_docs_single_string_is_stored_as_a_list(client: TestClient, tokens: Tokens) -> None:
    created = create(client, tokens.headers(), {"tag": "en", "source": {"type": "User"}})
    assert created["source"] == {"type": ["User"]}


def test_inference_with_one_member_returns_both(client: TestClient, tokens: Tokens) -> None:
    created = create(client, tokens.headers(), {"tag": "en", "inference": {"userHasVerifiedAccuracy": False}})
    assert created["inference"] == {"confidenceScore": None, "userHasVerifiedAccuracy": False}


def test_confidence_score_keeps_fractions_and_large_values(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    # An Edm.Double: integers beyond 2**53 come back as the nearest double.
    for sent, stored in ((0.125, 0.125), (1024, 1024), (-3, -3), (1e300, 1e300),
                         (123456789012345678901234567890, 1.2345678901234568e29)):
        created = create(client, headers, {"inference": {"confidenceScore": sent}})
        fetched = client.get(f"{ME}/{created['id']}", headers=headers).json()
        assert created["inference"]["confidenceScore"] == fetched["inference"]["confidenceScore"] == stored, sent


def test_create_without_tag_is_allowed_and_leaves_display_name_null(client: TestClient, tokens: Tokens) -> None:
    created = create(client, tokens.headers(), {"spoken": "elementary"})
    assert (created["tag"], created["displayName"]) == (None, None)


def test_duplicate_tags_may_be_created(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    first, second = create(client, headers, {"tag": "en-GB"}), create(client, headers, {"tag": "en-gb"})
    assert first["id"] != second["id"]
    assert [x["tag"] for x in listed(client, headers)] == ["en-GB", "en-GB"]


class TestUsersPaths:
    """The same five operations on /users/{id|userPrincipalName}."""

    def test_all_five_operations_by_upn(self, client: TestClient, tokens: Tokens) -> None:
        admin = tokens.headers(upn="admin@contoso.com", scopes=ADMIN_SCOPES)
        client.get(ME, headers=tokens.headers(upn="gina@contoso.com"))
        collection = "/beta/users/gina@contoso.com/profile/languages"
        assert listed(client, admin, collection) == []
        created = create(client, admin, {"tag": "sv-SE"}, collection)
        item = f"{collection}/{created['id']}"
        assert client.get(item, headers=admin).json()["tag"] == "sv-SE"
        assert client.patch(item, headers=admin, json={"spoken": "elementary"}).status_code == 200
        assert [x["spoken"] for x in listed(client, admin, collection)] == ["elementary"]
        assert client.delete(item, headers=admin).status_code == 204
        assert listed(client, tokens.headers(upn="gina@contoso.com")) == []

    def test_users_path_by_object_id_is_the_same_collection(self, client: TestClient, tokens: Tokens) -> None:
        own = tokens.headers(upn="hank@contoso.com")
        created = create(client, own)
        user_id = tokens.user_id("hank@contoso.com")
        assert [x["id"] for x in listed(client, own, f"/beta/users/{user_id}/profile/languages")] == [created["id"]]
        admin = tokens.headers(upn="admin@contoso.com", scopes=ADMIN_SCOPES)
        upper = f"/beta/users/{user_id.upper()}/profile/languages"
        assert [x["id"] for x in listed(client, admin, upper)] == [created["id"]]

    def test_context_names_the_users_object_id(self, client: TestClient, tokens: Tokens) -> None:
        own = tokens.headers(upn="ivy@contoso.com")
        body = client.get("/beta/users/IVY@contoso.com/profile/languages", headers=own).json()
        assert f"users('{tokens.user_id('ivy@contoso.com')}')" in body["@odata.context"]

    def test_a_users_languages_are_not_another_users(self, client: TestClient, tokens: Tokens) -> None:
        create(client, tokens.headers(upn="jack@contoso.com"))
        assert listed(client, tokens.headers(upn="kate@contoso.com")) == []
