"""The Graph docs' own examples (spec §7), sent exactly as published, answered as published."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.testclient import TestClient

from tests.api.support import GRAPH_TIMESTAMP, GUID, assert_graph_error, entity
from tests.factories import Tokens

# The docs' List/Create/Get response object (profile-list-languages.md@eedbbe32).
DOCS_OBJECT: dict[str, Any] = orjson.loads("""
{
  "id": "0fb4c1e3-c1e3-0fb4-e3c1-b40fe3c1b40f",
  "allowedAudiences": "organization",
  "inference": null,
  "createdDateTime": "2020-07-06T06:34:12.2294868Z",
  "createdBy": {
    "application": null,
    "device": null,
    "user": {
      "displayName": "Innocenty Popov",
      "id": "db789417-4ccb-41d1-a0a9-47b01a09ea49"
    }
  },
  "lastModifiedDateTime": "2020-07-06T06:34:12.2294868Z",
  "lastModifiedBy": {
    "application": null,
    "device": null,
    "user": {
      "displayName": "Innocenty Popov",
      "id": "db789417-4ccb-41d1-a0a9-47b01a09ea49"
    }
  },
  "source": null,
  "displayName": "Norwegian Bokmål",
  "tag": "nb-NO",
  "spoken": "nativeOrBilingual",
  "written": "nativeOrBilingual",
  "reading": "nativeOrBilingual"
}
""")
CREATE_BODY = """{
  "displayName": "Norwegian Bokmål",
  "tag": "nb-NO",
  "spoken": "nativeOrBilingual",
  "written": "nativeOrBilingual",
  "reading": "nativeOrBilingual"
}""".encode()
UPDATE_BODY = b"""{
  "allowedAudiences": "organization"
}"""
SERVER_MANAGED = ("id", "createdDateTime", "createdBy", "lastModifiedDateTime", "lastModifiedBy")
INNOCENTY = "innocenty@contoso.com"


def assert_like_the_docs(body: dict[str, Any], user_id: str) -> None:
    """Every property of the docs' object, with the same values except those the server assigns."""
    assert set(entity(body)) >= set(DOCS_OBJECT)
    assert {k: body[k] for k in DOCS_OBJECT if k not in SERVER_MANAGED} == {
        k: v for k, v in DOCS_OBJECT.items() if k not in SERVER_MANAGED}
    assert GUID.match(body["id"])
    assert GRAPH_TIMESTAMP.match(body["createdDateTime"]) and GRAPH_TIMESTAMP.match(body["lastModifiedDateTime"])
    expected_by = {"application": None, "device": None, "user": {"displayName": "Innocenty Popov", "id": user_id}}
    assert body["createdBy"] == expected_by


def docs_headers(tokens: Tokens, content_type: bool = False) -> dict[str, str]:
    headers = tokens.headers(upn=INNOCENTY, name="Innocenty Popov")
    return {**headers, "Content-type": "application/json"} if content_type else headers


def test_the_current_docs_examples_round_trip(client: TestClient, tokens: Tokens) -> None:
    user_id = tokens.user_id(INNOCENTY)

    created = client.post("/beta/me/profile/languages", headers=docs_headers(tokens, True), content=CREATE_BODY)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/json")
    assert_like_the_docs(created.json(), user_id)
    language_id = created.json()["id"]

    listed = client.get("/beta/me/profile/languages", headers=docs_headers(tokens))
    assert listed.status_code == 200
    assert [entity(x) for x in listed.json()["value"]] == [entity(created.json())]

    fetched = client.get(f"/beta/me/profile/languages/{language_id}", headers=docs_headers(tokens))
    assert fetched.status_code == 200
    assert entity(fetched.json()) == entity(created.json())

    updated = client.patch(f"/beta/me/profile/languages/{language_id}", headers=docs_headers(tokens, True),
                           content=UPDATE_BODY)
    assert updated.status_code == 200, updated.text
    assert_like_the_docs(updated.json(), user_id)
    assert updated.json()["lastModifiedBy"] == updated.json()["createdBy"]

    deleted = client.delete(f"/beta/me/profile/languages/{language_id}", headers=docs_headers(tokens))
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get("/beta/me/profile/languages", headers=docs_headers(tokens)).json()["value"] == []


def test_the_2019_examples_with_capital_beta_and_proficiency(client: TestClient, tokens: Tokens) -> None:
    body = b'{"displayName":"Norwegian","tag":"nb-NO","proficiency":"nativeOrBilingual"}'
    created = client.post("/Beta/me/profile/languages", headers=docs_headers(tokens, True), content=body)
    assert created.status_code == 201, created.text
    assert (created.json()["displayName"], created.json()["proficiency"]) == ("Norwegian", "nativeOrBilingual")
    assert created.json()["spoken"] is None

    listed = client.get("/Beta/me/profile/languages", headers=docs_headers(tokens)).json()
    assert [x["id"] for x in listed["value"]] == [created.json()["id"]]

    updated = client.patch(f"/Beta/me/profile/languages/{created.json()['id']}", headers=docs_headers(tokens, True),
                           content=b'{"proficiency":"fullProfessional"}')
    assert updated.status_code == 200
    assert updated.json()["proficiency"] == "fullProfessional"


def test_the_2019_placeholder_body_is_rejected_naming_the_bad_value(client: TestClient, tokens: Tokens) -> None:
    body = b'{"displayName":"displayName-value","tag":"tag-value","proficiency":"proficiency-value"}'
    response = client.post("/Beta/me/profile/languages", headers=docs_headers(tokens, True), content=body)
    assert_graph_error(response, 400, "BadRequest", "tag-value")
    assert client.get("/beta/me/profile/languages", headers=docs_headers(tokens)).json()["value"] == []
