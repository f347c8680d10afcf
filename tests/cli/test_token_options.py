"""``graphlang token`` for app-only tokens (``--app --roles``), other tenants, lifetimes and extra claims."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import DEFAULT_TENANT, Settings
from tests.cli.cli_support import run_cli

APP_ID = "C0FFEE00-0000-4000-8000-000000000001"


def claims_of(data_dir: Path, *args: str) -> dict[str, Any]:
    result = run_cli(data_dir, "token", *args)
    assert result.exit_code == 0, result.output
    claims: dict[str, Any] = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    return claims


def test_app_only_token_carries_roles_and_no_user(tmp_path: Path) -> None:
    claims = claims_of(tmp_path, "--app", APP_ID, "--roles", "User.Read.All, User.ReadWrite.All", "--name", "Sync")
    assert claims["roles"] == ["User.Read.All", "User.ReadWrite.All"]
    assert (claims["appid"], claims["azp"], claims["idtyp"]) == (APP_ID.lower(), APP_ID.lower(), "app")
    assert claims["app_displayname"] == "Sync"
    assert "scp" not in claims and "upn" not in claims


def test_app_only_token_defaults_to_the_registered_apps_roles(tmp_path: Path) -> None:
    added = run_cli(tmp_path, "apps", "add", "--app-id", APP_ID, "--name", "Sync", "--roles", "User.Read.All",
                    "--secret", "x")
    assert added.exit_code == 0, added.output
    claims = claims_of(tmp_path, "--app", APP_ID)
    assert (claims["roles"], claims["app_displayname"]) == (["User.Read.All"], "Sync")


def test_app_only_token_works_on_users_paths_of_the_service(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "token", "--app", APP_ID, "--roles", "User.Read.All")
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
        assert client.get("/beta/users/nobody@contoso.com/profile/languages", headers=headers).status_code == 404
        me = client.get("/beta/me/profile/languages", headers=headers)
        assert (me.status_code, me.json()["error"]["code"]) == (400, "BadRequest")


def test_a_delegated_token_names_its_client_app(tmp_path: Path) -> None:
    claims = claims_of(tmp_path, "--user", "alice@contoso.com", "--app", APP_ID)
    assert (claims["azp"], claims["idtyp"], claims["scp"]) == (APP_ID.lower(), "user", "User.ReadWrite")


def test_tenant_expiry_and_extra_claims(tmp_path: Path) -> None:
    tenant = "B2B2B2B2-0000-4000-8000-000000000002"
    claims = claims_of(tmp_path, "--user", "alice@fabrikam.com", "--tenant", tenant, "--expires-in", "-600",
                       "--claim", "ver=1.0", "--claim", "acrs:=[\"c1\"]", "--claim", "name=Alice F.")
    assert claims["tid"] == tenant.lower()
    assert claims["iss"] == f"https://graphlang.local/{tenant.lower()}/v2.0"
    assert claims["exp"] < time.time() - 500
    assert (claims["ver"], claims["acrs"], claims["name"]) == ("1.0", ["c1"], "Alice F.")


@pytest.mark.parametrize(("args", "complaint"), [
    (("--app", APP_ID), "--roles"),
    (("--user", "a@contoso.com", "--roles", "User.Read.All"), "--roles is for app-only tokens"),
    (("--app", APP_ID, "--scopes", "User.Read"), "--scopes is for delegated tokens"),
    (("--user", "a@contoso.com", "--claim", "novalue"), "name=value"),
    (("--user", "a@contoso.com", "--claim", "x:={"), "not JSON"),
])
def test_contradictory_or_malformed_options_are_usage_errors(tmp_path: Path, args: tuple[str, ...],
                                                             complaint: str) -> None:
    result = run_cli(tmp_path, "token", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert complaint in result.stderr


def test_the_default_tenant_is_used_without_tenant(tmp_path: Path) -> None:
    assert claims_of(tmp_path, "--app", APP_ID, "--roles", "")["tid"] == DEFAULT_TENANT
