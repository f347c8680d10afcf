"""JSON batching: POST /beta/$batch, every inner request through the same path as a direct call."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from starlette.responses import Response
from starlette.testclient import TestClient

from graphlang.api.context import RequestContext
from graphlang.errors import TooManyRequests
from tests.api.support import ME, assert_graph_error, create, entity, listed
from tests.factories import Tokens

BATCH = "/beta/$batch"
JSON_HEADERS = {"Content-Type": "application/json"}


def req(ident: str, method: str, url: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    """One inner request; a body brings the Content-Type header the batch format requires."""
    request: dict[str, Any] = {"id": ident, "method": method, "url": url, **extra}
    if body is not None:
        request["body"] = body
        request.setdefault("headers", {}).update(JSON_HEADERS)
    return request


def run(client: TestClient, headers: dict[str, str], *requests: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Send a batch that must succeed as a whole; its results by id."""
    response = client.post(BATCH, headers=headers, json={"requests": list(requests)})
    assert response.status_code == 200, response.text
    responses: list[dict[str, Any]] = response.json()["responses"]
    return {result["id"]: result for result in responses}


# -- running requests ---------------------------------------------------------------------------


def test_mixed_methods_run_in_order_and_each_result_carries_id_status_headers_and_body(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    existing = create(client, headers, {"tag": "fr-FR"})
    results = run(
        client, headers,
        req("create", "POST", "/me/profile/languages", {"tag": "nb-NO", "spoken": "nativeOrBilingual"}),
        req("update", "PATCH", f"/me/profile/languages/{existing['id']}", {"written": "elementary"},
            dependsOn=["create"]),
        req("read", "GET", "/me/profile/languages?$select=tag", dependsOn=["update"]),
        req("remove", "DELETE", f"/me/profile/languages/{existing['id']}", dependsOn=["read"]),
    )
    assert {k: r["status"] for k, r in results.items()} == {"create": 201, "update": 200, "read": 200,
                                                             "remove": 204}
    created = results["create"]
    assert created["body"]["tag"] == "nb-NO"
    assert created["headers"]["Content-Type"].startswith("application/json")
    assert created["headers"]["Location"].endswith(f"/beta/me/profile/languages/{created['body']['id']}")
    assert created["headers"]["ETag"] == created["body"]["@odata.etag"]
    assert created["headers"]["request-id"]
    assert results["update"]["body"]["written"] == "elementary"
    assert sorted(item["tag"] for item in results["read"]["body"]["value"]) == ["fr-FR", "nb-NO"]
    assert "body" not in results["remove"]
    assert "Content-Type" not in results["remove"]["headers"]
    assert [item["tag"] for item in listed(client, headers)] == ["nb-NO"]


def test_responses_keep_the_listed_order_and_the_ids_as_sent(client: TestClient, tokens: Tokens) -> None:
    response = client.post(BATCH, headers=tokens.headers(), json={"requests": [
        req("Zeta", "GET", ME.removeprefix("/beta")), req("alpha", "GET", "me/profile/languages"),
    ]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert [r["id"] for r in response.json()["responses"]] == ["Zeta", "alpha"]


def test_a_dependency_listed_later_still_runs_first(client: TestClient, tokens: Tokens) -> None:
    results = run(
        client, tokens.headers(),
        req("list", "GET", "/me/profile/languages", dependsOn=["make"]),
        req("make", "POST", "/me/profile/languages", {"tag": "de-DE"}),
    )
    assert [item["tag"] for item in results["list"]["body"]["value"]] == ["de-DE"]


def test_the_sdk_spelling_depends_on_is_honoured_and_unknown_keys_are_ignored(
        client: TestClient, tokens: Tokens) -> None:
    results = run(
        client, tokens.headers(),
        req("1", "GET", "/me/profile/languages/missing", atomicity_group=None),
        req("2", "GET", "/me/profile/languages", depends_on=["1"], somethingElse={"x": 1}),
    )
    assert results["1"]["status"] == 404
    assert results["2"]["status"] == 424


def test_a_failed_dependency_cascades_424_and_the_dependents_do_not_run(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    results = run(
        client, headers,
        req("a", "GET", "/me/profile/languages/does-not-exist"),
        req("b", "POST", "/me/profile/languages", {"tag": "it-IT"}, dependsOn=["a"]),
        req("c", "POST", "/me/profile/languages", {"tag": "es-ES"}, dependsOn=["B"]),
        req("d", "POST", "/me/profile/languages", {"tag": "pt-PT"}),
    )
    assert [results[k]["status"] for k in "abcd"] == [404, 424, 424, 201]
    for key, failed in (("b", "a"), ("c", "b")):
        body = results[key]["body"]
        assert body["error"]["code"] == "FailedDependency"
        assert f"request '{failed}'" in body["error"]["message"]
        assert body["error"]["innerError"]["request-id"] == results[key]["headers"]["request-id"]
        assert results[key]["headers"]["Content-Type"].startswith("application/json")
    assert [item["tag"] for item in listed(client, headers)] == ["pt-PT"]


def test_a_dependency_that_succeeded_lets_the_dependent_run(client: TestClient, tokens: Tokens) -> None:
    results = run(client, tokens.headers(),
                  req("a", "POST", "/me/profile/languages", {"tag": "sv-SE"}),
                  req("b", "GET", "/me/profile/languages", dependsOn=["a"]))
    assert results["b"]["status"] == 200


# -- the same path as a direct call -------------------------------------------------------------


def test_inner_requests_use_the_outer_authorization(client: TestClient, tokens: Tokens) -> None:
    create(client, tokens.headers(upn="bob@contoso.com"), {"tag": "nl-NL"})
    results = run(client, tokens.headers(upn="bob@contoso.com"), req("1", "GET", "/me/profile/languages"))
    assert [item["tag"] for item in results["1"]["body"]["value"]] == ["nl-NL"]


def test_an_inner_authorization_header_replaces_the_outer_one(client: TestClient, tokens: Tokens) -> None:
    create(client, tokens.headers(upn="carol@contoso.com"), {"tag": "da-DK"})
    carol = tokens.headers(upn="carol@contoso.com")["Authorization"]
    results = run(client, tokens.headers(),
                  req("mine", "GET", "/me/profile/languages"),
                  req("carol", "GET", "/me/profile/languages", headers={"Authorization": carol}),
                  req("forged", "GET", "/me/profile/languages", headers={"Authorization": "Bearer forged"}))
    assert results["mine"]["body"]["value"] == []
    assert [item["tag"] for item in results["carol"]["body"]["value"]] == ["da-DK"]
    assert results["forged"]["status"] == 401
    assert results["forged"]["body"]["error"]["code"] == "InvalidAuthenticationToken"
    assert results["forged"]["headers"]["WWW-Authenticate"].startswith("Bearer")


def test_inner_requests_are_authorized_like_direct_calls(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers(scopes="User.Read")
    results = run(client, headers,
                  req("read", "GET", "/me/profile/languages"),
                  req("write", "POST", "/me/profile/languages", {"tag": "fi-FI"}),
                  req("other", "GET", "/users/someone@contoso.com/profile/languages"))
    assert results["read"]["status"] == 200
    assert results["write"]["status"] == 403
    assert results["other"]["status"] == 403
    assert listed(client, headers) == []


def test_a_batch_without_a_token_is_401_and_runs_nothing(client: TestClient, tokens: Tokens) -> None:
    response = client.post(BATCH, json={"requests": [req("1", "POST", "/me/profile/languages", {"tag": "en"})]})
    assert_graph_error(response, 401, "InvalidAuthenticationToken")
    assert listed(client, tokens.headers()) == []


def test_inner_validation_and_routing_errors_are_the_direct_calls_errors(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    results = run(client, headers,
                  req("unknown", "POST", "/me/profile/languages", {"tag": "en", "colour": "red"}),
                  req("enum", "PATCH", f"/me/profile/languages/{item['id']}", {"spoken": "fluent"}),
                  req("path", "GET", "/me/profile/nothing-here"),
                  req("method", "PUT", f"/me/profile/languages/{item['id']}", {"tag": "en"}))
    assert results["unknown"]["status"] == 400
    assert "'colour'" in results["unknown"]["body"]["error"]["message"]
    assert results["enum"]["status"] == 400
    assert "'spoken'" in results["enum"]["body"]["error"]["message"]
    assert results["path"]["status"] == 404
    assert results["path"]["body"]["error"]["code"] == "UnknownPath"
    assert results["method"]["status"] == 405
    assert results["method"]["headers"]["Allow"]
    assert [entity(found) for found in listed(client, headers)] == [entity(item)]


def test_observers_and_guards_see_every_inner_request(client: TestClient, tokens: Tokens) -> None:
    app: Any = client.app
    seen: list[tuple[str, str, int, Any]] = []
    app.observers.append(lambda answered: seen.extend(
        (ctx.method, ctx.route, response.status_code, ctx.notes.get("batch")) for ctx, response, _s in answered))

    async def throttle_posts(ctx: RequestContext) -> Response | None:
        if ctx.method == "POST" and "batch" in ctx.notes:
            raise TooManyRequests(7)
        return None

    app.guards.append(throttle_posts)
    response = client.post(BATCH, headers={**tokens.headers(), "client-request-id": "outer-1"}, json={
        "requests": [req("1", "GET", "/me/profile/languages"),
                     req("2", "POST", "/me/profile/languages", {"tag": "en"})]})
    assert response.status_code == 200
    results = {r["id"]: r for r in response.json()["responses"]}
    assert results["2"]["status"] == 429
    assert results["2"]["headers"]["Retry-After"] == "7"
    outer_id = response.headers["request-id"]
    # Observers see a turn's responses at its end; a route outside /beta is answered only after they
    # have seen every earlier one (and is itself seen later, perhaps after this reads the list).
    assert client.get("/_graphlang/health").status_code == 200
    assert seen[:3] == [
        ("GET", "/beta/me/profile/languages", 200, {"request_id": outer_id, "id": "1"}),
        ("POST", "/beta/me/profile/languages", 429, {"request_id": outer_id, "id": "2"}),
        ("POST", "/beta/$batch", 200, None),
    ]


def test_inner_headers_reach_the_handler(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    item = create(client, headers)
    results = run(client, headers,
                  req("stale", "PATCH", f"/me/profile/languages/{item['id']}", {"tag": "en-GB"},
                      headers={"If-Match": 'W/"stale-1"'}),
                  req("minimal", "PATCH", f"/me/profile/languages/{item['id']}", {"tag": "en-GB"},
                      headers={"Prefer": "return=minimal", "client-request-id": "inner-7"}))
    assert results["stale"]["status"] == 412
    assert results["minimal"]["status"] == 204
    assert results["minimal"]["headers"]["Preference-Applied"] == "return=minimal"
    assert results["minimal"]["headers"]["client-request-id"] == "inner-7"


def test_a_url_with_spaces_and_unicode_is_encoded_as_a_client_would(client: TestClient, tokens: Tokens) -> None:
    create(client, tokens.headers(upn="zoë@contoso.com"), {"tag": "el-GR"})
    results = run(client, tokens.headers(scopes="User.ReadWrite.All"),
                  req("1", "GET", "/me/profile/languages?$select=tag, spoken"),
                  req("2", "GET", "/users/zoë@contoso.com/profile/languages"))
    assert results["1"]["status"] == 200
    assert results["1"]["body"]["@odata.context"].endswith("/profile/languages(tag,spoken)")
    assert [item["tag"] for item in results["2"]["body"]["value"]] == ["el-GR"]


def test_an_inner_host_header_that_is_not_a_host_fails_that_request_alone(client: TestClient,
                                                                         tokens: Tokens) -> None:
    headers = tokens.headers()
    results = run(client, headers,
                  req("odd", "POST", "/me/profile/languages", {"tag": "fi"}, headers={"Host": "[::1"}),
                  req("fine", "POST", "/me/profile/languages", {"tag": "sv"}))

    assert results["odd"]["status"] == 400
    assert "The Host header '[::1'" in results["odd"]["body"]["error"]["message"]
    assert results["fine"]["status"] == 201
    assert [item["tag"] for item in listed(client, headers)] == ["sv"]


def test_dot_segments_cannot_lead_an_inner_request_out_of_the_version_root(client: TestClient,
                                                                           tokens: Tokens) -> None:
    results = run(client, {**tokens.headers(), "x-graphlang-admin-token": "test-admin-token"},
                  req("up", "GET", "/../_graphlang/snapshot"), req("encoded", "GET", "%2E%2E/_graphlang/requests"))

    assert {ident: result["status"] for ident, result in results.items()} == {"up": 404, "encoded": 404}
    assert all(result["body"]["error"]["code"] == "UnknownPath" for result in results.values())


def test_a_base64_string_body_is_decoded(client: TestClient, tokens: Tokens) -> None:
    encoded = base64.b64encode(orjson.dumps({"tag": "is-IS"})).decode()
    results = run(client, tokens.headers(), req("1", "POST", "/me/profile/languages", encoded))
    assert results["1"]["status"] == 201
    assert results["1"]["body"]["tag"] == "is-IS"


def test_an_absolute_url_on_this_host_and_version_is_accepted(client: TestClient, tokens: Tokens) -> None:
    results = run(client, tokens.headers(), req("1", "GET", "http://testserver/beta/me/profile/languages"))
    assert results["1"]["status"] == 200


def test_exactly_twenty_requests_are_accepted(client: TestClient, tokens: Tokens) -> None:
    results = run(client, tokens.headers(), *(req(str(n), "GET", "/me/profile/languages") for n in range(20)))
    assert {r["status"] for r in results.values()} == {200}


def test_get_on_batch_is_405(client: TestClient, tokens: Tokens) -> None:
    response = client.get(BATCH, headers=tokens.headers())
    assert_graph_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "POST"


# -- batch-level rejections ---------------------------------------------------------------------

GOOD = req("good", "POST", "/me/profile/languages", {"tag": "en-US"})


@pytest.mark.parametrize(("requests", "words"), [
    pytest.param([GOOD, req("Good", "GET", "/me/profile/languages")], ["'Good'", "more than one"],
                 id="duplicate-id-ignoring-case"),
    pytest.param([GOOD, *(req(str(n), "GET", "/me") for n in range(20))], ["21 requests", "at most 20"],
                 id="more-than-20"),
    pytest.param([], ["no requests"], id="empty"),
    pytest.param([GOOD, req("a", "GET", "/me/profile/languages", dependsOn=["b"]),
                  req("b", "GET", "/me/profile/languages", dependsOn=["a"])], ["cycle", "a -> b -> a"],
                 id="cycle"),
    pytest.param([GOOD, req("self", "GET", "/me/profile/languages", dependsOn=["self"])],
                 ["cycle", "self -> self"], id="self-dependency"),
    pytest.param([GOOD, req("a", "GET", "/me/profile/languages", dependsOn=["ghost"])],
                 ["'a'", "'ghost'", "not a request"], id="unknown-dependency"),
    pytest.param([GOOD, req("a", "GET", "/me/profile/languages", dependsOn="good")], ["'a'", "dependsOn"],
                 id="depends-on-not-a-list"),
    pytest.param([GOOD, {"id": "nobody", "method": "POST", "url": "/me/profile/languages"}],
                 ["Write request id : nobody", "Content-Type header or body"], id="write-without-body"),
    pytest.param([GOOD, {"id": "untyped", "method": "POST", "url": "/me/profile/languages",
                         "body": {"tag": "en"}}], ["untyped", "Content-Type"], id="body-without-content-type"),
    pytest.param([GOOD, {"id": "get-body", "method": "GET", "url": "/me/profile/languages", "body": {}}],
                 ["'get-body'", "no Content-Type"], id="get-with-body-without-content-type"),
    pytest.param([GOOD, req("far", "GET", "https://graph.microsoft.com/beta/me/profile/languages")],
                 ["'far'", "absolute URL", "relative"], id="absolute-url-other-host"),
    pytest.param([GOOD, req("v1", "GET", "http://testserver/v1.0/me/profile/languages")],
                 ["'v1'", "absolute URL"], id="absolute-url-other-version"),
    pytest.param([GOOD, req("slashes", "GET", "//evil.example/me/profile/languages")],
                 ["'slashes'", "absolute URL"], id="scheme-relative-url"),
    pytest.param([GOOD, req("nest", "POST", "/$batch", {"requests": []})], ["'nest'", "nested"],
                 id="nested-batch"),
    pytest.param([GOOD, req("nest", "POST", "%24batch", {"requests": []})], ["'nest'", "nested"],
                 id="nested-batch-encoded"),
    pytest.param([GOOD, {"method": "GET", "url": "/me/profile/languages"}], ["requests[1]", "'id'"],
                 id="missing-id"),
    pytest.param([GOOD, {"id": 2, "method": "GET", "url": "/me/profile/languages"}], ["requests[1]", "'id'"],
                 id="numeric-id"),
    pytest.param([GOOD, {"id": "m", "url": "/me/profile/languages"}], ["'m'", "'method'"], id="missing-method"),
    pytest.param([GOOD, {"id": "u", "method": "GET"}], ["'u'", "'url'"], id="missing-url"),
    pytest.param([GOOD, "GET /me"], ["requests[1]", "JSON object"], id="request-not-an-object"),
    pytest.param([GOOD, req("h", "GET", "/me/profile/languages", headers={"X-Count": 3})],
                 ["'h'", "'X-Count'"], id="header-value-not-a-string"),
    pytest.param([GOOD, req("h", "GET", "/me/profile/languages", headers={"X-Evil": "a\r\nb: c"})],
                 ["'h'", "'X-Evil'"], id="header-value-with-newline"),
    pytest.param([GOOD, req("h", "GET", "/me/profile/languages", headers={"Bad Name": "x"})],
                 ["'h'", "'Bad Name'"], id="invalid-header-name"),
    pytest.param([GOOD, req("b64", "POST", "/me/profile/languages", "not base64!")], ["'b64'", "base64"],
                 id="string-body-not-base64"),
    pytest.param([GOOD, req("v6", "GET", "http://[::1/me/profile/languages")], ["'v6'", "not a valid URL"],
                 id="unparsable-absolute-url"),
])
def test_a_malformed_batch_is_400_naming_the_problem_and_runs_nothing(
        client: TestClient, tokens: Tokens, requests: list[Any], words: list[str]) -> None:
    headers = tokens.headers()
    response = client.post(BATCH, headers=headers, json={"requests": requests})
    assert_graph_error(response, 400, "BadRequest", *words)
    assert listed(client, headers) == []


@pytest.mark.parametrize(("content", "words"), [
    (b'{"requests": [', ["Unable to read JSON"]),
    (b'[{"id": "1"}]', ["'requests' array"]),
    (b'{"requests": {"id": "1"}}', ["'requests' array"]),
    (b'{"requests": [{"id": "1", "method": "POST", "url": "/me/profile/languages", '
     b'"headers": {"Content-Type": "application/json"}, "body": {"tag": "en", "tag": "fr"}}]}',
     ["Multiple properties with the name 'tag'"]),
])
def test_a_batch_body_that_is_not_a_batch_is_400(client: TestClient, tokens: Tokens, content: bytes,
                                                 words: list[str]) -> None:
    response = client.post(BATCH, headers={**tokens.headers(), **JSON_HEADERS}, content=content)
    assert_graph_error(response, 400, "BadRequest", *words)


def test_a_batch_that_is_not_json_is_415(client: TestClient, tokens: Tokens) -> None:
    response = client.post(BATCH, headers={**tokens.headers(), "Content-Type": "text/plain"}, content=b"x")
    assert_graph_error(response, 415, "UnsupportedMediaType")
