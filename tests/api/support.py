"""Small helpers for HTTP-level tests of the languages API."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

ME = "/beta/me/profile/languages"
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
GRAPH_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EVERY_PROPERTY = {
    "id", "allowedAudiences", "inference", "createdDateTime", "createdBy", "lastModifiedDateTime",
    "lastModifiedBy", "source", "sources", "isSearchable", "displayName", "tag", "spoken", "written",
    "reading", "proficiency", "thumbnailUrl",
}


def create(client: TestClient, headers: dict[str, str], body: dict[str, Any] | None = None,
           collection: str = ME) -> dict[str, Any]:
    """POST a language and return the created object, failing loudly if it was not created."""
    response = client.post(collection, headers=headers, json=body if body is not None else {"tag": "en-US"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def listed(client: TestClient, headers: dict[str, str], collection: str = ME) -> list[dict[str, Any]]:
    response = client.get(collection, headers=headers)
    assert response.status_code == 200, response.text
    value: list[dict[str, Any]] = response.json()["value"]
    return value


def entity(body: dict[str, Any]) -> dict[str, Any]:
    """The properties of an entity, without its annotations."""
    return {k: v for k, v in body.items() if not k.startswith("@")}


def assert_graph_error(response: Any, status: int, code: str, *words: str, case: object = None) -> dict[str, Any]:
    """The response is the Graph error envelope with this status and code, naming every word.

    ``case`` labels the failure when one test checks many inputs.
    """
    assert response.status_code == status, (case, response.text)
    assert response.headers["content-type"].startswith("application/json"), case
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, (case, error)
    for word in words:
        assert word in error["message"], (case, word, error["message"])
    inner = error["innerError"]
    assert set(inner) >= {"date", "request-id", "client-request-id"}, case
    assert inner["request-id"] == response.headers["request-id"], case
    return error
