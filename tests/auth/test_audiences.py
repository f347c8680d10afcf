"""allowedAudiences on reads by others: every audience value, read by the owner, a caller of the same
tenant, a caller of a federated tenant and a caller of another tenant. Hidden is the same as missing."""

from __future__ import annotations

import pytest

from graphlang.auth.tokens import mint
from graphlang.auth.visibility import admitting_audiences
from graphlang.config import Settings
from graphlang.model.enums import AUDIENCES
from tests.auth.conftest import MakeWorld, World

FEDERATED = "fed00000-0000-4000-8000-000000000001"
STRANGER = "c3c3c3c3-0000-4000-8000-000000000003"
OWNER = "audience-owner@contoso.com"

TAG_BY_AUDIENCE = {
    "me": "en", "family": "fr", "contacts": "de", "groupMembers": "es", "organization": "it",
    "federatedOrganizations": "nl", "everyone": "pt", "contacts,organization": "sv",
    "family,federatedOrganizations": "da",
}
EVERY_TAG = set(TAG_BY_AUDIENCE.values())
SAME_TENANT_SEES = {"it", "nl", "pt", "sv", "da"}
FEDERATED_TENANT_SEES = {"nl", "pt", "da"}


def _seed_owner(world: World, owner: str) -> dict[str, str]:
    """One item per audience value for ``owner``; their ids by tag."""
    headers = world.tokens.headers(upn=owner, scopes="User.ReadWrite")
    ids = {}
    for audience, tag in TAG_BY_AUDIENCE.items():
        created = world.client.post("/beta/me/profile/languages", json={"tag": tag, "allowedAudiences": audience},
                                    headers=headers)
        assert created.status_code == 201, created.text
        ids[tag] = created.json()["id"]
    return ids


@pytest.fixture(scope="module")
def world(make_shared_world: MakeWorld) -> World:
    """One service for the module; tests that change items seed an owner of their own."""
    world = make_shared_world(federated_tenants=(FEDERATED,))
    _seed_owner(world, OWNER)
    return world


def _ids_by_tag(world: World, owner: str = OWNER) -> dict[str, str]:
    listed = world.client.get("/beta/me/profile/languages", headers=world.tokens.headers(upn=owner))
    return {item["tag"]: item["id"] for item in listed.json()["value"]}


CALLERS = {
    "owner via /me": ("delegated", OWNER, None, EVERY_TAG),
    "owner via /users": ("delegated", OWNER, None, EVERY_TAG),
    "same-tenant user": ("delegated", "bob@contoso.com", None, SAME_TENANT_SEES),
    "same-tenant app": ("application", None, None, EVERY_TAG),
    "federated-tenant user": ("delegated", "dave@partner.com", FEDERATED, FEDERATED_TENANT_SEES),
    "federated-tenant app": ("application", None, FEDERATED, FEDERATED_TENANT_SEES),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_sees_exactly_the_items_whose_audiences_admit_them(world: World, caller: str) -> None:
    kind, upn, tenant, sees = CALLERS[caller]
    tokens = world.tokens
    token = (tokens.delegated(upn or "", scopes="User.Read.All", tenant=tenant) if kind == "delegated"
             else tokens.app(roles="User.Read.All", tenant=tenant))
    headers = tokens.headers(token)
    base = "/beta/me/profile" if caller == "owner via /me" else f"/beta/users/{OWNER}/profile"

    listed = world.client.get(f"{base}/languages", headers=headers)
    profile = world.client.get(base, headers=headers)
    assert listed.status_code == profile.status_code == 200, listed.text
    assert {item["tag"] for item in listed.json()["value"]} == sees
    assert {item["tag"] for item in profile.json()["languages"]} == sees
    for tag, language_id in _ids_by_tag(world).items():
        got = world.client.get(f"{base}/languages/{language_id}", headers=headers)
        assert got.status_code == (200 if tag in sees else 404), (tag, got.text)
        if tag not in sees:
            assert got.json()["error"]["code"] == "itemNotFound"
            missing = world.client.get(f"{base}/languages/00000000-0000-4000-8000-00000000dead", headers=headers)
            assert missing.json()["error"]["message"].replace("00000000-0000-4000-8000-00000000dead", language_id) \
                == got.json()["error"]["message"]


@pytest.mark.parametrize("kind", ["delegated", "application"])
def test_a_caller_of_an_unfederated_tenant_cannot_find_the_user(world: World, kind: str) -> None:
    tokens = world.tokens
    token = (tokens.delegated("erin@stranger.com", scopes="User.Read.All", tenant=STRANGER) if kind == "delegated"
             else tokens.app(roles="User.Read.All", tenant=STRANGER))
    for path in (f"/beta/users/{OWNER}/profile/languages", f"/beta/users/{OWNER}/profile"):
        response = world.client.get(path, headers=tokens.headers(token))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_without_federation_a_partner_tenant_is_a_stranger(world: World, make_shared_world: MakeWorld) -> None:
    unfederated = make_shared_world()  # the same directory as ``world``, without GRAPHLANG_FEDERATED_TENANTS
    token = unfederated.tokens.delegated("dave@partner.com", scopes="User.Read.All", tenant=FEDERATED)
    response = unfederated.client.get(f"/beta/users/{OWNER}/profile/languages",
                                      headers=unfederated.tokens.headers(token))
    assert response.status_code == 404


def test_writes_by_a_federated_tenant_are_refused(world: World) -> None:
    owner = "federated-writes@contoso.com"
    ids = _seed_owner(world, owner)
    token = world.tokens.delegated("dave@partner.com", scopes="User.ReadWrite.All", tenant=FEDERATED)
    base = f"/beta/users/{owner}/profile/languages"
    headers = world.tokens.headers(token)
    responses = [world.client.patch(f"{base}/{ids['pt']}", json={"tag": "ro"}, headers=headers),
                 world.client.delete(f"{base}/{ids['pt']}", headers=headers),
                 world.client.post(base, json={"tag": "ro"}, headers=headers)]
    assert [(r.status_code, r.json()["error"]["code"]) for r in responses] == [(403, "accessDenied")] * 3
    assert _ids_by_tag(world, owner) == ids


def test_writes_by_others_follow_the_permission_table_only(world: World) -> None:
    owner = "others-write@contoso.com"
    hidden = _seed_owner(world, owner)["en"]
    admin = world.tokens.headers(upn="bob@contoso.com", scopes="User.ReadWrite.All")
    patched = world.client.patch(f"/beta/users/{owner}/profile/languages/{hidden}", json={"spoken": "elementary"},
                                 headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["allowedAudiences"] == "me"


def test_clearing_the_audience_makes_an_item_private(world: World) -> None:
    owner = "clears-audience@contoso.com"
    item = _seed_owner(world, owner)["pt"]
    cleared = world.client.patch(f"/beta/me/profile/languages/{item}", json={"allowedAudiences": None},
                                 headers=world.tokens.headers(upn=owner))
    assert cleared.status_code == 200, cleared.text
    reader = world.tokens.headers(upn="bob@contoso.com", scopes="User.Read.All")
    assert world.client.get(f"/beta/users/{owner}/profile/languages/{item}", headers=reader).status_code == 404


@pytest.mark.parametrize(("caller", "owner", "admitted"), [
    ("a", "a", {"organization", "federatedOrganizations", "everyone"}),
    ("a", "b", {"federatedOrganizations", "everyone"}),
    ("a", "z", {"everyone"}),
])
def test_audience_bits_that_admit_a_caller(caller: str, owner: str, admitted: set[str]) -> None:
    settings = Settings(tenant="a", federated_tenants=("b",))
    bits = admitting_audiences(settings, caller, owner)
    assert {name for name, bit in AUDIENCES.items() if bit & bits} == admitted


def test_list_counts_leave_hidden_items_out(world: World) -> None:
    reader = world.tokens.headers(upn="bob@contoso.com", scopes="User.Read.All")
    response = world.client.get(f"/beta/users/{OWNER}/profile/languages?$count=true", headers=reader)
    assert response.status_code == 200, response.text
    assert response.json()["@odata.count"] == len(SAME_TENANT_SEES)


def test_the_owner_named_by_upn_in_a_token_without_one_still_sees_every_item(world: World) -> None:
    """The token names the owner by object id only, so the path's UPN is not recognised as the caller
    until the directory resolves it; the owner's private items must still be visible."""
    tokens = world.tokens
    settings = tokens.settings
    token = mint(tokens.services.key, issuer=settings.emulator_issuer(settings.tenant),
                 audience=settings.audiences[0], tenant=settings.tenant, user_id=tokens.user_id(OWNER), upn=None,
                 name="Owner", scopes=["User.Read.All"])
    for tag, language_id in _ids_by_tag(world).items():
        got = world.client.get(f"/beta/users/{OWNER}/profile/languages/{language_id}", headers=tokens.headers(token))
        assert got.status_code == 200, (tag, got.text)
        assert got.json()["tag"] == tag
