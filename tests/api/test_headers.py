"""Headers every response carries: request ids, Date, and Graph's JSON content type."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from starlette.testclient import TestClient

from tests.api.support import GUID, JSON_TYPE, ME, create
from tests.factories import Tokens

INNER_ERROR_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def test_request_id_is_a_new_guid_per_request(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    first, second = client.get(ME, headers=headers), client.get(ME, headers=headers)
    assert GUID.match(first.headers["request-id"])
    assert first.headers["request-id"] != second.headers["request-id"]


def test_client_request_id_defaults_to_the_request_id(client: TestClient, tokens: Tokens) -> None:
    response = client.get(ME, headers=tokens.headers())
    assert response.headers["client-request-id"] == response.headers["request-id"]


def test_client_request_id_is_echoed_when_sent(client: TestClient, tokens: Tokens) -> None:
    sent = "0b6b2a3e-7f0e-4d2c-9a51-3c1f6f1a2b3c"
    response = client.get(ME, headers={**tokens.headers(), "client-request-id": sent})
    assert response.headers["client-request-id"] == sent
    assert response.headers["request-id"] != sent


def test_a_blank_client_request_id_is_replaced_by_the_request_id(client: TestClient, tokens: Tokens) -> None:
    response = client.get(ME, headers={**tokens.headers(), "client-request-id": "   "})
    assert response.headers["client-request-id"] == response.headers["request-id"]


def test_of_two_client_request_ids_the_first_is_echoed(client: TestClient, tokens: Tokens) -> None:
    headers = [*tokens.headers().items(), ("client-request-id", "first"), ("client-request-id", "second")]
    response = client.get(ME, headers=headers)
    assert response.headers["client-request-id"] == "first"


def test_error_inner_error_carries_the_ids_and_a_zoneless_date(client: TestClient, tokens: Tokens) -> None:
    sent = "my-correlation-id"
    response = client.get(f"{ME}/nope", headers={**tokens.headers(), "client-request-id": sent})
    inner = response.json()["error"]["innerError"]
    assert inner["request-id"] == response.headers["request-id"]
    assert inner["client-request-id"] == sent == response.headers["client-request-id"]
    assert INNER_ERROR_DATE.match(inner["date"])


def test_json_bodies_have_graphs_content_type_and_odata_version(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = f"{ME}/{create(client, headers)['id']}"
    responses = {
        "list": client.get(ME, headers=headers),
        "get": client.get(item, headers=headers),
        "create": client.post(ME, headers=headers, json={"tag": "de"}),
        "update": client.patch(item, headers=headers, json={"tag": "fr"}),
        "upsert": client.patch(ME, headers=headers, json={"tag": "fr"}),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 201), (name, response.text)
        assert response.headers["content-type"] == JSON_TYPE, name
        assert response.headers["odata-version"] == "4.0", name


def test_every_kind_of_response_carries_ids_and_date(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = f"{ME}/{create(client, headers)['id']}"
    responses = [
        client.get(ME, headers=headers),
        client.delete(item, headers=headers),  # 204
        client.get(ME),  # 401
        client.get(item, headers=headers),  # 404
        client.put(ME, headers=headers),  # 405
        client.post(ME, headers={**headers, "Content-Type": "text/plain"}, content=b"x"),  # 415
        client.get("/nowhere"),  # 404 outside /beta
    ]
    assert [r.status_code for r in responses] == [200, 204, 401, 404, 405, 415, 404]
    for response in responses:
        assert GUID.match(response.headers["request-id"])
        assert response.headers["client-request-id"] == response.headers["request-id"]
        assert parsedate_to_datetime(response.headers["date"]).tzinfo is not None


def test_errors_are_json_the_sdk_can_parse(client: TestClient) -> None:
    response = client.get(ME)
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert set(response.json()["error"]) >= {"code", "message", "innerError"}


def test_a_host_header_that_is_not_a_host_is_400_naming_it(client: TestClient, tokens: Tokens) -> None:
    for host in ("[::1", "[1.2.3.4]", "a b", "x/y?z", "example.com:http"):
        response = client.get(ME, headers={**tokens.headers(), "host": host})

        assert response.status_code == 400, (host, response.text)
        error = response.json()["error"]
        assert error["code"] == "BadRequest"
        assert f"The Host header '{host}'" in error["message"]
        assert GUID.match(response.headers["request-id"])


def test_an_invalid_host_header_changes_nothing(client: TestClient, tokens: Tokens) -> None:
    response = client.post(ME, headers={**tokens.headers(), "host": "[::1"}, json={"tag": "en-US"})

    assert response.status_code == 400
    assert client.get(ME, headers=tokens.headers()).json()["value"] == []


def test_ip_literal_and_named_hosts_with_ports_are_accepted(client: TestClient, tokens: Tokens) -> None:
    for host in ("[::1]:8000", "127.0.0.1:8000", "graph.contoso.test"):
        created = client.post(ME, headers={**tokens.headers(), "host": host}, json={"tag": "en-US"})

        assert created.status_code == 201, (host, created.text)
        assert created.headers["location"].startswith(f"http://{host}/beta/me/profile/languages/")
