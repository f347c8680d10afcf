"""``graphlang users add`` and ``graphlang users list``: the directory."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import DEFAULT_TENANT, Settings
from graphlang.storage.store import derived_user_id
from tests.cli.cli_support import run_cli


def test_add_prints_the_new_user(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "users", "add", "--upn", "adele@contoso.com", "--display-name", "Adele Vance")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{derived_user_id(DEFAULT_TENANT, 'adele@contoso.com')}\tadele@contoso.com\tAdele Vance\n"


def test_add_with_an_explicit_id_keeps_it_lower_case(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "users", "add", "--upn", "ben@contoso.com", "--id",
                     "5D0F3E5C-8F1B-4B8E-9A52-0E4C6F2D1A77")
    assert result.stdout.split("\t")[0] == "5d0f3e5c-8f1b-4b8e-9a52-0e4c6f2d1a77"


def test_list_shows_every_user_sorted_by_upn(tmp_path: Path) -> None:
    for upn, name in (("zoe@contoso.com", "Zoe"), ("adele@contoso.com", "Adele")):
        run_cli(tmp_path, "users", "add", "--upn", upn, "--display-name", name)
    rows = [line.split("\t") for line in run_cli(tmp_path, "users", "list").stdout.splitlines()]
    assert [(row[2], row[3]) for row in rows] == [("adele@contoso.com", "Adele"), ("zoe@contoso.com", "Zoe")]
    assert {row[1] for row in rows} == {DEFAULT_TENANT}


def test_list_of_an_empty_directory_prints_nothing(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "users", "list")
    assert (result.exit_code, result.stdout) == (0, "")


def test_adding_the_same_upn_again_keeps_one_user(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "users", "add", "--upn", "cleo@contoso.com", "--display-name", "Cleo")
    again = run_cli(tmp_path, "users", "add", "--upn", "cleo@contoso.com", "--display-name", "Cleo")
    assert again.stdout == first.stdout
    assert len(run_cli(tmp_path, "users", "list").stdout.splitlines()) == 1


def test_a_upn_taken_by_another_id_is_an_error(tmp_path: Path) -> None:
    run_cli(tmp_path, "users", "add", "--upn", "dora@contoso.com")
    result = run_cli(tmp_path, "users", "add", "--upn", "DORA@contoso.com", "--id",
                     "5d0f3e5c-8f1b-4b8e-9a52-0e4c6f2d1a77")
    assert result.exit_code == 1
    assert "dora@contoso.com" in result.stderr.lower()
    assert len(run_cli(tmp_path, "users", "list").stdout.splitlines()) == 1


def test_an_added_user_is_addressable_by_upn_on_the_service(tmp_path: Path) -> None:
    run_cli(tmp_path, "users", "add", "--upn", "fay@contoso.com", "--display-name", "Fay")
    token = run_cli(tmp_path, "token", "--user", "admin@contoso.com", "--scopes", "User.ReadWrite.All").stdout.strip()
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        response = client.post("/beta/users/fay@contoso.com/profile/languages",
                               headers={"Authorization": f"Bearer {token}"}, json={"tag": "en"})
        assert response.status_code == 201, response.text
        assert f"users('{derived_user_id(DEFAULT_TENANT, 'fay@contoso.com')}')" in response.json()["@odata.context"]
