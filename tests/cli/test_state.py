"""``graphlang export`` and ``graphlang import``: the whole state as a snapshot file, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from graphlang.cli import main
from graphlang.config import Settings
from tests.api.controls_support import ADMIN, MakeClient
from tests.api.support import create
from tests.factories import Tokens


@pytest.fixture
def stored_url(database_url: str, tmp_path: Path) -> str:
    """A database the CLI can open too: the test's PostgreSQL database, or a SQLite file."""
    return f"sqlite:///{tmp_path / 'state.db'}" if database_url.startswith("sqlite") else database_url


def graphlang(settings: Settings, url: str, *args: str, stdin: str | None = None) -> Result:
    env = {"GRAPHLANG_DATA_DIR": str(settings.data_dir), "GRAPHLANG_DATABASE_URL": url,
           "GRAPHLANG_SIGNING_KEY_FILE": str(settings.signing_key_file)}
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def populated(make_client: MakeClient, tokens: Tokens, url: str) -> TestClient:
    client = make_client(database_url=url)
    alice = tokens.headers(upn="alice@contoso.com")
    create(client, alice, {"tag": "nb-NO", "spoken": "nativeOrBilingual", "source": {"type": ["User"]},
                           "inference": {"confidenceScore": 0.5, "userHasVerifiedAccuracy": True}})
    create(client, alice, {"tag": "en-US"})
    create(client, tokens.headers(upn="bob@contoso.com"), {"tag": "fr-FR"})
    seeded = client.post("/_graphlang/seed", headers=ADMIN, json={"apps": [
        {"id": "hr-sync", "displayName": "HR sync", "roles": ["User.ReadWrite.All"]}]})
    assert seeded.status_code == 200
    return client


def exported_tables(settings: Settings, url: str) -> Any:
    result = graphlang(settings, url, "export")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["tables"]


def test_export_then_import_restores_the_exact_state(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str, tmp_path: Path) -> None:
    client = populated(make_client, tokens, stored_url)
    target = tmp_path / "state.json"
    exported = graphlang(settings, stored_url, "export", str(target))
    assert exported.exit_code == 0, exported.output
    assert "exported 2 users, 1 apps, 3 languages" in exported.stderr
    document = json.loads(target.read_text())
    assert document["format"] == "graphlang-snapshot"
    create(client, tokens.headers(upn="carol@contoso.com"), {"tag": "de-DE"})
    imported = graphlang(settings, stored_url, "import", str(target))
    assert imported.exit_code == 0, imported.output
    assert "imported 2 users, 1 apps, 3 languages" in imported.stdout
    assert exported_tables(settings, stored_url) == document["tables"]


def test_the_offline_snapshot_is_the_control_apis_snapshot(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str) -> None:
    client = populated(make_client, tokens, stored_url)
    over_http = client.get("/_graphlang/snapshot", headers=ADMIN).json()["tables"]
    assert exported_tables(settings, stored_url) == over_http


def test_import_reads_standard_input(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str) -> None:
    populated(make_client, tokens, stored_url)
    document = graphlang(settings, stored_url, "export").stdout
    graphlang(settings, stored_url, "import", "-", stdin=json.dumps({**json.loads(document), "tables": {}}))
    assert all(not table["rows"] for table in exported_tables(settings, stored_url).values())
    assert graphlang(settings, stored_url, "import", "-", stdin=document).exit_code == 0
    assert exported_tables(settings, stored_url) == json.loads(document)["tables"]


def test_a_bad_snapshot_file_is_refused_and_nothing_is_imported(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str, tmp_path: Path) -> None:
    populated(make_client, tokens, stored_url)
    before = exported_tables(settings, stored_url)
    broken = {"format": "graphlang-snapshot", "version": 1, "tables": {
        "users": before["users"],
        "languages": {"columns": before["languages"]["columns"], "rows": [before["languages"]["rows"][0][:-1]]}}}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = graphlang(settings, stored_url, "import", str(path))
    assert result.exit_code == 1
    assert "Row 0 of the snapshot's table 'languages'" in result.output
    assert "Nothing was imported." in result.output
    path.write_text("{not json")
    assert "is not valid JSON" in graphlang(settings, stored_url, "import", str(path)).output
    assert exported_tables(settings, stored_url) == before


def test_export_and_import_refuse_an_in_memory_database(settings: Settings, tmp_path: Path) -> None:
    result = graphlang(settings, "sqlite://", "export")
    assert result.exit_code == 2
    assert "in memory" in result.output


def test_export_to_a_place_it_cannot_write_is_an_error_naming_it(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "state.json"
    result = graphlang(settings, f"sqlite:///{tmp_path / 'other.db'}", "export", str(target))
    assert result.exit_code == 1
    assert f"cannot write {target}" in result.output
    assert not target.parent.exists()
