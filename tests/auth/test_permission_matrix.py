"""The authorization spec in executable form: token kind x permissions x target x operation -> status and code.

The caller is alice (tenant A). Targets: ``me``; bob, another user of tenant A; carol, a user of tenant B.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from tests.auth.conftest import MakeWorld, World
from tests.factories import Tokens

OTHER_TENANT = "b2b2b2b2-0000-4000-8000-000000000002"
ME_MESSAGE = "/me request is only valid with delegated authentication flow."
FORBIDDEN = "ErrorInsufficientPermissionsInAccessToken"

# What each token may do, straight from the issue: delegated scopes (scp) and application roles.
GRANTS: dict[tuple[str, str], set[str]] = {
    ("delegated", ""): set(),
    ("delegated", "User.Read"): {"read-self"},
    ("delegated", "User.ReadWrite"): {"read-self", "write-self"},
    ("delegated", "User.ReadBasic.All"): {"read-self", "read-other"},
    ("delegated", "User.Read.All"): {"read-self", "read-other"},
    ("delegated", "User.ReadWrite.All"): {"read-self", "write-self", "read-other", "write-other"},
    ("delegated", "Mail.Read Calendars.ReadWrite"): set(),
    ("application", ""): set(),
    ("application", "User.Read.All"): {"read-other"},
    ("application", "User.ReadWrite.All"): {"read-other", "write-other"},
    ("application", "User.ReadBasic.All User.Read"): set(),
}
TARGETS = ("me", "same-tenant user", "other-tenant user")
SUCCESS = {"list": 200, "get": 200, "profile": 200, "update": 200, "create": 201, "delete": 204}
READS = {"list", "get", "profile"}


def expected(kind: str, permissions: str, target: str, operation: str) -> tuple[int, str | None]:
    access = "read" if operation in READS else "write"
    if target == "me" and kind == "application":
        return 400, "BadRequest"
    whose = "self" if target == "me" else "other"
    if f"{access}-{whose}" not in GRANTS[(kind, permissions)]:
        return 403, FORBIDDEN
    if target == "other-tenant user":
        return 404, "Request_ResourceNotFound"
    return SUCCESS[operation], None


@dataclass
class Seeded:
    base: dict[str, str]  # target -> the path up to /profile
    item: dict[str, str]  # target -> an existing language id


def _seed(client: TestClient, tokens: Tokens) -> Seeded:
    owners = {"me": ("alice@contoso.com", None), "same-tenant user": ("bob@contoso.com", None),
              "other-tenant user": ("carol@fabrikam.com", OTHER_TENANT)}
    item = {}
    for target, (upn, tenant) in owners.items():
        created = client.post("/beta/me/profile/languages", json={"tag": "fr-FR", "allowedAudiences": "everyone"},
                              headers=tokens.headers(upn=upn, tenant=tenant))
        assert created.status_code == 201, created.text
        item[target] = created.json()["id"]
    base = {"me": "/beta/me/profile", "same-tenant user": "/beta/users/bob@contoso.com/profile",
            "other-tenant user": "/beta/users/carol@fabrikam.com/profile"}
    return Seeded(base, item)


def _call(client: TestClient, headers: dict[str, str], seeded: Seeded, target: str, operation: str) -> object:
    base, item = seeded.base[target], seeded.item[target]
    languages = f"{base}/languages"
    if operation == "list":
        return client.get(languages, headers=headers)
    if operation == "get":
        return client.get(f"{languages}/{item}", headers=headers)
    if operation == "profile":
        return client.get(base, headers=headers)
    if operation == "update":
        return client.patch(f"{languages}/{item}", json={"spoken": "conversational"}, headers=headers)
    if operation == "create":
        return client.post(languages, json={"tag": "de-DE"}, headers=headers)
    return client.delete(f"{languages}/{item}", headers=headers)


CASES = [(kind, permissions, target) for (kind, permissions) in GRANTS for target in TARGETS]


@pytest.fixture(scope="module")
def world(make_shared_world: MakeWorld) -> World:
    """One service for the whole matrix: every case seeds the items it reads, changes and deletes."""
    return make_shared_world()


@pytest.mark.parametrize(("kind", "permissions", "target"), CASES,
                         ids=[f"{k}[{p or 'nothing'}]->{t}" for k, p, t in CASES])
def test_permission_matrix(world: World, kind: str, permissions: str, target: str) -> None:
    client, tokens = world.client, world.tokens
    seeded = _seed(client, tokens)
    token = (tokens.delegated("alice@contoso.com", scopes=permissions) if kind == "delegated"
             else tokens.app(roles=permissions))
    headers = {"Authorization": f"Bearer {token}"}
    outcomes = {}
    for operation in ("list", "get", "profile", "update", "create", "delete"):
        response = _call(client, headers, seeded, target, operation)
        assert hasattr(response, "status_code")
        code = response.json()["error"]["code"] if response.status_code >= 400 else None  # type: ignore[attr-defined]
        outcomes[operation] = (response.status_code, code)
    assert outcomes == {op: expected(kind, permissions, target, op) for op in outcomes}


def test_me_with_an_app_only_token_is_400_with_graphs_message(world: World) -> None:
    client, tokens = world.client, world.tokens
    response = client.get("/beta/me/profile/languages", headers=tokens.headers(tokens.app(roles="User.Read.All")))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert response.json()["error"]["message"] == ME_MESSAGE


@pytest.mark.parametrize(("kind", "permissions", "request_", "message"), [
    ("delegated", "User.Read", ("POST", "/beta/me/profile/languages"),
     "Changing your own languages requires one of the delegated permissions User.ReadWrite, User.ReadWrite.All; "
     "the least privileged is User.ReadWrite."),
    ("delegated", "User.Read", ("GET", "/beta/users/bob@contoso.com/profile/languages"),
     "Reading another user's languages requires one of the delegated permissions User.ReadBasic.All, "
     "User.Read.All, User.ReadWrite.All; the least privileged is User.ReadBasic.All."),
    ("application", "User.Read.All", ("DELETE", "/beta/users/bob@contoso.com/profile/languages/x"),
     "Changing another user's languages requires one of the application permissions User.ReadWrite.All; "
     "the least privileged is User.ReadWrite.All."),
    ("delegated", "", ("GET", "/beta/me/profile/languages"),
     "Reading your own languages requires one of the delegated permissions User.Read, User.ReadWrite, "
     "User.ReadBasic.All, User.Read.All, User.ReadWrite.All; the least privileged is User.Read."),
])
def test_403_names_the_permissions_that_would_have_been_enough(world: World, kind: str,
                                                               permissions: str, request_: tuple[str, str],
                                                               message: str) -> None:
    client, tokens = world.client, world.tokens
    token = tokens.delegated(scopes=permissions) if kind == "delegated" else tokens.app(roles=permissions)
    response = client.request(*request_, headers=tokens.headers(token), json={"tag": "de"})
    assert response.status_code == 403
    assert response.json()["error"] == {**response.json()["error"], "code": FORBIDDEN,
                                        "message": f"Insufficient privileges to complete the operation. {message}"}


def test_users_path_naming_the_caller_counts_as_their_own(world: World) -> None:
    client, tokens = world.client, world.tokens
    headers = tokens.headers(upn="ivy@contoso.com", scopes="User.ReadWrite")
    created = client.post("/beta/users/Ivy@Contoso.com/profile/languages", json={"tag": "it"}, headers=headers)
    assert created.status_code == 201, created.text
    by_id = client.get(f"/beta/users/{tokens.user_id('ivy@contoso.com')}/profile/languages", headers=headers)
    assert [item["tag"] for item in by_id.json()["value"]] == ["it"]


def test_permission_is_checked_before_the_user_is_looked_up(world: World) -> None:
    client, tokens = world.client, world.tokens
    headers = tokens.headers(scopes="User.Read")
    for ref in ("bob@contoso.com", "nobody@contoso.com"):
        assert client.get(f"/beta/users/{ref}/profile/languages", headers=headers).status_code == 403
