"""CORS: configurable origins, preflight answered before authentication, Graph's headers exposed."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.controls_support import ADMIN, MakeClient
from tests.api.support import ME
from tests.factories import Tokens

APP_ORIGIN = "http://localhost:5173"
PREFLIGHT = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "PATCH",
             "Access-Control-Request-Headers": "authorization, content-type, if-match, client-request-id"}


def test_a_preflight_from_an_allowed_origin_is_answered_before_authentication(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(APP_ORIGIN,))
    response = client.options(f"{ME}/some-id", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == PREFLIGHT["Access-Control-Request-Headers"]
    assert int(response.headers["access-control-max-age"]) > 0
    assert "Origin" in response.headers["vary"]
    assert "www-authenticate" not in response.headers


def test_a_preflight_on_any_path_is_never_401_or_405(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(APP_ORIGIN,))
    for path in ("/beta/$batch", "/beta/users/x/profile/languages", "/_graphlang/faults", "/no/such/path"):
        assert client.options(path, headers=PREFLIGHT).status_code == 204


def test_a_preflight_from_another_origin_gets_no_permission(make_client: MakeClient) -> None:
    client = make_client(cors_origins=(APP_ORIGIN,))
    response = client.options(ME, headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers


def test_without_configured_origins_no_origin_is_allowed_and_preflights_still_do_not_401(
        client: TestClient) -> None:
    response = client.options(ME, headers=PREFLIGHT)
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


def test_responses_to_an_allowed_origin_expose_graphs_headers(make_client: MakeClient, tokens: Tokens) -> None:
    client = make_client(cors_origins=("https://app.contoso.com", APP_ORIGIN + "/"))
    created = client.post(ME, headers={**tokens.headers(), "Origin": APP_ORIGIN}, json={"tag": "en"})
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == APP_ORIGIN
    exposed = {name.strip().lower() for name in created.headers["access-control-expose-headers"].split(",")}
    assert {"request-id", "client-request-id", "etag", "location", "retry-after"} <= exposed
    refused = client.get(ME, headers={"Origin": APP_ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == APP_ORIGIN


def test_responses_to_another_origin_carry_no_permission(make_client: MakeClient, tokens: Tokens) -> None:
    client = make_client(cors_origins=(APP_ORIGIN,))
    response = client.get(ME, headers={**tokens.headers(), "Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "Origin" in response.headers["vary"]


def test_a_star_allows_any_origin(make_client: MakeClient) -> None:
    client = make_client(cors_origins=("*",))
    response = client.get("/_graphlang/faults", headers={**ADMIN, "Origin": "https://anything.example"})
    assert response.headers["access-control-allow-origin"] == "https://anything.example"
    preflight = client.options(ME, headers={**PREFLIGHT, "Origin": "https://anything.example"})
    assert preflight.headers["access-control-allow-origin"] == "https://anything.example"
