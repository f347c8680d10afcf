"""The emulator's OpenID Connect issuer: discovery, JWKS, and the token endpoint's two grants."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from graphlang.auth.client_secrets import hash_secret
from graphlang.services import Services
from tests.auth.conftest import MakeWorld, World
from tests.factories import Tokens

APP_ID = "a1a1a1a1-0000-4000-8000-000000000001"
PUBLIC_APP_ID = "b1b1b1b1-0000-4000-8000-000000000002"
SECRET = "s3cret-value~with.symbols"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"


@pytest.fixture(scope="module")
def world(make_shared_world: MakeWorld) -> World:
    """One service for the module, with a confidential and a public app registered."""
    world = make_shared_world()
    store, tenant = world.services.store, world.services.settings.tenant
    store.add_app(APP_ID, tenant, "Reporting", hash_secret(SECRET), "User.Read.All")
    store.add_app(PUBLIC_APP_ID, tenant, "Console", None, "")
    return world


@pytest.fixture
def client(world: World) -> TestClient:
    return world.client


@pytest.fixture
def services(world: World) -> Services:
    return world.services


@pytest.fixture
def tokens(world: World) -> Tokens:
    return world.tokens


def _token_url(services: Services, tenant: str | None = None) -> str:
    return f"/{tenant or services.settings.tenant}/oauth2/v2.0/token"


def _post(client: TestClient, services: Services, form: dict[str, str], tenant: str | None = None,
          **kw: Any) -> Any:
    return client.post(_token_url(services, tenant), data=form, **kw)


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_discovery_names_the_issuer_in_tokens_and_endpoints_on_the_callers_host(client: TestClient,
                                                                                services: Services) -> None:
    tenant = services.settings.tenant
    document = client.get(f"/{tenant}/v2.0/.well-known/openid-configuration",
                          headers={"Host": "graphlang.test:8443"}).json()
    assert document["issuer"] == services.settings.emulator_issuer(tenant)
    assert document["token_endpoint"] == f"http://graphlang.test:8443/{tenant}/oauth2/v2.0/token"
    assert document["jwks_uri"] == f"http://graphlang.test:8443/{tenant}/discovery/v2.0/keys"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_the_jwks_verifies_the_emulators_tokens(client: TestClient, services: Services, tokens: Tokens) -> None:
    tenant = services.settings.tenant
    document = client.get(f"/{tenant}/v2.0/.well-known/openid-configuration").json()
    keys = client.get(document["jwks_uri"]).json()["keys"]
    token = tokens.delegated()
    key = next(k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"])
    assert set(key) >= {"kty", "n", "e", "kid", "use"} and "d" not in key
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=services.settings.audiences[0],
                        issuer=document["issuer"])
    assert claims["tid"] == tenant


def test_client_credentials_issue_an_app_only_token_with_the_apps_roles(client: TestClient,
                                                                         services: Services) -> None:
    response = _post(client, services, {"grant_type": "client_credentials", "client_id": APP_ID,
                                        "client_secret": SECRET, "scope": GRAPH_DEFAULT})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    claims = _claims(body["access_token"])
    assert claims["roles"] == ["User.Read.All"]
    assert (claims["appid"], claims["idtyp"], claims["aud"]) == (APP_ID, "app", "https://graph.microsoft.com")
    assert claims["iss"] == services.settings.emulator_issuer(services.settings.tenant)

    listed = client.get("/beta/users/someone@contoso.com/profile/languages",
                        headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listed.status_code == 404  # accepted, authorized, and the user is unknown
    assert listed.json()["error"]["code"] == "Request_ResourceNotFound"


def test_client_secret_basic_is_accepted(client: TestClient, services: Services) -> None:
    basic = base64.b64encode(f"{APP_ID}:{SECRET}".encode()).decode()
    response = _post(client, services, {"grant_type": "client_credentials", "scope": GRAPH_DEFAULT},
                     headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text


def test_password_grant_issues_a_delegated_token_with_the_requested_scopes(client: TestClient,
                                                                           services: Services) -> None:
    response = _post(client, services, {
        "grant_type": "password", "client_id": APP_ID, "client_secret": SECRET, "username": "Dana@Contoso.com",
        "password": "anything", "scope": "https://graph.microsoft.com/User.ReadWrite openid profile offline_access",
    })
    assert response.status_code == 200, response.text
    body = response.json()
    claims = _claims(body["access_token"])
    assert claims["scp"] == "User.ReadWrite"
    assert (claims["upn"], claims["azp"], claims["idtyp"]) == ("Dana@Contoso.com", APP_ID, "user")
    assert body["scope"] == "https://graph.microsoft.com/User.ReadWrite"
    assert _claims(body["id_token"])["aud"] == APP_ID
    assert "client_info" in body

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    created = client.post("/beta/me/profile/languages", json={"tag": "ko"}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["createdBy"]["application"] == {"displayName": "Reporting", "id": APP_ID}


def test_password_grant_adds_the_user_to_the_directory(client: TestClient, services: Services,
                                                       tokens: Tokens) -> None:
    _post(client, services, {"grant_type": "password", "client_id": PUBLIC_APP_ID, "username": "erin@contoso.com",
                             "password": "x", "scope": "User.Read"})
    admin = tokens.headers(scopes="User.Read.All")
    assert client.get("/beta/users/erin@contoso.com/profile/languages", headers=admin).status_code == 200


def _error(response: Any) -> tuple[int, str, list[int]]:
    body = response.json()
    assert set(body) >= {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}
    return response.status_code, body["error"], body["error_codes"]


CC = {"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": SECRET, "scope": GRAPH_DEFAULT}
PW = {"grant_type": "password", "client_id": PUBLIC_APP_ID, "username": "dana@contoso.com", "password": "x",
      "scope": "User.Read"}
ERRORS = [
    ("wrong secret", {**CC, "client_secret": "nope"}, (401, "invalid_client", [7000215])),
    ("no secret", {k: v for k, v in CC.items() if k != "client_secret"}, (401, "invalid_client", [7000218])),
    ("unknown app", {**CC, "client_id": "0000dead-0000-4000-8000-000000000000"},
     (400, "unauthorized_client", [700016])),
    ("no client id", {k: v for k, v in CC.items() if k != "client_id"}, (400, "invalid_request", [900144])),
    ("no grant type", {k: v for k, v in CC.items() if k != "grant_type"}, (400, "invalid_request", [900144])),
    ("unsupported grant", {**CC, "grant_type": "authorization_code"}, (400, "unsupported_grant_type", [70003])),
    ("scope without .default", {**CC, "scope": "https://graph.microsoft.com/User.Read.All"},
     (400, "invalid_scope", [1002012])),
    ("unknown resource", {**CC, "scope": "https://management.azure.com/.default"},
     (400, "invalid_resource", [500011])),
    ("no scope", {k: v for k, v in CC.items() if k != "scope"}, (400, "invalid_request", [900144])),
    ("public client with client credentials", {**CC, "client_id": PUBLIC_APP_ID},
     (401, "invalid_client", [7000218])),
    ("password grant asking .default", {**PW, "scope": GRAPH_DEFAULT}, (400, "invalid_scope", [70011])),
    ("password grant for an unknown resource", {**PW, "scope": "https://vault.azure.net/user_impersonation"},
     (400, "invalid_resource", [500011])),
    ("password grant with two resources",
     {**PW, "scope": "https://graph.microsoft.com/User.Read 00000003-0000-0000-c000-000000000000/User.Read"},
     (400, "invalid_scope", [28000])),
    ("password grant with only openid", {**PW, "scope": "openid profile"}, (400, "invalid_scope", [70011])),
    ("password grant without a password", {k: v for k, v in PW.items() if k != "password"},
     (400, "invalid_request", [900144])),
    ("confidential app without its secret", {**PW, "client_id": APP_ID}, (401, "invalid_client", [7000218])),
]


@pytest.mark.parametrize(("case", "form", "expected"), ERRORS, ids=[e[0] for e in ERRORS])
def test_token_endpoint_errors_are_shaped_like_entras(client: TestClient, services: Services, case: str,
                                                      form: dict[str, str], expected: tuple[int, str, list[int]]
                                                      ) -> None:
    response = _post(client, services, form)
    assert _error(response) == expected
    assert response.json()["error_description"].startswith(f"AADSTS{expected[2][0]}: ")
    assert SECRET not in response.text


def test_an_app_of_another_tenant_is_not_found(client: TestClient, services: Services) -> None:
    response = _post(client, services, CC, tenant="b2b2b2b2-0000-4000-8000-000000000002")
    assert _error(response) == (400, "unauthorized_client", [700016])


def test_common_is_not_a_tenant_here(client: TestClient, services: Services) -> None:
    assert _error(_post(client, services, PW, tenant="common"))[:2] == (400, "invalid_request")


def test_a_json_body_is_refused(client: TestClient, services: Services) -> None:
    response = client.post(_token_url(services), json=CC)
    assert _error(response)[:2] == (400, "invalid_request")


def test_only_a_hash_of_the_secret_is_stored(services: Services) -> None:
    stored = services.store.get_app(APP_ID)
    assert stored is not None
    assert stored["secret_hash"].startswith("scrypt$") and SECRET not in stored["secret_hash"]


@pytest.mark.parametrize("mode", ["oidc", "none"])
def test_the_issuer_exists_only_in_emulator_mode(make_shared_world: MakeWorld, mode: str) -> None:
    other = make_shared_world(auth=mode, oidc_jwks_url="http://127.0.0.1:9/keys", oidc_issuer="https://issuer.example/")
    tenant = other.services.settings.tenant
    for path in (f"/{tenant}/v2.0/.well-known/openid-configuration", f"/{tenant}/discovery/v2.0/keys"):
        assert other.client.get(path).status_code == 404
    assert other.client.post(f"/{tenant}/oauth2/v2.0/token", data=PW).status_code == 404
