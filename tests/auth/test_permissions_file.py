"""One permission table, configurable: a deployment replaces rows with GRAPHLANG_PERMISSIONS_FILE."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlang.auth.permissions import DEFAULT_RULES, PermissionTable, load_table
from tests.auth.conftest import MakeWorld


def test_a_deployment_can_switch_application_access_off(make_world: MakeWorld, tmp_path: Path) -> None:
    overrides = tmp_path / "permissions.yaml"
    overrides.write_text("read:\n  other:\n    application: []\nwrite:\n  other:\n    application: []\n")
    world = make_world(permissions_file=overrides)
    app = world.tokens.headers(world.tokens.app(roles="User.ReadWrite.All"))
    response = world.client.get("/beta/users/bob@contoso.com/profile/languages", headers=app)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Insufficient privileges to complete the operation. Reading another user's languages is not allowed "
        "with application permissions in this deployment.")
    delegated = world.tokens.headers(scopes="User.Read.All")
    assert world.client.get("/beta/users/bob@contoso.com/profile/languages", headers=delegated).status_code == 404


def test_a_json_file_can_demand_more_than_graph_does(make_world: MakeWorld, tmp_path: Path) -> None:
    overrides = tmp_path / "permissions.json"
    overrides.write_text('{"read": {"self": {"delegated": ["User.ReadWrite"]}}}')
    world = make_world(permissions_file=overrides)
    read_only = world.tokens.headers(scopes="User.Read")
    response = world.client.get("/beta/me/profile/languages", headers=read_only)
    assert response.status_code == 403
    assert "the least privileged is User.ReadWrite." in response.json()["error"]["message"]


def test_rows_not_named_keep_their_defaults(tmp_path: Path) -> None:
    overrides = tmp_path / "p.yaml"
    overrides.write_text("write:\n  self:\n    delegated: [User.ReadWrite.All]\n")
    table = load_table(overrides)
    defaults = PermissionTable()
    changed = [(r.access, r.target) for r in table.rules if r != defaults.rule(r.access, r.target)]
    assert [(a.value, t.value) for a, t in changed] == [("write", "self")]
    assert len(table.rules) == len(DEFAULT_RULES)


@pytest.mark.parametrize(("text", "complaint"), [
    ("- read\n", "expected a mapping"),
    ("delete:\n  self: {}\n", "'delete' is not 'read' or 'write'"),
    ("read:\n  self:\n    application: [User.Read.All]\n", "unknown key(s) application"),
    ("read:\n  other:\n    delegated: User.Read.All\n", "expected a list of permission names"),
    ("read: [\n", "cannot read the permissions file"),
])
def test_a_malformed_file_refuses_to_start(make_world: MakeWorld, tmp_path: Path, text: str,
                                           complaint: str) -> None:
    overrides = tmp_path / "permissions.yaml"
    overrides.write_text(text)
    with pytest.raises(ValueError, match="permissions") as raised:
        make_world(permissions_file=overrides)
    assert complaint in str(raised.value)
