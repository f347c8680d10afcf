"""The two enums of languageProficiency, as the beta CSDL declares them."""

from __future__ import annotations

import pytest

from graphlang.model import enums


def test_levels_are_the_csdl_members_in_declared_order() -> None:
    assert list(enums.LEVELS) == ["elementary", "conversational", "limitedWorking", "professionalWorking",
                                  "fullProfessional", "nativeOrBilingual", "unknownFutureValue"]
    assert list(enums.LEVELS.values()) == list(range(7))


def test_audiences_are_the_csdl_flags() -> None:
    assert dict(enums.AUDIENCES) == {"me": 0, "family": 1, "contacts": 2, "groupMembers": 4, "organization": 8,
                                     "federatedOrganizations": 16, "everyone": 32, "unknownFutureValue": 64}
    assert enums.AUDIENCES["organization"] == enums.DEFAULT_AUDIENCES


@pytest.mark.parametrize(("text", "value"), [
    ("nativeOrBilingual", 5), ("NATIVEORBILINGUAL", 5), (" elementary ", 0), ("LimitedWorking", 2),
])
def test_level_names_parse_case_insensitively(text: str, value: int) -> None:
    assert enums.parse_level(text) == value


@pytest.mark.parametrize("text", ["fluent", "", "native", "5", "nativeOrBilingual,elementary"])
def test_unknown_level_names_do_not_parse(text: str) -> None:
    assert enums.parse_level(text) is None


@pytest.mark.parametrize(("text", "mask"), [
    ("me", 0), ("ORGANIZATION", 8), ("organization,contacts", 10), (" family , everyone ", 33),
    ("contacts,contacts", 2), ("me,family", 1),
])
def test_audiences_parse_one_member_or_a_combination(text: str, mask: int) -> None:
    assert enums.parse_audiences(text) == mask


@pytest.mark.parametrize("text", ["", "world", "organization,world", "organization,", ",", "8"])
def test_audiences_with_any_unknown_part_do_not_parse(text: str) -> None:
    assert enums.parse_audiences(text) is None


@pytest.mark.parametrize(("mask", "text"), [
    (0, "me"), (8, "organization"), (10, "contacts,organization"), (127, "family,contacts,groupMembers,"
                                                                         "organization,federatedOrganizations,"
                                                                         "everyone,unknownFutureValue"),
])
def test_audiences_format_canonically_in_declaration_order(mask: int, text: str) -> None:
    assert enums.format_audiences(mask) == text


def test_every_audience_combination_round_trips() -> None:
    for mask in range(128):
        assert enums.parse_audiences(enums.format_audiences(mask)) == mask
