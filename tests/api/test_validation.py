"""Bad input is a 4xx naming the problem and changes nothing; valid input is canonicalised."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from tests.api.support import ME, assert_graph_error, create, entity, listed
from tests.factories import Tokens

LIMIT = 1024 * 1024
ENTITY_TYPE = "microsoft.graph.languageProficiency"

# (body, words the message must contain)
BAD_BODIES: list[tuple[bytes, tuple[str, ...]]] = [
    (b'{"tag": "en-US",', ("JSON",)),
    (b"{'tag': 'en-US'}", ("JSON",)),
    (b"", ("empty",)),
    (b"[]", ("JSON object", "array")),
    (b'"en-US"', ("JSON object", "string")),
    (b"42", ("JSON object", "number")),
    (b"null", ("JSON object", "null")),
    (b'{"tagg": "en-US"}', ("'tagg'", f"'{ENTITY_TYPE}'", "does not exist")),
    (b'{"Tag": "en-US"}', ("'Tag'", "does not exist")),
    (b'{"inference": {"score": 1}}', ("inference/score", "microsoft.graph.inferenceData")),
    (b'{"source": {"kind": "User"}}', ("source/kind", "does not exist")),
    (b'{"sources": [{"id": "x"}]}', ("sources/id", "microsoft.graph.profileSourceAnnotation")),
    (b'{"displayName": 5}', ("displayName", "string", "number")),
    (b'{"tag": ["en"]}', ("tag", "string", "array")),
    (b'{"isSearchable": "yes"}', ("isSearchable", "boolean")),
    (b'{"spoken": 5}', ("spoken", "string", "number")),
    (b'{"inference": "high"}', ("inference", "object")),
    (b'{"inference": {"confidenceScore": "high"}}', ("inference/confidenceScore", "number")),
    (b'{"inference": {"userHasVerifiedAccuracy": 1}}', ("inference/userHasVerifiedAccuracy", "boolean")),
    (b'{"source": {"type": 5}}', ("source/type", "array")),
    (b'{"sources": {"sourceId": "x"}}', ("sources", "array")),
    (b'{"sources": [{"properties": "tag"}]}', ("sources/properties", "array")),
    (b'{"spoken": "fluent"}', ("'fluent'", "spoken", "microsoft.graph.languageProficiencyLevel", "nativeOrBilingual")),
    (b'{"proficiency": "proficiency-value"}', ("proficiency-value", "proficiency")),
    (b'{"written": ""}', ("written",)),
    (b'{"allowedAudiences": "world"}', ("'world'", "allowedAudiences", "microsoft.graph.allowedAudiences")),
    (b'{"allowedAudiences": "organization,world"}', ("organization,world", "allowedAudiences")),
    (b'{"allowedAudiences": ""}', ("allowedAudiences",)),
    (b'{"allowedAudiences": []}', ("allowedAudiences",)),
    (b'{"allowedAudiences": 8}', ("allowedAudiences", "number")),
    (b'{"tag": "not a tag"}', ("'not a tag'", "tag", "BCP-47")),
    (b'{"tag": "123"}', ("'123'", "BCP-47")),
    (b'{"tag": ""}', ("tag", "BCP-47")),
    (b'{"tag": "tag-value"}', ("tag-value", "BCP-47")),
    (b'{"tag": "en-x-' + b"-".join([b"abcdefgh"] * 12) + b'"}', ("tag", "at most 100 characters")),
    (b"\xff\xfe", ("JSON", "UTF-8")),
    (b'{"inference": {"confidenceScore": 1e400}}', ("JSON", "infinity")),
    (b'{"displayName": "a\\u0000b"}', ("displayName", "NUL")),
    (b'{"sources": [{"properties": ["\\u0000"]}]}', ("sources/properties", "NUL")),
    (b'{"tag": "en-US", "tag": "fr-FR"}', ("Multiple properties", "'tag'", "duplicate property names")),
    # A colon in a value, or a name spelled with an escape, must not hide a name given twice.
    (b'{"displayName": "a: b", "tag": "en-US", "tag": "fr-FR"}', ("Multiple properties", "'tag'")),
    (b'{"tag": "en-US", "t\\u0061g": "fr-FR"}', ("Multiple properties", "'tag'")),
    (b'{"tag": "en-US", "inference": {"confidenceScore": 1, "confidenceScore": 2}}',
     ("'confidenceScore'", "duplicate property names")),
    (b'{"allowedAudiences": {"organization": true}}', ("allowedAudiences", "array of member names", "object")),
]
@pytest.fixture
def headers(tokens: Tokens) -> dict[str, str]:
    return tokens.headers()


@pytest.fixture
def existing(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    return create(client, headers, {"tag": "en-US", "spoken": "elementary", "displayName": "English"})


def json_headers(headers: dict[str, str], content_type: str = "application/json") -> dict[str, str]:
    return {**headers, "Content-Type": content_type}


def assert_unchanged(client: TestClient, headers: dict[str, str], existing: dict[str, Any],
                     case: object = None) -> None:
    assert [entity(x) for x in listed(client, headers)] == [entity(existing)], case


@pytest.mark.parametrize("method", ["POST", "PATCH item", "PATCH collection"])
def test_bad_body_is_400_naming_the_problem_and_changes_nothing(client: TestClient, headers: dict[str, str],
                                                                existing: dict[str, Any], method: str) -> None:
    path = f"{ME}/{existing['id']}" if method == "PATCH item" else ME
    for body, words in BAD_BODIES:
        response = client.request(method.split()[0], path, headers=json_headers(headers), content=body)
        assert_graph_error(response, 400, "BadRequest", *words, case=body)
        assert_unchanged(client, headers, existing, case=body)


def test_one_bad_property_rejects_the_whole_patch(client: TestClient, headers: dict[str, str],
                                                  existing: dict[str, Any]) -> None:
    response = client.patch(f"{ME}/{existing['id']}", headers=headers,
                            json={"displayName": "Changed", "spoken": "fluent"})
    assert_graph_error(response, 400, "BadRequest", "spoken")
    assert_unchanged(client, headers, existing)


@pytest.mark.parametrize("method", ["POST", "PATCH item", "PATCH collection"])
def test_non_json_content_type_is_415_and_changes_nothing(client: TestClient, headers: dict[str, str],
                                                          existing: dict[str, Any], method: str) -> None:
    path = f"{ME}/{existing['id']}" if method == "PATCH item" else ME
    for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", None):
        sent = headers if content_type is None else json_headers(headers, content_type)
        response = client.request(method.split()[0], path, headers=sent, content=b'{"displayName": "Changed"}')
        error = assert_graph_error(response, 415, "UnsupportedMediaType", "application/json", case=content_type)
        assert (content_type or "(none)").split(";")[0] in error["message"]
        assert_unchanged(client, headers, existing, case=content_type)


def test_json_content_types_with_parameters_are_accepted(client: TestClient, headers: dict[str, str]) -> None:
    for content_type in ("application/json; charset=utf-8", "Application/JSON",
                         "application/json;odata.metadata=minimal", "application/merge-patch+json"):
        response = client.post(ME, headers=json_headers(headers, content_type), content=b'{"tag": "en"}')
        assert response.status_code == 201, (content_type, response.text)


def test_body_over_one_mebibyte_is_413_and_creates_nothing(client: TestClient, headers: dict[str, str],
                                                           existing: dict[str, Any]) -> None:
    body = orjson.dumps({"tag": "en", "displayName": "x" * LIMIT})
    response = client.post(ME, headers=json_headers(headers), content=body)
    assert_graph_error(response, 413, "RequestEntityTooLarge", str(LIMIT))
    assert_unchanged(client, headers, existing)


def test_chunked_body_over_one_mebibyte_without_length_is_413(client: TestClient, headers: dict[str, str],
                                                              existing: dict[str, Any]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"tag": "en", "displayName": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = client.patch(f"{ME}/{existing['id']}", headers=json_headers(headers), content=chunks())
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_graph_error(response, 413, "RequestEntityTooLarge")
    assert_unchanged(client, headers, existing)


def test_body_of_exactly_the_limit_is_accepted(client: TestClient, headers: dict[str, str]) -> None:
    prefix, suffix = b'{"tag": "en", "displayName": "', b'"}'
    body = prefix + b"x" * (LIMIT - len(prefix) - len(suffix)) + suffix
    assert len(body) == LIMIT
    response = client.post(ME, headers=json_headers(headers), content=body)
    assert response.status_code == 201, response.text[:200]


def test_levels_are_accepted_in_any_case_and_returned_canonical(client: TestClient,
                                                                headers: dict[str, str]) -> None:
    levels = ("spoken", "written", "reading", "proficiency")
    for sent, stored in [("nativeOrBilingual", "nativeOrBilingual"), ("NATIVEORBILINGUAL", "nativeOrBilingual"),
                         ("NativeOrBilingual", "nativeOrBilingual"), ("limitedworking", "limitedWorking"),
                         (" elementary ", "elementary"), ("unknownFutureValue", "unknownFutureValue")]:
        created = create(client, headers, dict.fromkeys(levels, sent))
        fetched = client.get(f"{ME}/{created['id']}", headers=headers).json()
        assert [created[p] for p in levels] == [fetched[p] for p in levels] == [stored] * 4, sent


def test_allowed_audiences_flags_are_combined_and_returned_canonical(client: TestClient,
                                                                     headers: dict[str, str]) -> None:
    cases: list[tuple[Any, str]] = [
        ("organization", "organization"), ("ORGANIZATION", "organization"), ("groupmembers", "groupMembers"),
        ("me", "me"), ("organization,contacts", "contacts,organization"), (" everyone , family ", "family,everyone"),
        ("contacts,contacts", "contacts"), ("me,contacts", "contacts"),
        (["federatedOrganizations", "Organization"], "organization,federatedOrganizations"), (["me"], "me"),
    ]
    for sent, stored in cases:
        created = create(client, headers, {"allowedAudiences": sent})
        fetched = client.get(f"{ME}/{created['id']}", headers=headers).json()
        assert created["allowedAudiences"] == fetched["allowedAudiences"] == stored, sent


def test_allowed_audiences_defaults_to_organization(client: TestClient, headers: dict[str, str]) -> None:
    assert create(client, headers, {"tag": "en"})["allowedAudiences"] == "organization"


def test_allowed_audiences_null_on_create_stays_null(client: TestClient, headers: dict[str, str]) -> None:
    assert create(client, headers, {"allowedAudiences": None})["allowedAudiences"] is None


def test_patch_without_allowed_audiences_keeps_it(client: TestClient, headers: dict[str, str]) -> None:
    created = create(client, headers, {"allowedAudiences": "family"})
    patched = client.patch(f"{ME}/{created['id']}", headers=headers, json={"spoken": "elementary"}).json()
    assert patched["allowedAudiences"] == "family"


def test_tags_are_stored_in_canonical_form(client: TestClient, headers: dict[str, str]) -> None:
    for sent, stored in [("en-us", "en-US"), ("EN-US", "en-US"), ("nb-no", "nb-NO"), ("zh-hant-tw", "zh-Hant-TW"),
                         ("en_US", "en-US"), (" fr ", "fr"), ("iw", "he")]:
        created = create(client, headers, {"tag": sent})
        fetched = client.get(f"{ME}/{created['id']}", headers=headers).json()
        assert created["tag"] == fetched["tag"] == stored, sent


def test_display_name_is_filled_from_the_tag_on_create(client: TestClient, headers: dict[str, str]) -> None:
    for tag, name in [("nb-NO", "Norwegian Bokmål"), ("en-US", "English"), ("fr-CA", "French"),
                      ("zh-Hant-TW", "Chinese (Traditional)"), ("sr-Latn", "Serbian (Latin)")]:
        assert create(client, headers, {"tag": tag})["displayName"] == name, tag


def test_a_given_display_name_wins_over_the_tag(client: TestClient, headers: dict[str, str]) -> None:
    assert create(client, headers, {"tag": "nb-NO", "displayName": "Norsk"})["displayName"] == "Norsk"


def test_an_explicit_null_display_name_stays_null(client: TestClient, headers: dict[str, str]) -> None:
    assert create(client, headers, {"tag": "nb-NO", "displayName": None})["displayName"] is None


def test_patching_the_tag_keeps_the_display_name(client: TestClient, headers: dict[str, str]) -> None:
    created = create(client, headers, {"tag": "nb-NO"})
    patched = client.patch(f"{ME}/{created['id']}", headers=headers, json={"tag": "nn-no"}).json()
    assert (patched["tag"], patched["displayName"]) == ("nn-NO", "Norwegian Bokmål")
