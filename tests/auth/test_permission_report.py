"""GET /_graphlang/permissions/report: per app and per user, the permissions their tokens carried and the
least privileged ones their calls needed."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from graphlang.auth.permissions import Access, PermissionTable, Target
from graphlang.auth.principal import Principal
from graphlang.auth.report import PermissionReport
from tests.factories import Tokens

REPORT = "/_graphlang/permissions/report"
ADMIN = {"Authorization": "Bearer test-admin-token"}
APP_ID = "a1a1a1a1-0000-4000-8000-000000000001"


def _entry(report: dict[str, Any], section: str, key: str, value: str) -> dict[str, Any]:
    return next(item for item in report[section] if item[key] == value)


def test_report_names_what_each_caller_carried_and_needed(client: TestClient, tokens: Tokens) -> None:
    alice = tokens.headers(upn="alice@contoso.com", scopes="User.ReadWrite.All User.Read Mail.Read")
    client.post("/beta/me/profile/languages", json={"tag": "fr"}, headers=alice)
    client.get("/beta/me/profile/languages", headers=alice)
    reader = tokens.headers(upn="rita@contoso.com", scopes="User.Read")
    client.get("/beta/me/profile", headers=reader)
    client.get("/beta/users/alice@contoso.com/profile/languages", headers=reader)
    app = tokens.headers(tokens.app(app_id=APP_ID, roles="User.ReadWrite.All", app_name="Sync"))
    client.get("/beta/users/alice@contoso.com/profile/languages", headers=app)

    response = client.get(REPORT, headers=ADMIN)
    assert response.status_code == 200, response.text
    report = response.json()

    user = _entry(report, "users", "userPrincipalName", "alice@contoso.com")
    assert user["carried"] == ["Mail.Read", "User.Read", "User.ReadWrite.All"]
    assert user["needed"] == ["User.ReadWrite"]
    assert user["unused"] == ["Mail.Read", "User.Read", "User.ReadWrite.All"]

    rita = _entry(report, "users", "userPrincipalName", "rita@contoso.com")
    assert rita["needed"] == ["User.Read"]
    denied = next(op for op in rita["operations"] if op["denied"])
    assert denied == {"operation": "Reading another user's languages", "allowed": 0, "denied": 1,
                      "leastPrivileged": "User.ReadBasic.All"}

    sync = _entry(report, "apps", "appId", APP_ID)
    assert (sync["displayName"], sync["carried"], sync["needed"], sync["unused"]) == (
        "Sync", ["User.ReadWrite.All"], ["User.Read.All"], ["User.ReadWrite.All"])


def test_reads_of_self_and_others_fold_into_one_permission(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers(upn="olga@contoso.com", scopes="User.Read.All")
    client.get("/beta/me/profile/languages", headers=headers)
    client.get("/beta/users/someone@contoso.com/profile/languages", headers=headers)
    olga = _entry(client.get(REPORT, headers=ADMIN).json(), "users", "userPrincipalName", "olga@contoso.com")
    assert olga["needed"] == ["User.ReadBasic.All"]


def test_the_report_needs_the_admin_token(client: TestClient, tokens: Tokens) -> None:
    assert client.get(REPORT).status_code == 401
    assert client.get(REPORT, headers=tokens.headers(scopes="User.ReadWrite.All")).status_code == 401


def principal(upn: str, scopes: str) -> Principal:
    return Principal("tenant", f"id-of-{upn}", upn, None, None, None, frozenset(scopes.split()), frozenset())


def test_calls_recorded_together_count_as_each_recorded_alone() -> None:
    table = PermissionTable()
    alice = principal("alice@contoso.com", "User.ReadWrite.All")
    rita = principal("rita@contoso.com", "User.Read")
    uses = [(alice, table.check(alice, Access.READ, Target.OTHER))] * 3 + [
        (rita, table.check(rita, Access.WRITE, Target.OTHER)),
        (alice, table.check(alice, Access.WRITE, Target.SELF)),
        (rita, table.check(rita, Access.READ, Target.SELF)),
        (alice, table.check(alice, Access.READ, Target.OTHER)),
    ]
    together, alone = PermissionReport(), PermissionReport()
    together.record_all(iter(uses))
    for caller, check in uses:
        alone.record(caller, check)

    assert together.as_json()["users"] == alone.as_json()["users"]
    report = together.as_json()
    alices = _entry(report, "users", "userPrincipalName", "alice@contoso.com")["operations"]
    assert {operation["operation"]: (operation["allowed"], operation["denied"]) for operation in alices} == {
        "Reading another user's languages": (4, 0), "Changing your own languages": (1, 0)}
    ritas = _entry(report, "users", "userPrincipalName", "rita@contoso.com")["operations"]
    assert sorted((operation["allowed"], operation["denied"]) for operation in ritas) == [(0, 1), (1, 0)]
