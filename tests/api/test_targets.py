"""A write's target user, when this process remembers them from an earlier write: the users table is
the authority, and a user changed behind the process's back (by another worker or instance, a seed or
an operator) is never written to as they were remembered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from starlette.testclient import TestClient

from graphlang.services import Services
from graphlang.storage.schema import users
from tests.api.support import ME, assert_graph_error, create
from tests.factories import Tokens

OTHER_TENANT = "b2b2b2b2-0000-4000-8000-000000000002"


def _change_user(services: Services, user_id: str, **values: Any) -> None:
    """What another process could do to a user: this process hears nothing of it."""
    with services.engine.begin() as conn:
        assert conn.execute(update(users).where(users.c.id == user_id).values(**values)).rowcount == 1


def _bobs_item(client: TestClient, tokens: Tokens, upn: str = "bob@contoso.com") -> dict[str, Any]:
    return create(client, tokens.headers(upn=upn), {"tag": "fr-FR"})


def _tags(client: TestClient, tokens: Tokens, upn: str) -> list[str]:
    listed = client.get(ME, headers=tokens.headers(upn=upn))
    return [item["tag"] for item in listed.json()["value"]]


def test_patch_of_a_user_moved_to_another_tenant_is_404_and_changes_nothing(client: TestClient, tokens: Tokens,
                                                                           services: Services) -> None:
    item = _bobs_item(client, tokens)
    admin = tokens.headers(scopes="User.ReadWrite.All")
    path = f"/beta/users/{tokens.user_id('bob@contoso.com')}/profile/languages/{item['id']}"
    assert client.patch(path, json={"tag": "de-DE"}, headers=admin).status_code == 200  # remembered now
    _change_user(services, tokens.user_id("bob@contoso.com"), tenant_id=OTHER_TENANT)

    patched = client.patch(path, json={"tag": "es-ES"}, headers=admin)
    deleted = client.delete(path, headers=admin)

    assert_graph_error(patched, 404, "Request_ResourceNotFound")
    assert_graph_error(deleted, 404, "Request_ResourceNotFound")
    bob_elsewhere = tokens.headers(upn="bob@contoso.com", tenant=OTHER_TENANT,
                                   user_id=tokens.user_id("bob@contoso.com"))
    assert [i["tag"] for i in client.get(ME, headers=bob_elsewhere).json()["value"]] == ["de-DE"]


def test_patch_by_upn_after_the_upn_passed_to_another_user_writes_to_that_user_only(
        client: TestClient, tokens: Tokens, services: Services) -> None:
    bobs = _bobs_item(client, tokens)
    carols = _bobs_item(client, tokens, "carol@contoso.com")
    admin = tokens.headers(scopes="User.ReadWrite.All")
    base = "/beta/users/bob@contoso.com/profile/languages"
    assert client.patch(f"{base}/{bobs['id']}", json={"tag": "de-DE"}, headers=admin).status_code == 200
    _change_user(services, tokens.user_id("bob@contoso.com"), user_principal_name="robert@contoso.com",
                 upn_key="robert@contoso.com")
    _change_user(services, tokens.user_id("carol@contoso.com"), user_principal_name="bob@contoso.com",
                 upn_key="bob@contoso.com")

    to_bobs = client.patch(f"{base}/{bobs['id']}", json={"tag": "es-ES"}, headers=admin)
    to_carols = client.patch(f"{base}/{carols['id']}", json={"tag": "it-IT"}, headers=admin)

    assert_graph_error(to_bobs, 404, "itemNotFound", bobs["id"])
    assert to_carols.status_code == 200, to_carols.text
    assert to_carols.json()["@odata.context"].startswith(
        f"http://testserver/beta/$metadata#users('{tokens.user_id('carol@contoso.com')}')")
    assert _tags(client, tokens, "bob@contoso.com") == ["de-DE"]
    assert _tags(client, tokens, "carol@contoso.com") == ["it-IT"]


def test_delete_of_a_remembered_user_renamed_since_looks_them_up_again_and_succeeds(
        client: TestClient, tokens: Tokens, services: Services) -> None:
    first, second = _bobs_item(client, tokens), _bobs_item(client, tokens)
    admin = tokens.headers(scopes="User.ReadWrite.All")
    base = f"/beta/users/{tokens.user_id('bob@contoso.com')}/profile/languages"
    assert client.delete(f"{base}/{first['id']}", headers=admin).status_code == 204
    _change_user(services, tokens.user_id("bob@contoso.com"), user_principal_name="robert@contoso.com",
                 upn_key="robert@contoso.com")

    deleted = client.delete(f"{base}/{second['id']}", headers=admin)

    assert deleted.status_code == 204, deleted.text
    assert client.get(base, headers=admin).json()["value"] == []


def test_me_write_after_the_callers_row_moved_to_another_tenant_is_401_and_changes_nothing(
        client: TestClient, tokens: Tokens, services: Services) -> None:
    alice = tokens.headers(upn="alice@contoso.com")
    item = create(client, alice, {"tag": "fi-FI"})
    assert client.patch(f"{ME}/{item['id']}", json={"tag": "sv-SE"}, headers=alice).status_code == 200
    _change_user(services, tokens.user_id("alice@contoso.com"), tenant_id=OTHER_TENANT)

    patched = client.patch(f"{ME}/{item['id']}", json={"tag": "da-DK"}, headers=alice)
    deleted = client.delete(f"{ME}/{item['id']}", headers=alice)

    assert patched.status_code == deleted.status_code == 401, (patched.text, deleted.text)
    _change_user(services, tokens.user_id("alice@contoso.com"), tenant_id=services.settings.tenant)
    assert _tags(client, tokens, "alice@contoso.com") == ["sv-SE"]


def test_misses_of_a_remembered_user_are_explained_as_without_one(client: TestClient, tokens: Tokens) -> None:
    item = _bobs_item(client, tokens)
    admin = tokens.headers(scopes="User.ReadWrite.All")
    base = f"/beta/users/{tokens.user_id('bob@contoso.com')}/profile/languages"
    assert client.patch(f"{base}/{item['id']}", json={"tag": "de-DE"}, headers=admin).status_code == 200

    missing = client.patch(f"{base}/00000000-0000-4000-8000-00000000dead", json={"tag": "es-ES"}, headers=admin)
    stale = client.patch(f"{base}/{item['id']}", json={"tag": "es-ES"},
                         headers={**admin, "If-Match": item["@odata.etag"]})
    stale_delete = client.delete(f"{base}/{item['id']}", headers={**admin, "If-Match": item["@odata.etag"]})

    assert_graph_error(missing, 404, "itemNotFound", "00000000-0000-4000-8000-00000000dead")
    assert_graph_error(stale, 412, "resourceModified", item["id"])
    assert_graph_error(stale_delete, 412, "resourceModified", item["id"])
    assert _tags(client, tokens, "bob@contoso.com") == ["de-DE"]


def test_a_remembered_user_removed_since_is_404_for_the_user(client: TestClient, tokens: Tokens,
                                                             services: Services) -> None:
    item = _bobs_item(client, tokens)
    admin = tokens.headers(scopes="User.ReadWrite.All")
    path = f"/beta/users/bob@contoso.com/profile/languages/{item['id']}"
    assert client.patch(path, json={"tag": "de-DE"}, headers=admin).status_code == 200
    with services.engine.begin() as conn:  # as another process could: the user and their languages
        conn.execute(delete(users).where(users.c.id == tokens.user_id("bob@contoso.com")))

    patched = client.patch(path, json={"tag": "es-ES"}, headers=admin)

    assert_graph_error(patched, 404, "Request_ResourceNotFound", "bob@contoso.com")
