"""``--auth oidc``: tokens of an external issuer, keys from its JWKS (found through discovery), cached,
refetched with a rate limit when a token names an unknown kid; Entra v1 and v2 claim shapes."""

from __future__ import annotations

import uuid

import pytest

from tests.auth.conftest import MakeWorld, World
from tests.auth.idp import TENANT, Key, LocalIdentityProvider

PATH = "/beta/me/profile/languages"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_keys_are_fetched_once_and_cached(oidc: World, idp: LocalIdentityProvider) -> None:
    for upn in ("a@fabrikam.com", "b@fabrikam.com", "c@fabrikam.com"):
        assert oidc.client.get(PATH, headers=_bearer(idp.delegated(upn))).status_code == 200
    assert idp.jwks_fetches == 1


def test_a_rotated_key_is_fetched_when_a_token_names_it(oidc: World, idp: LocalIdentityProvider) -> None:
    assert oidc.client.get(PATH, headers=_bearer(idp.delegated())).status_code == 200
    idp.keys.insert(0, Key(1))
    response = oidc.client.get(PATH, headers=_bearer(idp.delegated()))
    assert response.status_code == 200, response.text
    assert idp.jwks_fetches == 2


def test_unknown_kids_refetch_at_most_once_per_interval(make_world: MakeWorld, idp: LocalIdentityProvider) -> None:
    world = make_world(auth="oidc", oidc_discovery_url=idp.discovery_url, audiences=("api://graphlang",),
                       oidc_refresh_interval=3600)
    assert world.client.get(PATH, headers=_bearer(idp.delegated())).status_code == 200
    for attempt in range(5):
        forged = Key(2).sign(idp.claims(oid=str(uuid.uuid4()), scp="User.Read"), kid=f"forged-{attempt}")
        response = world.client.get(PATH, headers=_bearer(forged))
        assert response.status_code == 401
        assert "unknown key" in response.headers["www-authenticate"]
    assert idp.jwks_fetches == 1


def test_a_jwks_url_works_without_discovery(make_world: MakeWorld, idp: LocalIdentityProvider) -> None:
    world = make_world(auth="oidc", oidc_jwks_url=idp.jwks_url, oidc_issuer=idp.issuer(),
                       audiences=("api://graphlang",))
    assert world.client.get(PATH, headers=_bearer(idp.delegated())).status_code == 200
    other_tenant = idp.keys[0].sign(idp.claims(tenant="0f0f0f0f-0000-4000-8000-000000000000", oid=str(uuid.uuid4()),
                                               scp="User.Read"))
    assert world.client.get(PATH, headers=_bearer(other_tenant)).status_code == 401


def test_entra_v1_claims_are_accepted(make_world: MakeWorld, idp: LocalIdentityProvider) -> None:
    world = make_world(auth="oidc", oidc_jwks_url=idp.jwks_url, audiences=("api://graphlang",),
                       oidc_issuer=f"{idp.issuer('{tenantid}')} {idp.v1_issuer('{tenantid}')}")
    oid = str(uuid.uuid4())
    v1 = idp.keys[0].sign(idp.claims(iss=idp.v1_issuer(), ver="1.0", oid=oid, upn="vera@fabrikam.com",
                                     unique_name="vera@fabrikam.com", appid="11110000-0000-4000-8000-000000000001",
                                     scp="User.ReadWrite", name="Vera"))
    created = world.client.post(PATH, json={"tag": "cs"}, headers=_bearer(v1))
    assert created.status_code == 201, created.text
    assert created.json()["createdBy"] == {
        "application": {"displayName": None, "id": "11110000-0000-4000-8000-000000000001"},
        "device": None, "user": {"displayName": "Vera", "id": oid}}


def test_entra_v2_app_only_tokens_use_azp_and_roles(oidc: World, idp: LocalIdentityProvider) -> None:
    app_id = "22220000-0000-4000-8000-000000000002"
    token = idp.keys[0].sign(idp.claims(oid=str(uuid.uuid4()), azp=app_id, roles=["User.Read.All"], idtyp="app"))
    response = oidc.client.get("/beta/users/nobody@fabrikam.com/profile/languages", headers=_bearer(token))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "Request_ResourceNotFound")
    me = oidc.client.get(PATH, headers=_bearer(token))
    assert me.status_code == 400


def test_the_discovery_issuer_template_admits_each_tenant_as_its_own(oidc: World, idp: LocalIdentityProvider) -> None:
    tenant = "0f0f0f0f-0000-4000-8000-000000000000"
    mismatched = idp.keys[0].sign(idp.claims(tenant=tenant, iss=idp.issuer(TENANT), oid=str(uuid.uuid4()),
                                             scp="User.Read"))
    response = oidc.client.get(PATH, headers=_bearer(mismatched))
    assert response.status_code == 401
    assert "issuer" in response.headers["www-authenticate"]
    matched = idp.keys[0].sign(idp.claims(tenant=tenant, oid=str(uuid.uuid4()), scp="User.Read"))
    assert oidc.client.get(PATH, headers=_bearer(matched)).status_code == 200


def test_an_unreachable_issuer_is_503_not_401(make_world: MakeWorld, idp: LocalIdentityProvider) -> None:
    world = make_world(auth="oidc", oidc_jwks_url=f"{idp.base}/missing", oidc_issuer=idp.issuer(),
                       audiences=("api://graphlang",))
    response = world.client.get(PATH, headers=_bearer(idp.delegated()))
    assert response.status_code == 503
    assert response.headers["retry-after"]


@pytest.mark.parametrize(("overrides", "complaint"), [
    ({}, "GRAPHLANG_OIDC_JWKS_URL or GRAPHLANG_OIDC_DISCOVERY_URL"),
    ({"oidc_jwks_url": "http://127.0.0.1:9/keys"}, "GRAPHLANG_OIDC_ISSUER or GRAPHLANG_OIDC_DISCOVERY_URL"),
])
def test_oidc_mode_refuses_to_start_half_configured(make_world: MakeWorld, overrides: dict[str, str],
                                                    complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        make_world(auth="oidc", **overrides)
