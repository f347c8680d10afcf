"""$filter, $orderby, $select, $count and the unsupported options, over HTTP against a real database."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_subtests import SubTests
from starlette.testclient import TestClient

from graphlang.services import Services
from tests.api.support import ME, assert_graph_error, create
from tests.factories import Tokens
from tests.odata.support import sql_statements

ITEMS: dict[str, dict[str, Any]] = {
    "A": {"tag": "en-US", "displayName": "English", "spoken": "nativeOrBilingual", "written": "fullProfessional",
          "allowedAudiences": "organization,contacts", "isSearchable": True,
          "inference": {"confidenceScore": 0.9, "userHasVerifiedAccuracy": True}},
    "B": {"tag": "fr-FR", "displayName": "français", "spoken": "elementary", "allowedAudiences": "everyone",
          "isSearchable": False, "inference": {"confidenceScore": 0.25, "userHasVerifiedAccuracy": False}},
    "C": {"tag": "de-DE", "displayName": "Deutsch", "written": "elementary", "allowedAudiences": "me",
          "thumbnailUrl": "https://cdn.test/ÅB.png"},
    "D": {"displayName": "it's", "spoken": "conversational"},
    "E": {"tag": "nb-NO", "spoken": "professionalWorking"},
}


@pytest.fixture
def dataset(client: TestClient, tokens: Tokens) -> dict[str, dict[str, Any]]:
    """The items above, created in order A..E for the default user; keyed by letter."""
    headers = tokens.headers()
    return {letter: create(client, headers, body) for letter, body in ITEMS.items()}


def letters(dataset: dict[str, dict[str, Any]], body: dict[str, Any]) -> str:
    by_id = {item["id"]: letter for letter, item in dataset.items()}
    return "".join(by_id[item["id"]] for item in body["value"])


def query(client: TestClient, tokens: Tokens, text: str, path: str = ME) -> Any:
    return client.get(f"{path}?{text}", headers=tokens.headers())


FILTERS = [
    ("tag eq 'en-US'", "A"),
    ("tag ne 'en-US'", "BCDE"),
    ("not (tag eq 'en-US')", "BCDE"),
    ("tag eq null", "D"),
    ("tag ne null and not (tag eq null)", "ABCE"),
    ("tag in ('en-US', 'de-DE')", "AC"),
    ("not (tag in ('en-US', 'de-DE'))", "BDE"),
    ("spoken eq 'nativeOrBilingual'", "A"),
    ("spoken eq 'NATIVEORBILINGUAL'", "A"),
    ("spoken eq microsoft.graph.languageProficiencyLevel'elementary'", "B"),
    ("spoken ge 'conversational'", "ADE"),
    ("spoken lt 'conversational'", "B"),
    ("not (spoken lt 'conversational')", "ACDE"),
    ("spoken in ('elementary', null)", "BC"),
    ("spoken gt written", "A"),
    ("allowedAudiences has 'contacts'", "A"),
    ("allowedAudiences has 'organization'", "ADE"),
    ("not (allowedAudiences has 'organization')", "BC"),
    ("allowedAudiences eq 'contacts,organization'", "A"),
    ("allowedAudiences eq 'me'", "C"),
    ("isSearchable", "A"),
    ("isSearchable eq true", "A"),
    ("isSearchable eq false", "B"),
    ("not isSearchable", "BCDE"),
    ("isSearchable ne true", "BCDE"),
    ("inference/confidenceScore gt 0.5", "A"),
    ("inference/confidenceScore le 0.25", "B"),
    ("inference/confidenceScore eq null", "CDE"),
    ("inference/userHasVerifiedAccuracy eq false", "B"),
    ("inference/userHasVerifiedAccuracy", "A"),
    ("startswith(displayName, 'Eng')", "A"),
    ("startswith(tolower(displayName), 'eng')", "A"),
    ("startswith(displayName, '')", "ABCDE"),
    ("endswith(tag, '-DE')", "C"),
    ("endswith(displayName, 'Bokmål')", "E"),
    ("endswith(tag, 'xxxxxxxxxxxx-DE')", ""),
    ("contains(displayName, 'ç')", "B"),
    ("contains(thumbnailUrl, 'ÅB')", "C"),
    ("not startswith(tag, 'en')", "BCDE"),
    ("startswith(tag, 'en') eq false", "BCDE"),
    ("contains(displayName, tag)", ""),
    ("toupper(displayName) eq 'FRANçAIS'", "B"),
    ("tolower(thumbnailUrl) eq 'https://cdn.test/Åb.png'", "C"),
    ("displayName eq 'it''s'", "D"),
    ("displayName gt 'Z'", "BD"),
    ("displayName ne tag", "ABCDE"),
    ("(spoken eq 'elementary' or written eq 'elementary') and not (tag eq 'fr-FR')", "C"),
    ("lastModifiedDateTime ge 2000-01-01T00:00:00Z and createdDateTime lt 2999-01-01T00:00:00%2B01:00", "ABCDE"),
    ("createdDateTime lt 2000-01-01T00:00:00Z", ""),
]


def test_filter_selects_exactly_the_matching_items(client: TestClient, tokens: Tokens,
                                                   dataset: dict[str, dict[str, Any]], subtests: SubTests) -> None:
    for text, expected in FILTERS:
        with subtests.test(filter=text):
            response = query(client, tokens, f"$filter={text}")
            assert response.status_code == 200, response.text
            assert letters(dataset, response.json()) == expected


def test_filter_on_timestamps_compares_all_seven_fractional_digits(
        client: TestClient, tokens: Tokens, dataset: dict[str, dict[str, Any]]) -> None:
    created = dataset["B"]["createdDateTime"]
    for text, expected in [(f"createdDateTime le {created}", "AB"), (f"createdDateTime gt {created}", "CDE"),
                           (f"createdDateTime eq {created}", "B")]:
        assert letters(dataset, query(client, tokens, f"$filter={text}").json()) == expected


ORDERS = [
    ("", "ABCDE"),
    ("createdDateTime desc", "EDCBA"),
    ("displayName", "CAEBD"),  # code-point order: upper case before lower case and accents
    ("spoken desc", "AEDBC"),  # nulls last when descending
    ("spoken", "CBDEA"),  # nulls first when ascending
    ("written desc,tag", "ACDBE"),
    ("allowedAudiences desc, spoken", "BADEC"),
]


def test_orderby_sorts_with_id_as_the_last_key(client: TestClient, tokens: Tokens,
                                               dataset: dict[str, dict[str, Any]], subtests: SubTests) -> None:
    for text, expected in ORDERS:
        with subtests.test(orderby=text):
            response = query(client, tokens, f"$orderby={text}" if text else "")
            assert response.status_code == 200, response.text
            assert letters(dataset, response.json()) == expected


def test_select_on_the_list_returns_only_those_properties(client: TestClient, tokens: Tokens,
                                                          dataset: dict[str, dict[str, Any]]) -> None:
    body = query(client, tokens, "$select=tag,spoken&$filter=tag eq 'en-US'").json()
    assert body["@odata.context"].endswith("/profile/languages(tag,spoken)")
    assert body["value"] == [{"@odata.etag": dataset["A"]["@odata.etag"], "tag": "en-US",
                              "spoken": "nativeOrBilingual"}]


def test_select_on_an_item_returns_only_those_properties(client: TestClient, tokens: Tokens,
                                                         dataset: dict[str, dict[str, Any]]) -> None:
    body = query(client, tokens, "select=displayName", f"{ME}/{dataset['D']['id']}").json()
    assert {k: v for k, v in body.items() if not k.startswith("@")} == {"displayName": "it's"}


def test_list_options_on_an_item_are_400(client: TestClient, tokens: Tokens, dataset: dict[str, dict[str, Any]],
                                         subtests: SubTests) -> None:
    for option in ["$filter=tag eq 'x'", "$orderby=tag", "$top=1", "$count=true"]:
        with subtests.test(option=option):
            response = query(client, tokens, option, f"{ME}/{dataset['A']['id']}")
            assert_graph_error(response, 400, "BadRequest", option.split("=")[0], "single languageProficiency")


def test_count_true_adds_the_total_of_the_filtered_collection(client: TestClient, tokens: Tokens,
                                                               dataset: dict[str, dict[str, Any]]) -> None:
    body = query(client, tokens, "$count=true&$filter=spoken ne null&$top=2").json()
    assert body["@odata.count"] == 4
    assert len(body["value"]) == 2
    assert "@odata.count" not in query(client, tokens, "$count=false").json()


def test_count_segment_returns_plain_text(client: TestClient, tokens: Tokens,
                                          dataset: dict[str, dict[str, Any]]) -> None:
    response = query(client, tokens, "", f"{ME}/$count")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain"
    assert response.text == "5"
    assert query(client, tokens, "$filter=tag eq null", f"{ME}/$count").text == "1"
    users = "/beta/users/alice@contoso.com/profile/languages/%24count"
    assert query(client, tokens, "filter=spoken ge 'conversational'", users).text == "3"


def test_count_segment_refuses_other_options_and_unknown_users(client: TestClient, tokens: Tokens) -> None:
    assert_graph_error(query(client, tokens, "$top=1", f"{ME}/$count"), 400, "BadRequest", "'$top'",
                       "$count segment")
    response = client.get("/beta/users/nobody@contoso.com/profile/languages/$count",
                          headers=tokens.headers(scopes="User.Read.All"))
    assert response.status_code == 404


def test_expand_and_search_are_400_not_silently_ignored(client: TestClient, tokens: Tokens,
                                                        subtests: SubTests) -> None:
    for path in [ME, f"{ME}/$count", f"{ME}/00000000-0000-0000-0000-000000000000"]:
        with subtests.test(path=path):
            assert_graph_error(query(client, tokens, "$expand=createdBy", path), 400, "ExpandNotSupported",
                               "'$expand' is not supported on this resource")
            assert_graph_error(query(client, tokens, "$search=\"english\"", path), 400, "notSupported",
                               "'$search' is not supported on this resource")


BAD_QUERIES = [
    ("$filter=spoken eq 5", ["Type mismatch", "'spoken'"]),
    ("$filter=colour eq 'red'", ["Could not find a property named 'colour'"]),
    ("$filter=tag eq eq", ["Syntax error", "position 7", "unexpected 'eq'"]),
    ("$filter=createdDateTime lt 2020-01-01T00:00:00+01:00", ["position 19", "%2B"]),
    ("$filter=soundex(tag) eq 'x'", ["Unknown function 'soundex'"]),
    ("$orderby=createdBy", ["'createdBy'", "'$orderby'"]),
    ("$top=1000", ["limit of 999"]),
    ("$skip=100001", ["limit of 100000"]),
    ("$filter=" + " or ".join(["tag eq 'x'"] * 30), ["more than 100 nodes"]),
    ("$filter=tag eq '" + "x" * 5000 + "'", ["maximum query string length"]),
]


def test_bad_queries_are_400_before_any_sql_runs(client: TestClient, tokens: Tokens, services: Services,
                                                 subtests: SubTests) -> None:
    headers = tokens.headers()
    client.get(ME, headers=headers)  # the caller's user exists, so only the query could run SQL
    for text, words in BAD_QUERIES:
        with subtests.test(query=text[:60]), sql_statements(services.engine) as statements:
            response = client.get(f"{ME}?{text}", headers=headers)
            assert_graph_error(response, 400, "BadRequest", *words)
            assert statements == []
