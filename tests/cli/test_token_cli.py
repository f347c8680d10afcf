"""``graphlang token``: a signed, Entra-shaped JWT on stdout, from a key kept in the data directory."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.auth.keys import load_or_create
from graphlang.config import DEFAULT_TENANT, Settings
from graphlang.storage.store import derived_user_id
from tests.cli.cli_support import run_cli

KEY_FILE = "signing-key.pem"


def token_of(data_dir: Path, *args: str) -> str:
    result = run_cli(data_dir, "token", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def verified_claims(data_dir: Path, token: str) -> dict[str, Any]:
    key = load_or_create(data_dir / KEY_FILE)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    claims: dict[str, Any] = jwt.decode(token, key.public_key, algorithms=["RS256"],
                                        audience="https://graph.microsoft.com")
    return claims


def test_prints_only_a_jwt_and_a_newline(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "token", "--user", "alice@contoso.com")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    assert len(result.stdout.strip().split(".")) == 3


def test_claims_are_entra_shaped(tmp_path: Path) -> None:
    token = token_of(tmp_path, "--user", "alice@contoso.com", "--name", "Alice Liddell").strip()
    claims = verified_claims(tmp_path, token)
    user_id = derived_user_id(DEFAULT_TENANT, "alice@contoso.com")
    assert claims["iss"] == f"https://graphlang.local/{DEFAULT_TENANT}/v2.0"
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["tid"] == DEFAULT_TENANT
    assert claims["oid"] == user_id
    assert claims["upn"] == claims["preferred_username"] == "alice@contoso.com"
    assert claims["name"] == "Alice Liddell"
    assert claims["scp"] == "User.ReadWrite"
    assert claims["iat"] == claims["nbf"]
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(("scopes", "scp"), [
    ("User.Read", "User.Read"),
    ("User.Read User.ReadWrite.All", "User.Read User.ReadWrite.All"),
    ("User.Read, User.ReadWrite.All", "User.Read User.ReadWrite.All"),
])
def test_scopes_become_the_scp_claim(tmp_path: Path, scopes: str, scp: str) -> None:
    token = token_of(tmp_path, "--user", "alice@contoso.com", "--scopes", scopes).strip()
    assert verified_claims(tmp_path, token)["scp"] == scp


def test_key_pair_is_created_once_in_the_data_dir_and_reused(tmp_path: Path) -> None:
    first = token_of(tmp_path, "--user", "alice@contoso.com").strip()
    key_file = tmp_path / KEY_FILE
    pem = key_file.read_bytes()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = token_of(tmp_path, "--user", "bob@contoso.com").strip()
    assert key_file.read_bytes() == pem
    assert jwt.get_unverified_header(first)["kid"] == jwt.get_unverified_header(second)["kid"]
    verified_claims(tmp_path, second)


def test_the_user_is_added_to_the_directory_once(tmp_path: Path) -> None:
    token_of(tmp_path, "--user", "carol@contoso.com", "--name", "Carol")
    token_of(tmp_path, "--user", "CAROL@contoso.com")
    listing = run_cli(tmp_path, "users", "list").stdout.splitlines()
    assert listing == [f"{derived_user_id(DEFAULT_TENANT, 'carol@contoso.com')}\t{DEFAULT_TENANT}\t"
                       "carol@contoso.com\tCarol"]


def test_an_added_users_id_and_name_are_used(tmp_path: Path) -> None:
    user_id = "5d0f3e5c-8f1b-4b8e-9a52-0e4c6f2d1a77"
    assert run_cli(tmp_path, "users", "add", "--upn", "dave@contoso.com", "--display-name", "Dave",
                   "--id", user_id).exit_code == 0
    claims = verified_claims(tmp_path, token_of(tmp_path, "--user", "Dave@Contoso.com").strip())
    assert (claims["oid"], claims["name"], claims["upn"]) == (user_id, "Dave", "dave@contoso.com")


def test_the_service_on_the_same_data_dir_accepts_the_token(tmp_path: Path) -> None:
    token = token_of(tmp_path, "--user", "erin@contoso.com", "--name", "Erin").strip()
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        created = client.post("/beta/me/profile/languages", headers=headers, json={"tag": "en"})
        assert created.status_code == 201, created.text
        assert created.json()["createdBy"]["user"] == {
            "displayName": "Erin", "id": derived_user_id(DEFAULT_TENANT, "erin@contoso.com")}


def test_without_a_name_the_service_names_the_caller_by_upn(tmp_path: Path) -> None:
    token = token_of(tmp_path, "--user", "fred@contoso.com").strip()
    assert "name" not in verified_claims(tmp_path, token)
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        created = client.post("/beta/me/profile/languages", headers={"Authorization": f"Bearer {token}"},
                              json={"tag": "en"})
        assert created.json()["createdBy"]["user"]["displayName"] == "fred@contoso.com"


def test_a_token_from_another_data_dir_is_rejected(tmp_path: Path) -> None:
    token = token_of(tmp_path / "elsewhere", "--user", "erin@contoso.com").strip()
    with TestClient(create_app(Settings(data_dir=tmp_path / "here"))) as client:
        response = client.get("/beta/me/profile/languages", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_without_a_user_it_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "token")
    assert result.exit_code == 2
    assert result.stdout == ""
