"""``graphlang apps``: registering the apps the token endpoint serves, keeping only a hash of each secret."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import DEFAULT_TENANT, Settings
from tests.cli.cli_support import run_cli

APP_ID = "a1a1a1a1-0000-4000-8000-000000000001"
TOKEN_PATH = f"/{DEFAULT_TENANT}/oauth2/v2.0/token"
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "client_id": APP_ID,
                      "scope": "https://graph.microsoft.com/.default"}


def test_an_added_app_gets_tokens_for_its_roles_with_its_secret(tmp_path: Path) -> None:
    added = run_cli(tmp_path, "apps", "add", "--app-id", APP_ID, "--name", "Reporting", "--secret", "p@ss",
                    "--roles", "User.Read.All,User.ReadWrite.All")
    assert added.exit_code == 0, added.output
    assert added.stdout == f"{APP_ID}\t{DEFAULT_TENANT}\tReporting\tUser.Read.All User.ReadWrite.All\n"
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        good = client.post(TOKEN_PATH, data={**CLIENT_CREDENTIALS, "client_secret": "p@ss"})
        bad = client.post(TOKEN_PATH, data={**CLIENT_CREDENTIALS, "client_secret": "P@SS"})
    assert good.status_code == 200, good.text
    assert bad.status_code == 401


def test_without_a_secret_one_is_generated_and_shown_once(tmp_path: Path) -> None:
    added = run_cli(tmp_path, "apps", "add", "--app-id", APP_ID, "--roles", "User.Read.All")
    assert added.exit_code == 0, added.output
    secret = added.stdout.splitlines()[1].removeprefix("client secret (shown once): ")
    assert len(secret) >= 32
    listing = run_cli(tmp_path, "apps", "list").stdout
    assert secret not in listing
    assert secret.encode() not in (tmp_path / "graphlang.db").read_bytes()
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert client.post(TOKEN_PATH, data={**CLIENT_CREDENTIALS, "client_secret": secret}).status_code == 200


def test_list_shows_each_app_without_its_secret(tmp_path: Path) -> None:
    run_cli(tmp_path, "apps", "add", "--app-id", APP_ID, "--name", "Reporting", "--secret", "hunter2")
    run_cli(tmp_path, "apps", "add", "--app-id", "b1b1b1b1-0000-4000-8000-000000000002", "--public",
            "--tenant", "B2B2B2B2-0000-4000-8000-000000000002")
    listing = run_cli(tmp_path, "apps", "list")
    assert listing.exit_code == 0
    assert listing.stdout.splitlines() == [
        f"{APP_ID}\t{DEFAULT_TENANT}\tReporting\tconfidential\t",
        "b1b1b1b1-0000-4000-8000-000000000002\tb2b2b2b2-0000-4000-8000-000000000002\t\tpublic\t",
    ]
    assert "hunter2" not in listing.stdout


def test_public_and_secret_together_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "apps", "add", "--app-id", APP_ID, "--public", "--secret", "x")
    assert result.exit_code == 2
    assert run_cli(tmp_path, "apps", "list").stdout == ""
