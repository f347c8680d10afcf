"""GET /me/profile and /users/{id}/profile: the profile entity with its languages, under the same rules."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.factories import Tokens


def test_profile_carries_the_languages_inline(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers(upn="alice@contoso.com", scopes="User.ReadWrite")
    created = client.post("/beta/me/profile/languages", json={"tag": "nb-NO"}, headers=headers).json()

    response = client.get("/beta/me/profile", headers=headers)
    assert response.status_code == 200
    user_id = tokens.user_id("alice@contoso.com")
    assert response.json() == {
        "@odata.context": f"http://testserver/beta/$metadata#users('{user_id}')/profile/$entity",
        "id": user_id,
        "languages": [{k: v for k, v in created.items() if k != "@odata.context"}],
    }
    assert response.headers["content-type"].startswith("application/json")


def test_another_users_profile_follows_permissions_and_audiences(client: TestClient, tokens: Tokens) -> None:
    owner = tokens.headers(upn="alice@contoso.com")
    client.post("/beta/me/profile/languages", json={"tag": "fr", "allowedAudiences": "organization"}, headers=owner)
    client.post("/beta/me/profile/languages", json={"tag": "de", "allowedAudiences": "me"}, headers=owner)

    path = f"/beta/users/{tokens.user_id('alice@contoso.com')}/profile"
    reader = client.get(path, headers=tokens.headers(upn="bob@contoso.com", scopes="User.ReadBasic.All"))
    assert [item["tag"] for item in reader.json()["languages"]] == ["fr"]
    denied = client.get(path, headers=tokens.headers(upn="bob@contoso.com", scopes="User.Read"))
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "ErrorInsufficientPermissionsInAccessToken")
    app = client.get(path, headers=tokens.headers(tokens.app(roles="User.Read.All")))
    assert sorted(item["tag"] for item in app.json()["languages"]) == ["de", "fr"]


def test_me_profile_with_an_app_only_token_is_400(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/beta/me/profile", headers=tokens.headers(tokens.app()))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "/me request is only valid with delegated authentication flow."


def test_profile_of_an_unknown_user_is_404(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/beta/users/nobody@contoso.com/profile", headers=tokens.headers(scopes="User.Read.All"))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "Request_ResourceNotFound")
