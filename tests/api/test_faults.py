"""Injected faults: rules that fail or delay matching requests, through the control API or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.controls_support import ADMIN, MakeClient, add_fault, journal
from tests.api.support import ME, assert_graph_error, create, listed
from tests.factories import Tokens

FAULTS = "/_graphlang/faults"


def statuses(client: TestClient, headers: dict[str, str], times: int, path: str = ME) -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(times)]


def test_fail_the_next_n_matching_requests_then_answer_normally(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    rule = add_fault(client, {"method": "GET", "path": ME, "status": 503, "count": 2, "retryAfter": 7})
    first = client.get(ME, headers=headers)
    error = assert_graph_error(first, 503, "serviceNotAvailable")
    assert error["message"]
    assert first.headers["Retry-After"] == "7"
    assert first.headers["x-graphlang-fault"] == rule["id"]
    assert statuses(client, headers, 2) == [503, 200]
    listed_rule = client.get(f"{FAULTS}/{rule['id']}", headers=ADMIN).json()
    assert (listed_rule["count"], listed_rule["fired"], listed_rule["remaining"]) == (2, 2, 0)


@pytest.mark.parametrize(("status", "code", "retry_after"), [
    (429, "TooManyRequests", "1"),
    (500, "generalException", None),
    (503, "serviceNotAvailable", "1"),
    (504, "gatewayTimeout", None),
])
def test_each_fault_status_has_a_graph_error_body_and_retry_after_where_graph_sends_one(
        client: TestClient, tokens: Tokens, status: int, code: str, retry_after: str | None) -> None:
    add_fault(client, {"status": status, "count": 1})
    response = client.get(ME, headers=tokens.headers())
    assert_graph_error(response, status, code)
    assert response.headers.get("Retry-After") == retry_after


def test_an_injected_429_is_graphs_throttling_answer(client: TestClient, tokens: Tokens) -> None:
    add_fault(client, {"status": 429, "retryAfter": 3})
    response = client.get(ME, headers=tokens.headers())
    error = assert_graph_error(response, 429, "TooManyRequests")
    assert error["message"] == "Please retry again later."
    assert {k: error["innerError"][k] for k in ("code", "status", "message")} == {
        "code": "429", "status": "429", "message": "Please retry after"}
    assert response.headers["Retry-After"] == "3"


def test_a_rule_may_set_its_own_code_and_message(client: TestClient, tokens: Tokens) -> None:
    add_fault(client, {"status": 500, "code": "UnknownError", "message": "Something broke upstream."})
    response = client.get(ME, headers=tokens.headers())
    assert assert_graph_error(response, 500, "UnknownError")["message"] == "Something broke upstream."


def test_rules_match_by_method(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    add_fault(client, {"method": "post, patch", "status": 500})
    assert client.get(ME, headers=headers).status_code == 200
    assert client.post(ME, headers=headers, json={"tag": "en"}).status_code == 500
    assert listed(client, headers) == []


def test_rules_match_a_path_glob_or_the_route_template(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    add_fault(client, {"path": "/beta/me/profile/languages/{language}", "method": "DELETE", "status": 500})
    add_fault(client, {"path": "/BETA/users/*", "status": 504})
    assert client.get(ME, headers=headers).status_code == 200
    assert client.get(f"{ME}/{item['id']}", headers=headers).status_code == 200
    assert client.delete(f"{ME}/{item['id']}", headers=headers).status_code == 500
    assert client.get("/beta/users/alice@contoso.com/profile/languages", headers=headers).status_code == 504


def test_rules_match_by_caller(client: TestClient, tokens: Tokens) -> None:
    add_fault(client, {"caller": "bob@*", "status": 500})
    assert client.get(ME, headers=tokens.headers(upn="alice@contoso.com")).status_code == 200
    assert client.get(ME, headers=tokens.headers(upn="bob@contoso.com")).status_code == 500


def test_a_random_fraction_fails_the_same_way_for_the_same_seed(make_client: MakeClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    runs = []
    for _ in range(2):
        client = make_client()
        add_fault(client, {"status": 500, "rate": 0.5, "seed": 42})
        runs.append(statuses(client, headers, 30))
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}
    other = make_client()
    add_fault(other, {"status": 500, "rate": 0.5, "seed": 7})
    assert statuses(other, headers, 30) != runs[0]


def test_a_latency_rule_delays_matching_requests_and_lets_them_through(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    fixed = add_fault(client, {"latencyMs": 5, "method": "GET"})
    ranged = add_fault(client, {"latencyMs": [1, 10], "method": "GET", "count": 1})
    assert ranged["latencyMs"] == [1, 10]
    assert statuses(client, headers, 2) == [200, 200]
    entries = journal(client)
    assert [entry["applied"] for entry in entries] == [[f"fault:{fixed['id']}", f"fault:{ranged['id']}"],
                                                       [f"fault:{fixed['id']}"]]


def test_a_latency_and_status_rule_delays_then_fails(client: TestClient, tokens: Tokens) -> None:
    add_fault(client, {"latencyMs": 5, "status": 503, "retryAfter": 2})
    response = client.get(ME, headers=tokens.headers())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"


def test_rules_are_listed_and_removable(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    first = add_fault(client, {"status": 500, "method": "POST"})
    second = add_fault(client, {"status": 503, "method": "GET"})
    added = client.post(FAULTS, headers=ADMIN, json={"status": 504, "method": "PATCH"})
    assert added.headers["Location"] == f"http://testserver{FAULTS}/{added.json()['id']}"
    listed_ids = [rule["id"] for rule in client.get(FAULTS, headers=ADMIN).json()["value"]]
    assert listed_ids == [first["id"], second["id"], added.json()["id"]]
    assert client.delete(f"{FAULTS}/{second['id']}", headers=ADMIN).status_code == 204
    assert_graph_error(client.get(f"{FAULTS}/{second['id']}", headers=ADMIN), 404, "itemNotFound", second["id"])
    assert_graph_error(client.delete(f"{FAULTS}/{second['id']}", headers=ADMIN), 404, "itemNotFound")
    assert client.get(ME, headers=headers).status_code == 200
    assert client.delete(FAULTS, headers=ADMIN).status_code == 204
    assert client.get(FAULTS, headers=ADMIN).json()["value"] == []
    assert client.post(ME, headers=headers, json={"tag": "en"}).status_code == 201


def test_a_list_of_rules_is_added_all_or_none(client: TestClient) -> None:
    response = client.post(FAULTS, headers=ADMIN, json=[{"status": 500}, {"status": 418}])
    assert_graph_error(response, 400, "BadRequest", "Rule 1", "status")
    assert client.get(FAULTS, headers=ADMIN).json()["value"] == []
    response = client.post(FAULTS, headers=ADMIN, json=[{"status": 500}, {"latencyMs": 3}])
    assert response.status_code == 201
    assert [rule["id"] for rule in response.json()["value"]] == ["1", "2"]


@pytest.mark.parametrize(("rule", "named"), [
    ({"status": 418}, "status"),
    ({"status": 500, "colour": "red"}, "colour"),
    ({"status": 500, "rate": 1.5}, "rate"),
    ({"status": 500, "rate": 0}, "rate"),
    ({"status": 500, "count": 0}, "count"),
    ({"status": 429, "retryAfter": 2.5}, "retryAfter"),
    ({"latencyMs": [50, 10]}, "latencyMs"),
    ({"latencyMs": [1, 2, 3]}, "latencyMs"),
    ({"latencyMs": 999_999}, "latencyMs"),
    ({"method": 5, "status": 500}, "method"),
    ({"path": "", "status": 500}, "path"),
    ({"method": "GET"}, "status"),
])
def test_an_invalid_rule_is_400_naming_the_property_and_nothing_is_added(
        client: TestClient, rule: dict[str, Any], named: str) -> None:
    assert_graph_error(client.post(FAULTS, headers=ADMIN, json=rule), 400, "BadRequest", named)
    assert client.get(FAULTS, headers=ADMIN).json()["value"] == []


def test_the_control_api_is_never_faulted(client: TestClient) -> None:
    add_fault(client, {"path": "*", "status": 500})
    assert client.get("/_graphlang/health").status_code == 200
    assert client.get(FAULTS, headers=ADMIN).status_code == 200
    assert client.delete(FAULTS, headers=ADMIN).status_code == 204


def test_inner_requests_of_a_batch_meet_the_rules_one_by_one(client: TestClient, tokens: Tokens) -> None:
    add_fault(client, {"method": "POST", "path": ME, "status": 503, "count": 1, "retryAfter": 4})
    response = client.post("/beta/$batch", headers=tokens.headers(), json={"requests": [
        {"id": "1", "method": "POST", "url": "/me/profile/languages", "body": {"tag": "en"},
         "headers": {"Content-Type": "application/json"}},
        {"id": "2", "method": "POST", "url": "/me/profile/languages", "body": {"tag": "fr"},
         "headers": {"Content-Type": "application/json"}},
    ]})
    assert response.status_code == 200
    results = {r["id"]: r for r in response.json()["responses"]}
    assert (results["1"]["status"], results["2"]["status"]) == (503, 201)
    assert results["1"]["headers"]["Retry-After"] == "4"
    inner = [entry for entry in journal(client) if entry["batch"] is not None]
    assert [(entry["batch"]["id"], entry["applied"]) for entry in inner] == [("1", ["fault:1"]), ("2", [])]


def test_rules_from_the_faults_file_are_installed_at_start_and_restored_by_reset(
        make_client: MakeClient, tokens: Tokens, tmp_path: Path) -> None:
    faults_file = tmp_path / "faults.yaml"
    faults_file.write_text("faults:\n  - method: PATCH\n    status: 503\n    retryAfter: 9\n"
                           "  - path: /beta/users/*\n    latencyMs: [1, 3]\n    seed: 3\n")
    client = make_client(faults_file=faults_file)
    rules = client.get(FAULTS, headers=ADMIN).json()["value"]
    assert [(rule["id"], rule["status"], rule["latencyMs"]) for rule in rules] == [
        ("1", 503, None), ("2", None, [1, 3])]
    assert client.delete(f"{FAULTS}/1", headers=ADMIN).status_code == 204
    add_fault(client, {"status": 500})
    assert client.post("/_graphlang/reset", headers=ADMIN).status_code == 200
    assert [rule["id"] for rule in client.get(FAULTS, headers=ADMIN).json()["value"]] == ["1", "2"]
    item = create(client, tokens.headers())
    assert client.patch(f"{ME}/{item['id']}", headers=tokens.headers(), json={"tag": "fr"}).status_code == 503


def test_an_invalid_faults_file_stops_the_service_with_its_problem(make_client: MakeClient, tmp_path: Path) -> None:
    faults_file = tmp_path / "faults.json"
    faults_file.write_text('[{"status": 200}]')
    with pytest.raises(ValueError, match="status"):
        make_client(faults_file=faults_file)


# -- retries that come too early ------------------------------------------------------------------


def test_a_retry_before_retry_after_has_passed_is_journaled_as_a_client_mistake(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    add_fault(client, {"method": "GET", "path": ME, "status": 429, "count": 1, "retryAfter": 30})
    assert client.get(ME, headers=headers).status_code == 429
    assert client.get(ME, headers=headers).status_code == 200
    entries = journal(client)
    assert entries[0]["clientMistake"] is None
    mistake = entries[1]["clientMistake"]
    assert "Retry-After" in mistake and "30 s" in mistake
    assert journal(client, clientMistakes="true") == [entries[1]]


def test_only_the_same_caller_method_and_path_count_as_a_retry(client: TestClient, tokens: Tokens) -> None:
    alice = tokens.headers(upn="alice@contoso.com")
    add_fault(client, {"method": "GET", "path": ME, "status": 503, "count": 1, "retryAfter": 30})
    assert client.get(ME, headers=alice).status_code == 503
    client.get(ME, headers=tokens.headers(upn="bob@contoso.com"))
    client.post(ME, headers=alice, json={"tag": "en"})
    client.get("/beta/users/alice@contoso.com/profile/languages", headers=alice)
    assert journal(client, clientMistakes="true") == []
