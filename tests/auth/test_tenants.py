"""Tenants are isolated: a caller cannot read, write or even detect the users of another tenant."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.factories import Tokens

OTHER_TENANT = "b2b2b2b2-0000-4000-8000-000000000002"


def _without_ids(body: dict[str, Any]) -> dict[str, Any]:
    error = dict(body["error"])
    error.pop("innerError")
    return error


def test_a_user_of_another_tenant_is_the_same_404_as_no_user(client: TestClient, tokens: Tokens) -> None:
    admin = tokens.headers(scopes="User.ReadWrite.All")
    path = "/beta/users/ghost@contoso.com/profile/languages"
    before = client.get(path, headers=admin)
    ghost = client.post("/beta/me/profile/languages", json={"tag": "fi"},
                        headers=tokens.headers(upn="ghost@contoso.com", tenant=OTHER_TENANT))
    assert ghost.status_code == 201
    after = client.get(path, headers=admin)
    by_id = client.get(f"/beta/users/{tokens.user_id('ghost@contoso.com', OTHER_TENANT)}/profile/languages",
                       headers=admin)

    assert before.status_code == after.status_code == by_id.status_code == 404
    assert _without_ids(after.json()) == _without_ids(before.json())
    assert _without_ids(after.json())["code"] == "Request_ResourceNotFound"
    assert by_id.json()["error"]["code"] == "Request_ResourceNotFound"


def test_writes_to_another_tenants_user_change_nothing(client: TestClient, tokens: Tokens) -> None:
    owner = tokens.headers(upn="carol@fabrikam.com", tenant=OTHER_TENANT)
    item = client.post("/beta/me/profile/languages", json={"tag": "sv"}, headers=owner).json()
    intruder = tokens.headers(scopes="User.ReadWrite.All")
    app = tokens.headers(tokens.app(roles="User.ReadWrite.All"))
    base = f"/beta/users/{tokens.user_id('carol@fabrikam.com', OTHER_TENANT)}/profile/languages"

    for headers in (intruder, app):
        assert client.patch(f"{base}/{item['id']}", json={"tag": "da"}, headers=headers).status_code == 404
        assert client.delete(f"{base}/{item['id']}", headers=headers).status_code == 404
        assert client.post(base, json={"tag": "da"}, headers=headers).status_code == 404

    remaining = client.get("/beta/me/profile/languages", headers=owner).json()["value"]
    assert [(i["id"], i["tag"]) for i in remaining] == [(item["id"], "sv")]


def test_same_upn_in_two_tenants_resolves_to_the_callers_tenant(client: TestClient, tokens: Tokens) -> None:
    for tenant, tag in ((None, "nl"), (OTHER_TENANT, "pl")):
        created = client.post("/beta/me/profile/languages", json={"tag": tag},
                              headers=tokens.headers(upn="sam@contoso.com", tenant=tenant))
        assert created.status_code == 201
    for tenant, tag in ((None, "nl"), (OTHER_TENANT, "pl")):
        app = tokens.headers(tokens.app(roles="User.Read.All", tenant=tenant))
        listed = client.get("/beta/users/sam@contoso.com/profile/languages", headers=app)
        assert [i["tag"] for i in listed.json()["value"]] == [tag]


def test_a_token_of_another_tenant_carrying_a_users_oid_is_401_and_sees_nothing(client: TestClient,
                                                                                 tokens: Tokens) -> None:
    alice = tokens.headers(upn="alice@contoso.com")
    assert client.post("/beta/me/profile/languages", json={"tag": "fi"}, headers=alice).status_code == 201
    assert client.get("/beta/me/profile/languages", headers=alice).status_code == 200  # alice is now cached
    impostor = tokens.headers(upn="mallory@fabrikam.com", tenant=OTHER_TENANT,
                              user_id=tokens.user_id("alice@contoso.com"))

    read = client.get("/beta/me/profile/languages", headers=impostor)
    write = client.post("/beta/me/profile/languages", json={"tag": "sv"}, headers=impostor)

    assert read.status_code == write.status_code == 401, (read.text, write.text)
    assert "is a different user in the directory" in read.headers["www-authenticate"]
    assert [item["tag"] for item in client.get("/beta/me/profile/languages", headers=alice).json()["value"]] == ["fi"]
