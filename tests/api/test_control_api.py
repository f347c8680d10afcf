"""The control API under /_graphlang/: health, readiness, reset, seed, snapshot and the request journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from graphlang.app import GraphlangApp
from graphlang.controls.journal import Journal
from graphlang.services import Services
from graphlang.storage.engine import make_engine
from graphlang.storage.schema import metadata
from graphlang.storage.store import Store
from tests.api.controls_support import ADMIN, MakeClient, add_fault, journal
from tests.api.support import ME, assert_graph_error, create, listed
from tests.factories import Tokens

ADELE_LANGUAGE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
FIXTURE: dict[str, Any] = {
    "users": [
        {"userPrincipalName": "adele@contoso.com", "displayName": "Adele Vance", "languages": [
            {"id": ADELE_LANGUAGE_ID, "tag": "en-US", "spoken": "nativeOrBilingual"},
            {"tag": "nb-NO", "reading": "professionalWorking", "allowedAudiences": "contacts"},
        ]},
        {"userPrincipalName": "megan@contoso.com", "languages": [{"tag": "fr-FR"}]},
    ],
    "apps": [{"id": "7e1b0c9a-1111-4222-8333-944445555666", "displayName": "HR sync",
              "roles": ["User.ReadWrite.All"], "secret": "fixture-secret"}],
}
FIXTURE_YAML = """\
users:
  - userPrincipalName: adele@contoso.com
    displayName: Adele Vance
    languages:
      - id: 0f8fad5b-d9cb-469f-a165-70867728950e
        tag: en-US
        spoken: nativeOrBilingual
      - tag: nb-NO
        reading: professionalWorking
        allowedAudiences: contacts
  - userPrincipalName: megan@contoso.com
    languages:
      - tag: fr-FR
apps:
  - id: 7e1b0c9a-1111-4222-8333-944445555666
    displayName: HR sync
    roles: [User.ReadWrite.All]
    secret: fixture-secret
"""


def tags(client: TestClient, tokens: Tokens, upn: str) -> list[str]:
    return sorted(item["tag"] for item in listed(client, tokens.headers(upn=upn)))


def snapshot(client: TestClient) -> dict[str, Any]:
    response = client.get("/_graphlang/snapshot", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def rows(document: dict[str, Any], table: str) -> list[dict[str, Any]]:
    content = document["tables"][table]
    return [dict(zip(content["columns"], row, strict=True)) for row in content["rows"]]


# -- access ---------------------------------------------------------------------------------------

GUARDED = [("POST", "/_graphlang/reset"), ("POST", "/_graphlang/seed"), ("GET", "/_graphlang/snapshot"),
           ("PUT", "/_graphlang/snapshot"), ("GET", "/_graphlang/requests"), ("DELETE", "/_graphlang/requests"),
           ("GET", "/_graphlang/faults"), ("POST", "/_graphlang/faults"), ("DELETE", "/_graphlang/faults"),
           ("GET", "/_graphlang/faults/1"), ("DELETE", "/_graphlang/faults/1"),
           ("GET", "/_graphlang/throttling"), ("PATCH", "/_graphlang/throttling")]


def test_every_control_route_but_health_and_ready_needs_the_admin_token(client: TestClient, tokens: Tokens) -> None:
    # A user's token, even a powerful one, is not the admin token.
    user = tokens.headers(scopes="User.ReadWrite.All")
    for method, path in GUARDED:
        for headers in ({}, {"x-graphlang-admin-token": "wrong"}, user):
            assert_graph_error(client.request(method, path, headers=headers), 401, "InvalidAuthenticationToken")


def test_the_admin_token_works_as_a_header_or_a_bearer_token(client: TestClient) -> None:
    assert client.get("/_graphlang/faults", headers=ADMIN).status_code == 200
    assert client.get("/_graphlang/faults", headers={"Authorization": "Bearer test-admin-token"}).status_code == 200


def test_health_and_ready_answer_without_a_token(client: TestClient) -> None:
    health = client.get("/_graphlang/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = client.get("/_graphlang/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_ready_is_503_with_retry_after_when_the_database_is_unreachable(
        client: TestClient, services: Services) -> None:
    unreachable = make_engine("postgresql://postgres@127.0.0.1:1/graphlang")
    services.store = Store(unreachable)
    try:
        response = client.get("/_graphlang/ready")
    finally:
        unreachable.dispose()
    assert_graph_error(response, 503, "serviceNotAvailable", "database")
    assert response.headers["Retry-After"].isdigit()
    assert client.get("/_graphlang/health").status_code == 200


def test_with_the_control_api_off_its_routes_do_not_exist(make_client: MakeClient) -> None:
    client = make_client(control_api=False)
    for method, path in GUARDED:
        assert_graph_error(client.request(method, path, headers=ADMIN), 404, "UnknownPath")


def test_with_the_control_api_off_health_and_ready_still_answer(make_client: MakeClient) -> None:
    client = make_client(control_api=False)
    assert client.get("/_graphlang/health").status_code == 200
    assert client.get("/_graphlang/ready").status_code == 200


def test_with_the_control_api_off_requests_are_neither_journaled_nor_counted_in_the_permission_report(
        make_client: MakeClient) -> None:
    # Nothing could read them: recording them would only cost every request.
    client = make_client(control_api=False)
    app: GraphlangApp = client.app  # type: ignore[assignment]
    assert not any(isinstance(getattr(observer, "__self__", None), Journal) for observer in app.observers)
    assert "record_permission_use" not in {observer.__name__ for observer in app.observers}
    assert client.get("/beta/me/profile/languages").status_code == 401


# -- reset ----------------------------------------------------------------------------------------


def test_reset_wipes_every_users_languages_and_the_same_users_can_start_again(
        client: TestClient, tokens: Tokens) -> None:
    alice, bob = tokens.headers(upn="alice@contoso.com"), tokens.headers(upn="bob@contoso.com")
    create(client, alice)
    create(client, bob)
    response = client.post("/_graphlang/reset", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {"reset": "all", "seeded": None}
    assert rows(snapshot(client), "users") == []
    assert listed(client, bob) == []
    # The server forgot that alice exists, so her next write creates her again.
    create(client, alice)


def test_reset_clears_the_journal_and_added_fault_rules(client: TestClient, tokens: Tokens) -> None:
    client.get(ME, headers=tokens.headers())
    add_fault(client, {"status": 500})
    client.post("/_graphlang/reset", headers=ADMIN)
    assert journal(client) == []
    assert client.get("/_graphlang/faults", headers=ADMIN).json()["value"] == []


def test_reset_reloads_the_seed_file_unless_told_not_to(
        make_client: MakeClient, tokens: Tokens, tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(FIXTURE))
    client = make_client(seed_file=seed_file)
    create(client, tokens.headers(upn="adele@contoso.com"), {"tag": "de-DE"})
    response = client.post("/_graphlang/reset", headers=ADMIN)
    assert response.json()["seeded"] == {"users": 2, "apps": 1, "languages": 3, "languagesCreated": 3}
    assert tags(client, tokens, "adele@contoso.com") == ["en-US", "nb-NO"]
    assert client.post("/_graphlang/reset?reseed=false", headers=ADMIN).json()["seeded"] is None
    assert tags(client, tokens, "adele@contoso.com") == []


def test_reset_of_one_user_keeps_everyone_else(make_client: MakeClient, tokens: Tokens, tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(FIXTURE_YAML)
    client = make_client(seed_file=seed_file)
    client.post("/_graphlang/reset", headers=ADMIN)
    adele = tokens.headers(upn="adele@contoso.com")
    create(client, adele, {"tag": "de-DE"})
    create(client, tokens.headers(upn="megan@contoso.com"), {"tag": "it-IT"})
    response = client.post("/_graphlang/reset?user=ADELE@contoso.com", headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["languagesRemoved"] == 3
    assert response.json()["seeded"]["languages"] == 2
    assert tags(client, tokens, "adele@contoso.com") == ["en-US", "nb-NO"]
    assert tags(client, tokens, "megan@contoso.com") == ["fr-FR", "it-IT"]
    client.post("/_graphlang/reset?user=megan@contoso.com&reseed=false", headers=ADMIN)
    assert tags(client, tokens, "megan@contoso.com") == []


def test_reset_of_an_unknown_user_is_404(client: TestClient) -> None:
    assert_graph_error(client.post("/_graphlang/reset?user=nobody@contoso.com", headers=ADMIN), 404,
                       "Request_ResourceNotFound", "nobody@contoso.com")


def test_reset_with_a_bad_flag_is_400_and_changes_nothing(client: TestClient, tokens: Tokens) -> None:
    create(client, tokens.headers())
    assert_graph_error(client.post("/_graphlang/reset?reseed=maybe", headers=ADMIN), 400, "BadRequest", "reseed")
    assert len(listed(client, tokens.headers())) == 1


# -- seed -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", json.dumps(FIXTURE)),
    ("application/yaml", FIXTURE_YAML),
    ("text/yaml; charset=utf-8", FIXTURE_YAML),
], ids=["json", "yaml", "yaml-with-charset"])
def test_seed_loads_users_apps_and_languages_from_json_or_yaml(
        client: TestClient, tokens: Tokens, content_type: str, body: str) -> None:
    response = client.post("/_graphlang/seed", headers={**ADMIN, "Content-Type": content_type}, content=body)
    assert response.status_code == 200, response.text
    assert response.json()["seeded"] == {"users": 2, "apps": 1, "languages": 3, "languagesCreated": 3}
    adele = tokens.headers(upn="adele@contoso.com")
    fixed = client.get(f"{ME}/{ADELE_LANGUAGE_ID}", headers=adele)
    assert fixed.status_code == 200
    body_json = fixed.json()
    assert (body_json["tag"], body_json["spoken"], body_json["displayName"]) == (
        "en-US", "nativeOrBilingual", "English")
    assert body_json["createdBy"]["user"]["displayName"] == "Adele Vance"
    nb = next(item for item in listed(client, adele) if item["tag"] == "nb-NO")
    assert nb["allowedAudiences"] == "contacts"
    assert tags(client, tokens, "megan@contoso.com") == ["fr-FR"]
    state = snapshot(client)
    [app] = rows(state, "apps")
    assert (app["display_name"], app["roles"]) == ("HR sync", "User.ReadWrite.All")
    assert app["secret_hash"] and "fixture-secret" not in app["secret_hash"]
    assert {user["display_name"] for user in rows(state, "users")} == {"Adele Vance", None}


def test_seeding_twice_leaves_one_copy_of_each_item(client: TestClient, tokens: Tokens) -> None:
    for _ in range(2):
        client.post("/_graphlang/seed", headers=ADMIN, json=FIXTURE)
    second = client.post("/_graphlang/seed", headers=ADMIN, json=FIXTURE).json()["seeded"]
    assert second["languagesCreated"] == 0
    assert tags(client, tokens, "adele@contoso.com") == ["en-US", "nb-NO"]
    assert len(rows(snapshot(client), "apps")) == 1


@pytest.mark.parametrize(("fixture", "named"), [
    ({"users": [{"userPrincipalName": "a@contoso.com", "languages": [{"tag": "en", "spoken": "fluent"}]}]},
     "users[0].languages[0]"),
    ({"users": [{"userPrincipalName": "a@contoso.com", "languages": [{"colour": "red"}]}]}, "colour"),
    ({"users": [{"displayName": "No UPN"}]}, "users[0].userPrincipalName"),
    ({"users": [{"userPrincipalName": "a@contoso.com", "id": "not-a-guid"}]}, "users[0].id"),
    ({"users": [{"userPrincipalName": "a@contoso.com", "manager": "b"}]}, "manager"),
    ({"apps": [{"displayName": "no id"}]}, "apps[0].id"),
    ({"apps": [{"id": "x", "roles": "User.Read.All", "secret": 5}]}, "apps[0].secret"),
    ({"groups": []}, "groups"),
    ([], "object"),
])
def test_a_bad_fixture_is_400_naming_the_place_and_stores_nothing(
        client: TestClient, tokens: Tokens, fixture: object, named: str) -> None:
    bad = {"users": [FIXTURE["users"][1]], **fixture} if isinstance(fixture, dict) and "users" not in fixture \
        else fixture
    assert_graph_error(client.post("/_graphlang/seed", headers=ADMIN, json=bad), 400, "BadRequest", named)
    assert rows(snapshot(client), "users") == []


def test_a_fixture_that_contradicts_the_stored_users_is_400_and_stores_nothing(
        client: TestClient, tokens: Tokens) -> None:
    create(client, tokens.headers(upn="adele@contoso.com"))
    taken = {"users": [{"userPrincipalName": "megan@contoso.com", "languages": [{"tag": "fr"}]},
                       {"userPrincipalName": "adele@contoso.com", "id": "11111111-1111-4111-8111-111111111111"}]}
    assert_graph_error(client.post("/_graphlang/seed", headers=ADMIN, json=taken), 400, "BadRequest",
                       "adele@contoso.com")
    assert [user["user_principal_name"] for user in rows(snapshot(client), "users")] == ["adele@contoso.com"]


@pytest.mark.parametrize("score", [".nan", ".inf", "-.inf"])
def test_a_yaml_fixture_with_a_non_finite_number_is_400_and_stores_nothing(client: TestClient, score: str) -> None:
    fixture = ("users: [{userPrincipalName: a@contoso.com, "
               f"languages: [{{tag: en, inference: {{confidenceScore: {score}}}}}]}}]")
    response = client.post("/_graphlang/seed", headers={**ADMIN, "Content-Type": "application/yaml"}, content=fixture)

    assert_graph_error(response, 400, "BadRequest", "users[0].languages[0]", "inference/confidenceScore", "finite")
    assert rows(snapshot(client), "users") == []


def test_seed_rejects_bodies_that_are_not_json_or_yaml(client: TestClient) -> None:
    assert_graph_error(client.post("/_graphlang/seed", headers={**ADMIN, "Content-Type": "text/plain"},
                                   content="users: []"), 415, "UnsupportedMediaType", "text/plain")
    assert_graph_error(client.post("/_graphlang/seed", headers={**ADMIN, "Content-Type": "application/yaml"},
                                   content="users: [unclosed"), 400, "BadRequest", "YAML")
    assert_graph_error(client.post("/_graphlang/seed", headers={**ADMIN, "Content-Type": "application/json"},
                                   content=""), 400, "BadRequest", "empty")


# -- snapshot -------------------------------------------------------------------------------------

RICH = {"tag": "nb-NO", "spoken": "nativeOrBilingual", "written": "professionalWorking", "reading": "elementary",
        "proficiency": "limitedWorking", "allowedAudiences": "organization,contacts", "isSearchable": True,
        "thumbnailUrl": "https://example.com/t.png", "source": {"type": ["User"]},
        "inference": {"confidenceScore": 0.75, "userHasVerifiedAccuracy": False}}


def test_snapshot_round_trips_ids_timestamps_versions_and_every_property(
        client: TestClient, tokens: Tokens) -> None:
    alice = tokens.headers(upn="alice@contoso.com")
    rich = create(client, alice, RICH)
    changed = client.patch(f"{ME}/{rich['id']}", headers=alice, json={"written": "elementary"}).json()
    create(client, tokens.headers(upn="bob@contoso.com"), {"tag": "fr-FR"})
    client.post("/_graphlang/seed", headers=ADMIN, json={"apps": FIXTURE["apps"]})
    before = snapshot(client)
    assert before["format"] == "graphlang-snapshot"
    assert client.post("/_graphlang/reset?reseed=false", headers=ADMIN).status_code == 200
    assert rows(snapshot(client), "languages") == []
    imported = client.put("/_graphlang/snapshot", headers={**ADMIN, "Content-Type": "application/json"},
                          content=orjson.dumps(before))
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == {"users": 2, "apps": 1, "languages": 2}
    after = snapshot(client)
    assert after["tables"] == before["tables"]
    again = client.get(f"{ME}/{rich['id']}", headers=alice)
    assert again.json() == changed
    assert again.headers["ETag"] == changed["@odata.etag"]


def test_the_snapshot_holds_every_table_but_the_signing_keys(client: TestClient) -> None:
    # A new table must be added to the snapshot, or named here as infrastructure that stays out.
    infrastructure = {"signing_keys"}
    assert set(snapshot(client)["tables"]) == {table.name for table in metadata.sorted_tables} - infrastructure


def test_snapshot_import_replaces_everything_that_was_there(client: TestClient, tokens: Tokens) -> None:
    alice = tokens.headers(upn="alice@contoso.com")
    kept = create(client, alice, {"tag": "en-US"})
    state = snapshot(client)
    create(client, alice, {"tag": "de-DE"})
    create(client, tokens.headers(upn="zed@contoso.com"))
    assert client.put("/_graphlang/snapshot", headers=ADMIN, json=state).status_code == 200
    assert [item["id"] for item in listed(client, alice)] == [kept["id"]]
    assert [user["user_principal_name"] for user in rows(snapshot(client), "users")] == ["alice@contoso.com"]


def _broken(state: dict[str, Any], how: str) -> dict[str, Any]:
    broken = json.loads(json.dumps(state))
    languages = broken["tables"]["languages"]
    if how == "format":
        broken["format"] = "something-else"
    elif how == "version":
        broken["version"] = 99
    elif how == "table":
        broken["tables"]["groups"] = {"columns": [], "rows": []}
    elif how == "column":
        languages["columns"][0] = "colour"
    elif how == "row length":
        languages["rows"][-1] = languages["rows"][-1][:-1]
    elif how == "type":
        languages["rows"][-1][languages["columns"].index("version")] = "two"
    elif how == "null":
        languages["rows"][-1][languages["columns"].index("created_ticks")] = None
    elif how == "orphan":
        languages["rows"][-1][languages["columns"].index("user_id")] = "22222222-2222-4222-8222-222222222222"
    return broken


@pytest.mark.parametrize(("how", "named"), [
    ("format", "format"), ("version", "version"), ("table", "groups"), ("column", "colour"),
    ("row length", "Row 1"), ("type", "version"), ("null", "created_ticks"), ("orphan", "languages"),
])
def test_an_invalid_snapshot_is_400_naming_the_problem_and_changes_nothing(
        client: TestClient, tokens: Tokens, how: str, named: str) -> None:
    alice = tokens.headers(upn="alice@contoso.com")
    create(client, alice, {"tag": "en-US"})
    create(client, alice, {"tag": "fr-FR"})
    state = snapshot(client)
    create(client, alice, {"tag": "de-DE"})
    current = snapshot(client)["tables"]
    response = client.put("/_graphlang/snapshot", headers=ADMIN, json=_broken(state, how))
    assert_graph_error(response, 400, "BadRequest", named)
    assert snapshot(client)["tables"] == current


def test_snapshot_import_needs_json(client: TestClient) -> None:
    assert_graph_error(client.put("/_graphlang/snapshot", headers={**ADMIN, "Content-Type": "text/plain"},
                                  content="{}"), 415, "UnsupportedMediaType")


# -- the request journal --------------------------------------------------------------------------


def test_the_journal_records_each_request_without_tokens(client: TestClient, tokens: Tokens) -> None:
    token = tokens.delegated(upn="alice@contoso.com")
    ok = client.get(f"{ME}?$top=1", headers={"Authorization": f"Bearer {token}", "client-request-id": "c-1"})
    missing = client.get(f"{ME}/00000000-0000-4000-8000-000000000000", headers={"Authorization": f"Bearer {token}"})
    unauthenticated = client.get(ME)
    entries = journal(client)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", ME, 200), ("GET", f"{ME}/00000000-0000-4000-8000-000000000000", 404), ("GET", ME, 401)]
    first = entries[0]
    assert first["requestId"] == ok.headers["request-id"]
    assert first["clientRequestId"] == "c-1"
    assert first["caller"] == "alice@contoso.com"
    assert first["query"] == "$top=1"
    assert first["route"] == "/beta/me/profile/languages"
    assert first["durationMs"] >= 0
    assert first["applied"] == [] and first["clientMistake"] is None and first["batch"] is None
    assert entries[1]["requestId"] == missing.headers["request-id"]
    assert entries[2]["caller"] is None and entries[2]["requestId"] == unauthenticated.headers["request-id"]
    assert token not in json.dumps(entries)


def test_the_journal_keeps_the_last_n_requests_and_filters(make_client: MakeClient, tokens: Tokens) -> None:
    client = make_client(journal_size=3)
    headers = tokens.headers()
    for path in ("/a", "/b", "/c", "/d"):
        client.get(path, headers=headers)
    assert [e["path"] for e in journal(client)] == ["/b", "/c", "/d"]
    client.get(ME, headers=headers)
    assert [e["path"] for e in journal(client, top="1")] == [ME]
    assert [e["path"] for e in journal(client, status="404")] == ["/c", "/d"]
    assert_graph_error(client.get("/_graphlang/requests?top=0", headers=ADMIN), 400, "BadRequest", "top")


def test_the_journal_leaves_out_the_control_api_and_can_be_cleared(client: TestClient, tokens: Tokens) -> None:
    client.get(ME, headers=tokens.headers())
    client.get("/_graphlang/health")
    client.get("/_graphlang/faults", headers=ADMIN)
    assert [e["path"] for e in journal(client)] == [ME]
    assert client.delete("/_graphlang/requests", headers=ADMIN).status_code == 204
    assert journal(client) == []


def test_the_journal_names_the_rule_that_applied(client: TestClient, tokens: Tokens) -> None:
    rule = add_fault(client, {"status": 500, "count": 1})
    client.get(ME, headers=tokens.headers())
    client.get(ME, headers=tokens.headers())
    assert [e["applied"] for e in journal(client)] == [[f"fault:{rule['id']}"], []]
