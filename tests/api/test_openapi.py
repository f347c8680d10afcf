"""``GET /openapi.json``: a valid OpenAPI 3.1 document that describes every route the app serves."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.testclient import TestClient

from graphlang.describe import catalog
from graphlang.model import enums
from graphlang.model.properties import PROPERTIES
from tests.api.support import ME, create
from tests.factories import Tokens

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
QUERY_OPTIONS = ["select", "filter", "orderby", "top", "skip", "count", "expand", "search"]


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        found: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS]


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_document_is_served_without_a_token_and_is_stable(client: TestClient) -> None:
    first = client.get("/openapi.json")
    assert first.status_code == 200
    assert client.get("/openapi.json").content == first.content


def test_every_served_route_and_method_is_described(client: TestClient, document: dict[str, Any]) -> None:
    served = client.app.served_routes()  # type: ignore[attr-defined]
    assert served
    for template, route in served:
        described = document["paths"].get(template)
        assert described is not None, f"{template} is served but not in the document"
        for method in route.methods:
            operation = described.get(method.lower())
            assert operation is not None, f"{method} {template} is served but not in the document"
            assert "x-graphlang-undescribed" not in operation, (
                f"{method} {template} has no entry in graphlang.describe.operations"
            )


def test_every_described_operation_is_a_served_one(document: dict[str, Any]) -> None:
    for path, methods in catalog.OPERATIONS.items():
        for method in methods:
            assert method.lower() in document["paths"].get(path, {}), f"{method} {path} is described, not served"


def test_every_documented_path_is_served(client: TestClient, document: dict[str, Any], tokens: Tokens) -> None:
    headers = tokens.headers()
    for path, method, _operation in operations(document):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        response = client.request(method.upper(), concrete, headers=headers)
        unrouted = response.status_code == 405 or "UnknownPath" in response.text
        assert not unrouted, f"{method.upper()} {path}: {response.text}"


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _path, _method, operation in operations(document)]
    assert len(ids) == len(set(ids))


def test_graph_operations_require_a_bearer_token_and_document_401(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for path, _method, operation in operations(document):
        if path.startswith("/beta/") and "profile" in path:
            assert operation["security"] == [{"bearer": []}], path
            assert "401" in operation["responses"], path


def test_self_description_is_anonymous(document: dict[str, Any]) -> None:
    for path in ("/beta/$metadata", "/beta", "/beta/", "/openapi.json"):
        assert document["paths"][path]["get"]["security"] == []


def test_every_error_response_is_the_graph_error_envelope_except_oauths(document: dict[str, Any]) -> None:
    envelope = {"$ref": "#/components/schemas/microsoft.graph.ODataErrors.ODataError"}
    oauth = {"$ref": "#/components/schemas/graphlang.oauthError"}
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = resolve(document, response)["content"]["application/json"]["schema"]
                token_endpoint = path.endswith("/oauth2/v2.0/token") and status in ("400", "401")
                assert schema == (oauth if token_endpoint else envelope), (method, path, status)


def test_list_documents_each_query_option_with_and_without_dollar(document: dict[str, Any]) -> None:
    parameters = [resolve(document, p) for p in document["paths"][f"/beta{ME.removeprefix('/beta')}"]["get"]
                  ["parameters"]]
    names = {p["name"] for p in parameters if p["in"] == "query"}
    for option in QUERY_OPTIONS:
        assert {option, f"${option}"} <= names, option


def test_language_schema_has_every_property_of_the_table(document: dict[str, Any]) -> None:
    language = document["components"]["schemas"]["microsoft.graph.languageProficiency"]
    assert set(language["properties"]) - {"@odata.etag"} == {p.name for p in PROPERTIES}
    assert language["properties"]["id"] == {"type": "string"}
    assert language["properties"]["tag"] == {"type": ["string", "null"]}
    assert language["properties"]["isSearchable"] == {"type": ["boolean", "null"]}
    level = document["components"]["schemas"]["microsoft.graph.languageProficiencyLevel"]
    assert level["enum"] == list(enums.LEVELS)


def test_a_served_language_validates_against_the_documented_schema(client: TestClient, tokens: Tokens,
                                                                   document: dict[str, Any]) -> None:
    headers = tokens.headers()
    create(client, headers, {"tag": "nb-NO", "spoken": "nativeOrBilingual", "allowedAudiences": "organization,contacts",
                             "inference": {"confidenceScore": 0.5, "userHasVerifiedAccuracy": True},
                             "source": {"type": "User"}, "sources": [{"sourceId": "x", "properties": ["tag"]}]})
    listed = client.get(ME, headers=headers).json()
    collection = {"$ref": "#/components/schemas/microsoft.graph.languageProficiencyCollectionResponse"}
    jsonschema.validate(listed, {**collection, "components": document["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_the_request_schema_rejects_what_the_service_rejects(document: dict[str, Any], client: TestClient,
                                                              tokens: Tokens) -> None:
    changes = {**document["components"]["schemas"]["graphlang.languageProficiencyChanges"],
               "components": document["components"]}
    validator = jsonschema.Draft202012Validator(changes)
    for body in ({"spoken": "fluent"}, {"nickname": "x"}, {"isSearchable": "yes"}):
        assert not validator.is_valid(body), body
        assert client.post(ME, headers=tokens.headers(), json=body).status_code == 400, body
    example = changes["example"]
    assert validator.is_valid(example)
    assert client.post(ME, headers=tokens.headers(), json=example).status_code == 201
