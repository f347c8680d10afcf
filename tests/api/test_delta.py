"""Bulk upsert: PATCH on the collection with an OData delta payload, applied all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import ME, assert_graph_error, create, entity, listed
from tests.factories import Tokens


def delta(*entries: Any, context: str = "#$delta") -> dict[str, Any]:
    return {"@context": context, "value": list(entries)}


def tags(client: TestClient, headers: dict[str, str]) -> list[str]:
    return sorted(item["tag"] for item in listed(client, headers))


def test_a_delta_payload_upserts_by_id_and_by_tag_creates_and_removes_in_one_request(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    by_id = create(client, headers, {"tag": "en-US", "spoken": "elementary"})
    by_tag = create(client, headers, {"tag": "fr-FR"})
    doomed = create(client, headers, {"tag": "de-DE"})
    also_doomed = create(client, headers, {"tag": "it-IT"})
    response = client.patch(ME, headers=headers, json=delta(
        {"id": by_id["id"], "spoken": "nativeOrBilingual"},
        {"tag": "fr-fr", "written": "fullProfessional"},
        {"tag": "nb-NO"},
        {"id": doomed["id"], "@removed": {"reason": "deleted"}},
        {"id": also_doomed["id"], "@odata.removed": {"reason": "deleted"}},
    ))
    assert response.status_code == 200, response.text
    body = response.json()
    user_id = tokens.user_id("alice@contoso.com")
    assert body["@odata.context"] == (f"http://testserver/beta/$metadata#users('{user_id}')/profile/languages"
                                      "/$delta")
    value = body["value"]
    assert value[0]["id"] == by_id["id"] and value[0]["spoken"] == "nativeOrBilingual"
    assert value[1]["id"] == by_tag["id"] and value[1]["written"] == "fullProfessional"
    assert value[2]["tag"] == "nb-NO" and value[2]["id"] not in {by_id["id"], by_tag["id"]}
    assert value[3] == {"id": doomed["id"], "@removed": {"reason": "deleted"}}
    assert value[4] == {"id": also_doomed["id"], "@removed": {"reason": "deleted"}}
    assert value[0]["@odata.etag"] == f'W/"{by_id["id"]}-2"'
    assert {entity(item)["id"]: entity(item) for item in listed(client, headers)} == {
        item["id"]: entity(item) for item in value[:3]
    }


def test_the_odata_context_spelling_is_accepted(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    body = {"@odata.context": "https://graph.microsoft.com/beta/$metadata#users('x')/profile/languages/$delta",
            "value": [{"tag": "sv-SE"}]}
    response = client.patch(ME, headers=headers, json=body)
    assert response.status_code == 200, response.text
    assert tags(client, headers) == ["sv-SE"]


def test_a_delta_on_another_users_collection_needs_and_uses_their_path(client: TestClient, tokens: Tokens) -> None:
    create(client, tokens.headers(upn="dave@contoso.com"), {"tag": "pl-PL"})
    admin = tokens.headers(upn="admin@contoso.com", scopes="User.ReadWrite.All")
    path = "/beta/users/dave@contoso.com/profile/languages"
    response = client.patch(path, headers=admin, json=delta({"tag": "cs-CZ"}))
    assert response.status_code == 200, response.text
    assert tags(client, tokens.headers(upn="dave@contoso.com")) == ["cs-CZ", "pl-PL"]
    denied = client.patch(path, headers=tokens.headers(scopes="User.ReadWrite"), json=delta({"tag": "hu-HU"}))
    assert_graph_error(denied, 403, "ErrorInsufficientPermissionsInAccessToken")
    assert tags(client, tokens.headers(upn="dave@contoso.com")) == ["cs-CZ", "pl-PL"]


@pytest.mark.parametrize(("bad", "words"), [
    ({"tag": "en-GB", "spoken": "fluent"}, ["value[2]", "'spoken'"]),
    ({"tag": "xx-!!"}, ["value[2]", "'tag'"]),
    ({"tag": "en-GB", "colour": "red"}, ["value[2]", "'colour'"]),
    ({"@removed": {"reason": "deleted"}}, ["value[2]", "'id'"]),
    ("en-GB", ["value[2]", "JSON object"]),
    ({"tag": "en-GB", "@odata.etag": 7}, ["value[2]", "'@odata.etag'"]),
    ({"tag": "en-GB", "@odata.etag": "unquoted"}, ["value[2]", "'@odata.etag'", "quoted"]),
])
def test_one_bad_entry_is_400_naming_its_index_and_nothing_changes(
        client: TestClient, tokens: Tokens, bad: Any, words: list[str]) -> None:
    headers = tokens.headers()
    kept = create(client, headers, {"tag": "en-US"})
    before = listed(client, headers)
    response = client.patch(ME, headers=headers, json=delta(
        {"tag": "ja-JP"}, {"id": kept["id"], "@removed": {}}, bad, {"tag": "ko-KR"}))
    assert_graph_error(response, 400, "BadRequest", *words)
    assert listed(client, headers) == before


def test_removing_an_unknown_id_is_404_and_rolls_back_the_entries_before_it(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    kept = create(client, headers, {"tag": "en-US", "spoken": "elementary"})
    before = listed(client, headers)
    response = client.patch(ME, headers=headers, json=delta(
        {"id": kept["id"], "spoken": "nativeOrBilingual"},
        {"tag": "zh-CN"},
        {"id": "0b8f8a8e-0000-4000-8000-000000000000", "@removed": {}},
    ))
    assert_graph_error(response, 404, "itemNotFound", "value[2]", "0b8f8a8e-0000-4000-8000-000000000000",
                       "Nothing was changed")
    assert listed(client, headers) == before


def test_a_stale_entry_etag_is_412_and_rolls_back_everything(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers, {"tag": "en-US"})
    client.patch(f"{ME}/{item['id']}", headers=headers, json={"reading": "elementary"})
    before = listed(client, headers)
    response = client.patch(ME, headers=headers, json=delta(
        {"tag": "ar-EG"},
        {"id": item["id"], "@odata.etag": item["@odata.etag"], "spoken": "conversational"},
    ))
    error = assert_graph_error(response, 412, "resourceModified", "value[1]")
    assert error["innerError"]["code"] == "entityTagDoesNotMatch"
    assert listed(client, headers) == before


def test_a_current_entry_etag_is_honoured_for_updates_and_removals(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    first, second = create(client, headers, {"tag": "en-US"}), create(client, headers, {"tag": "fr-FR"})
    response = client.patch(ME, headers=headers, json=delta(
        {"id": first["id"], "@odata.etag": first["@odata.etag"], "spoken": "conversational"},
        {"id": second["id"], "@odata.etag": second["@odata.etag"], "@removed": {}},
    ))
    assert response.status_code == 200, response.text
    assert [(item["tag"], item["spoken"]) for item in listed(client, headers)] == [("en-US", "conversational")]


@pytest.mark.parametrize(("body", "words"), [
    ({"@context": "#$delta"}, ["'value' array"]),
    ({"@context": "#$delta", "value": {"tag": "en"}}, ["'value' array"]),
])
def test_a_delta_payload_without_a_value_array_is_400(client: TestClient, tokens: Tokens, body: Any,
                                                      words: list[str]) -> None:
    response = client.patch(ME, headers=tokens.headers(), json=body)
    assert_graph_error(response, 400, "BadRequest", *words)


def test_if_match_on_a_delta_payload_is_400(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    response = client.patch(ME, headers={**headers, "If-Match": "*"}, json=delta({"tag": "en-US"}))
    assert_graph_error(response, 400, "BadRequest", "If-Match", "@odata.etag")
    assert listed(client, headers) == []


def test_an_empty_delta_changes_nothing_and_answers_an_empty_value(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    create(client, headers)
    response = client.patch(ME, headers=headers, json=delta())
    assert response.status_code == 200
    assert response.json()["value"] == []
    assert tags(client, headers) == ["en-US"]


def test_a_context_that_is_not_a_delta_keeps_the_single_object_upsert(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    response = client.patch(ME, headers=headers, json={"@odata.context": "#languages/$entity", "tag": "tr-TR"})
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == "tr-TR"
