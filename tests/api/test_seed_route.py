"""The seed route: PATCH on the collection upserts one languageProficiency and answers 200."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.support import EVERY_PROPERTY, ME, create, entity, listed
from tests.factories import Tokens

UPN = "seed@contoso.com"


def collections(tokens: Tokens) -> list[str]:
    user_id = tokens.user_id(UPN)
    return [
        f"/beta/user/{user_id}/profile/languages",
        f"/beta/user/{UPN}/profile/languages",
        f"/beta/users/{user_id}/profile/languages",
        f"/beta/users/{UPN}/profile/languages",
        ME,
    ]


ROUTES = ["user/{id}", "user/{upn}", "users/{id}", "users/{upn}", "me"]


@pytest.fixture
def headers(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(upn=UPN, name="Seed User")


def test_upsert_creates_when_nothing_matches_and_answers_200(client: TestClient, tokens: Tokens,
                                                             headers: dict[str, str]) -> None:
    made = []
    languages = [("nb-no", "nb-NO", "Norwegian Bokmål"), ("fr-fr", "fr-FR", "French"), ("de", "de", "German"),
                 ("JA-JP", "ja-JP", "Japanese"), ("ko_kr", "ko-KR", "Korean")]
    for route, collection, (sent, tag, name) in zip(ROUTES, collections(tokens), languages, strict=True):
        response = client.patch(collection, headers=headers, json={"tag": sent, "proficiency": "nativeOrBilingual"})
        assert response.status_code == 200, (route, response.text)
        body = response.json()
        assert set(entity(body)) == EVERY_PROPERTY, route
        assert (body["tag"], body["displayName"], body["proficiency"], body["allowedAudiences"]) == (
            tag, name, "nativeOrBilingual", "organization"), route
        assert body["@odata.context"].endswith("/$entity"), route
        made.append(entity(body))
    assert [entity(x) for x in listed(client, headers)] == made


def test_upsert_updates_by_id(client: TestClient, tokens: Tokens, headers: dict[str, str]) -> None:
    existing = create(client, headers, {"tag": "en-US", "spoken": "elementary"})
    for level, (route, collection) in zip(("elementary", "conversational", "limitedWorking", "professionalWorking",
                                           "fullProfessional"), zip(ROUTES, collections(tokens), strict=True),
                                          strict=True):
        response = client.patch(collection, headers=headers,
                                json={"id": existing["id"], "tag": "de-DE", "written": level})
        assert response.status_code == 200, (route, response.text)
        body = response.json()
        assert body["id"] == existing["id"], route
        assert (body["tag"], body["spoken"], body["written"]) == ("de-DE", "elementary", level), route
        assert body["createdDateTime"] == existing["createdDateTime"], route
    assert [x["id"] for x in listed(client, headers)] == [existing["id"]]


def test_upsert_matches_an_upper_case_id(client: TestClient, headers: dict[str, str]) -> None:
    existing = create(client, headers, {"tag": "en-US"})
    body = client.patch(ME, headers=headers, json={"id": existing["id"].upper(), "reading": "elementary"}).json()
    assert body["id"] == existing["id"]
    assert len(listed(client, headers)) == 1


def test_upsert_updates_by_tag_case_insensitively(client: TestClient, headers: dict[str, str]) -> None:
    existing = create(client, headers, {"tag": "en-US", "spoken": "elementary", "displayName": "English (US)"})
    for sent_tag in ("en-US", "en-us", "EN-US", "en_US"):
        body = client.patch(ME, headers=headers, json={"tag": sent_tag, "spoken": "fullProfessional"}).json()
        assert body["id"] == existing["id"], sent_tag
        assert (body["tag"], body["spoken"], body["displayName"]) == ("en-US", "fullProfessional", "English (US)")
        assert body["lastModifiedDateTime"] > existing["lastModifiedDateTime"], sent_tag
    assert len(listed(client, headers)) == 1


def test_upsert_by_tag_compares_canonical_forms(client: TestClient, headers: dict[str, str]) -> None:
    existing = create(client, headers, {"tag": "he"})
    assert client.patch(ME, headers=headers, json={"tag": "iw", "spoken": "elementary"}).json()["id"] == existing["id"]


def test_upsert_with_an_unknown_id_falls_back_to_the_tag(client: TestClient, headers: dict[str, str]) -> None:
    existing = create(client, headers, {"tag": "fr-FR"})
    body = client.patch(ME, headers=headers,
                        json={"id": "7d1f0f7e-0000-4000-8000-000000000000", "tag": "fr-fr", "spoken": "elementary"}
                        ).json()
    assert body["id"] == existing["id"]


def test_upsert_with_an_unknown_id_and_no_tag_match_creates_with_a_server_id(client: TestClient,
                                                                             headers: dict[str, str]) -> None:
    sent_id = "7d1f0f7e-0000-4000-8000-000000000000"
    body = client.patch(ME, headers=headers, json={"id": sent_id, "tag": "it"}).json()
    assert body["id"] != sent_id
    assert [x["id"] for x in listed(client, headers)] == [body["id"]]


def test_upsert_without_id_or_tag_creates(client: TestClient, headers: dict[str, str]) -> None:
    create(client, headers, {"tag": "en"})
    response = client.patch(ME, headers=headers, json={"spoken": "elementary"})
    assert response.status_code == 200
    assert len(listed(client, headers)) == 2


def test_upsert_with_duplicate_tags_updates_the_oldest(client: TestClient, headers: dict[str, str]) -> None:
    oldest = create(client, headers, {"tag": "ja-JP"})
    newer = create(client, headers, {"tag": "ja-JP"})
    body = client.patch(ME, headers=headers, json={"tag": "ja-jp", "reading": "elementary"}).json()
    assert body["id"] == oldest["id"]
    assert client.get(f"{ME}/{newer['id']}", headers=headers).json()["reading"] is None


def test_upsert_by_another_user_records_them_as_last_modifier(client: TestClient, tokens: Tokens,
                                                              headers: dict[str, str]) -> None:
    existing = create(client, headers, {"tag": "nl"})
    admin = tokens.headers(upn="admin@contoso.com", scopes="User.ReadWrite.All", name="Admin")
    body = client.patch(f"/beta/user/{UPN}/profile/languages", headers=admin,
                        json={"tag": "nl", "spoken": "elementary"}).json()
    assert body["id"] == existing["id"]
    assert body["createdBy"]["user"]["displayName"] == "Seed User"
    assert body["lastModifiedBy"]["user"]["displayName"] == "Admin"


def test_upsert_does_not_reach_another_users_language_by_id(client: TestClient, tokens: Tokens,
                                                            headers: dict[str, str]) -> None:
    other = tokens.headers(upn="other@contoso.com")
    theirs = create(client, other, {"tag": "pl"})
    body = client.patch(ME, headers=headers, json={"id": theirs["id"], "spoken": "elementary"}).json()
    assert body["id"] != theirs["id"]
    assert [entity(x) for x in listed(client, other)] == [entity(theirs)]


def test_seed_route_for_an_unknown_user_is_404(client: TestClient, tokens: Tokens) -> None:
    admin = tokens.headers(upn="admin@contoso.com", scopes="User.ReadWrite.All")
    response = client.patch("/beta/user/ghost@contoso.com/profile/languages", headers=admin, json={"tag": "en"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"
