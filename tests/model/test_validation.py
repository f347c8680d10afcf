"""From a client's JSON object to column changes, or a BadRequest naming the problem."""

from __future__ import annotations

from typing import Any

import pytest

from graphlang.errors import BadRequest
from graphlang.model.validation import body_id, parse_changes


def test_settable_properties_become_column_changes() -> None:
    changes = parse_changes({"tag": "en-us", "spoken": "NativeOrBilingual", "allowedAudiences": "contacts,me",
                             "displayName": "English", "isSearchable": False, "thumbnailUrl": "https://x.test/e"})
    assert changes == {"tag": "en-US", "tag_key": "en-us", "spoken": 5, "allowed_audiences": 2,
                       "display_name": "English", "is_searchable": False, "thumbnail_url": "https://x.test/e"}


def test_absent_properties_are_not_changes() -> None:
    assert parse_changes({}) == {}


def test_explicit_nulls_clear_columns() -> None:
    changes = parse_changes({"tag": None, "inference": None, "spoken": None, "source": None})
    assert changes == {"tag": None, "tag_key": None, "confidence_score": None,
                       "user_has_verified_accuracy": None, "spoken": None, "source": None}


def test_server_managed_properties_and_annotations_are_ignored() -> None:
    assert parse_changes({
        "id": "x", "createdDateTime": "2001-01-01T00:00:00Z", "lastModifiedDateTime": "bad", "createdBy": 5,
        "lastModifiedBy": {}, "@odata.type": "#microsoft.graph.languageProficiency", "tag@odata.type": "x",
    }) == {}


def test_inference_members_are_split_into_columns() -> None:
    assert parse_changes({"inference": {"confidenceScore": 1024, "userHasVerifiedAccuracy": True}}) == {
        "confidence_score": 1024.0, "user_has_verified_accuracy": True}


@pytest.mark.parametrize(("body", "words"), [
    ([], ("JSON object", "array")),
    ({"fluency": "x"}, ("'fluency'", "microsoft.graph.languageProficiency", "does not exist")),
    ({"displayName": 1}, ("displayName", "string", "number")),
    ({"isSearchable": "true"}, ("isSearchable", "boolean", "string")),
    ({"inference": {"confidenceScore": True}}, ("inference/confidenceScore", "number", "boolean")),
    ({"reading": "native"}, ("'native'", "reading", "languageProficiencyLevel")),
    ({"allowedAudiences": "everyone,nobody"}, ("everyone,nobody", "allowedAudiences")),
    ({"tag": "xx-YY-ZZ-123456789"}, ("tag", "BCP-47")),
    ({"tag": "en-x-" + "-".join(["abcdefgh"] * 12)}, ("tag", "at most 100 characters")),
    ({"displayName": "a\x00b"}, ("displayName", "NUL")),
    ({"source": {"type": ["\x00"]}}, ("source/type", "NUL")),
])
def test_bad_bodies_raise_bad_request_naming_the_problem(body: Any, words: tuple[str, ...]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_changes(body)
    for word in words:
        assert word in caught.value.message


@pytest.mark.parametrize(("body", "expected"), [
    ({"id": "abc"}, "abc"), ({"id": ""}, None), ({"id": 5}, None), ({}, None),
])
def test_body_id_is_a_non_empty_string_id(body: dict[str, Any], expected: str | None) -> None:
    assert body_id(body) == expected
