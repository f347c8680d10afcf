"""``graphlang permissions``: the enforced table, least privileged first, including a deployment's overrides."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from click.testing import CliRunner, Result

from graphlang.cli import main
from tests.cli.cli_support import run_cli


def with_permissions_file(data_dir: Path, path: Path, *args: str) -> Result:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GRAPHLANG_")}
    env["GRAPHLANG_PERMISSIONS_FILE"] = str(path)
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], env=env)


def test_prints_the_default_table(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "permissions")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["operation", "delegated", "application"]
    rows = {line.split("  ")[0]: " ".join(line.split()) for line in lines[1:5]}
    assert rows["Reading your own languages"].endswith(
        "User.Read, User.ReadWrite, User.ReadBasic.All, User.Read.All, User.ReadWrite.All "
        "(app-only calls count as another user's)")
    assert rows["Changing another user's languages"] == (
        "Changing another user's languages User.ReadWrite.All User.ReadWrite.All")
    assert "least privileged" in lines[-1]


def test_json_output_is_the_override_file_format_and_reflects_it(tmp_path: Path) -> None:
    overrides = tmp_path / "permissions.yaml"
    overrides.write_text("read:\n  other:\n    application: []\n")
    result = with_permissions_file(tmp_path, overrides, "permissions", "--json")
    assert result.exit_code == 0, result.output
    table = orjson.loads(result.stdout)
    assert table["read"]["other"] == {"delegated": ["User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All"],
                                      "application": []}
    assert table["write"]["self"] == {"delegated": ["User.ReadWrite", "User.ReadWrite.All"]}


def test_a_broken_override_file_is_reported(tmp_path: Path) -> None:
    overrides = tmp_path / "permissions.json"
    overrides.write_text('{"read": {"others": {"delegated": ["User.Read"]}}}')
    result = with_permissions_file(tmp_path, overrides, "permissions")
    assert result.exit_code == 1
    assert "'read.others' is not a row" in result.output
