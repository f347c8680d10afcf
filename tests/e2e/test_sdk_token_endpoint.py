"""The official SDK with tokens from graphlang's own token endpoint, found through OIDC discovery: an app
registered with ``graphlang apps add`` (client_credentials, on /users/{id}) and the delegated test grant
(password, on /me)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable

import httpx
import pytest
from msgraph_beta.generated.models.language_proficiency import LanguageProficiency
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError

from graphlang.config import DEFAULT_TENANT
from tests.e2e.process import GraphlangServer, SdkClient, graphlang_command

pytestmark = pytest.mark.e2e

APP_ID = "5e5e5e5e-0000-4000-8000-00000000e2e1"
SECRET = "e2e-client-secret"
OWNER = "token-endpoint-owner@contoso.com"


def _token_endpoint(server: GraphlangServer) -> str:
    discovery = httpx.get(f"{server.base_url}/{DEFAULT_TENANT}/v2.0/.well-known/openid-configuration", timeout=10)
    assert discovery.status_code == 200, discovery.text
    endpoint: str = discovery.json()["token_endpoint"]
    assert endpoint.startswith(server.base_url)
    return endpoint


def _token(endpoint: str, form: dict[str, str]) -> str:
    response = httpx.post(endpoint, data=form, timeout=10)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def registered_app(graphlang_server: GraphlangServer) -> str:
    added = subprocess.run([*graphlang_command(), "apps", "add", "--app-id", APP_ID, "--name", "E2E Sync",
                            "--secret", SECRET, "--roles", "User.ReadWrite.All"],
                           env=graphlang_server.env, capture_output=True, text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    return _token_endpoint(graphlang_server)


def test_sdk_with_a_client_credentials_token_works_on_users_paths(
        registered_app: str, make_sdk_client: Callable[[str], SdkClient]) -> None:
    delegated = _token(registered_app, {"grant_type": "password", "client_id": APP_ID, "client_secret": SECRET,
                                        "username": OWNER, "password": "unused",
                                        "scope": "https://graph.microsoft.com/User.ReadWrite openid"})
    app_only = _token(registered_app, {"grant_type": "client_credentials", "client_id": APP_ID,
                                       "client_secret": SECRET, "scope": "https://graph.microsoft.com/.default"})
    owner, app = make_sdk_client(delegated), make_sdk_client(app_only)

    async def flow() -> None:
        mine = await owner.client.me().profile.languages.post(LanguageProficiency(tag="fi-FI"))
        assert mine is not None and mine.display_name == "Finnish"
        languages = app.client.users.by_user_id(OWNER).profile.languages
        added = await languages.post(LanguageProficiency(tag="et"))
        assert added is not None and added.created_by is not None and added.created_by.application is not None
        assert added.created_by.application.display_name == "E2E Sync"
        listed = await languages.get()
        assert listed is not None and listed.value is not None
        assert sorted(item.tag or "" for item in listed.value) == ["et", "fi-FI"]
        with pytest.raises(ODataError) as caught:
            await app.client.me().profile.languages.get()
        assert caught.value.response_status_code == 400
        assert caught.value.error is not None
        assert caught.value.error.message == "/me request is only valid with delegated authentication flow."

    asyncio.run(flow())


def test_sdk_with_a_delegated_test_grant_token_works_on_me(
        registered_app: str, make_sdk_client: Callable[[str], SdkClient]) -> None:
    token = _token(registered_app, {"grant_type": "password", "client_id": APP_ID, "client_secret": SECRET,
                                    "username": "token-endpoint-reader@contoso.com", "password": "unused",
                                    "scope": "https://graph.microsoft.com/User.Read"})
    sdk = make_sdk_client(token)

    async def flow() -> None:
        listed = await sdk.client.me().profile.languages.get()
        assert listed is not None and listed.value == []
        with pytest.raises(ODataError) as caught:
            await sdk.client.me().profile.languages.post(LanguageProficiency(tag="lv"))
        assert caught.value.response_status_code == 403
        assert caught.value.error is not None
        assert caught.value.error.code == "ErrorInsufficientPermissionsInAccessToken"
        assert "the least privileged is User.ReadWrite" in (caught.value.error.message or "")

    asyncio.run(flow())
