"""System query options: names, scopes, values and limits, all checked before any SQL runs."""

from __future__ import annotations

import pytest

from graphlang.config import Settings
from graphlang.errors import BadRequest
from graphlang.odata import QueryLimits, Scope, parse_query
from graphlang.odata.ast import Compare, OrderKey, Path, String


def error_of(query: str, scope: Scope = Scope.COLLECTION, limits: QueryLimits | None = None) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_query(query, limits, scope=scope)
    return caught.value


@pytest.mark.parametrize("query", [
    "$filter=tag eq 'x'&$orderby=tag desc&$top=5&$skip=2&$count=true&$select=tag",
    "filter=tag eq 'x'&orderby=tag desc&top=5&skip=2&count=true&select=tag",
    "$FILTER=tag eq 'x'&$OrderBy=tag desc&TOP=5&$Skip=2&$count=TRUE&$Select=tag",
])
def test_options_are_read_with_or_without_dollar_in_any_case(query: str) -> None:
    options = parse_query(query)
    assert options.filter == Compare("eq", Path("tag"), String("x"))
    assert options.orderby == (OrderKey("tag", True),)
    assert (options.top, options.skip, options.count, options.select) == (5, 2, True, ("tag",))


def test_custom_options_are_ignored_but_unknown_dollar_options_are_not() -> None:
    assert parse_query("tenantHint=contoso").filter is None
    assert "Unrecognized query argument specified: '$fitler'" in error_of("$fitler=tag eq 'x'").message


def test_an_option_given_twice_is_rejected_even_in_two_spellings() -> None:
    assert "more than once" in error_of("$top=1&top=2").message


@pytest.mark.parametrize(("option", "code"), [("$expand=x", "ExpandNotSupported"), ("$search=x", "notSupported"),
                                              ("expand=x", "ExpandNotSupported"), ("$apply=x", "notSupported")])
@pytest.mark.parametrize("scope", list(Scope))
def test_unsupported_options_say_so_in_every_scope(option: str, code: str, scope: Scope) -> None:
    error = error_of(option, scope)
    assert error.code == code
    assert "is not supported on this resource" in error.message


@pytest.mark.parametrize("option", ["$filter=tag eq 'x'", "$orderby=tag", "$top=1", "$skip=1", "$count=true",
                                    "$skiptoken=abc"])
def test_list_options_on_an_item_are_rejected_by_name(option: str) -> None:
    message = error_of(option, Scope.ITEM).message
    assert f"'{option.split('=')[0]}' is not allowed on a single languageProficiency" in message


@pytest.mark.parametrize("option", ["$orderby=tag", "$top=1", "$select=tag", "$count=true"])
def test_the_count_segment_takes_only_filter(option: str) -> None:
    assert "is not allowed on the $count segment" in error_of(option, Scope.COUNT).message


@pytest.mark.parametrize(("query", "words"), [
    ("$top=0", ["'$top' must be at least 1"]),
    ("$top=-1", ["'-1' of query option '$top' is not a non-negative integer"]),
    ("$top=ten", ["'ten'"]),
    ("$skip=1.5", ["'1.5' of query option '$skip'"]),
    ("$count=yes", ["'$count' must be true or false"]),
    ("$format=xml", ["only json"]),
    ("$select=tag,,spoken", ["empty property name"]),
    ("$select=colour", ["Could not find a property named 'colour'"]),
    ("$skip=1&$skiptoken=abc", ["cannot be combined"]),
])
def test_bad_option_values_are_named(query: str, words: list[str]) -> None:
    message = error_of(query).message
    for word in words:
        assert word in message


def test_format_json_is_accepted() -> None:
    assert parse_query("$format=application/json;odata.metadata=minimal").filter is None


LIMITS = QueryLimits(page_size=10, max_top=50, max_skip=200, max_filter_nodes=7, max_query_length=80)


@pytest.mark.parametrize(("query", "words"), [
    ("$top=51", ["'$top' is 51", "limit of 50", "maximum page size"]),
    ("$skip=201", ["'$skip' is 201", "limit of 200", "maximum $skip"]),
    ("$filter=tag eq 'a' or tag eq 'b' or tag eq 'c'", ["more than 7 nodes", "limit of 7",
                                                       "maximum number of nodes"]),
    ("$filter=" + "x" * 80, ["88 characters", "limit of 80", "maximum query string length"]),
])
def test_each_limit_names_itself_when_exceeded(query: str, words: list[str]) -> None:
    message = error_of(query, limits=LIMITS).message
    for word in words:
        assert word in message


def test_values_at_the_limits_are_accepted() -> None:
    options = parse_query("$top=50&$skip=200&$filter=tag eq 'a' or tag eq 'b'", LIMITS)
    assert (options.top, options.skip) == (50, 200)


def test_limits_come_from_settings() -> None:
    limits = QueryLimits.from_settings(Settings(page_size=5, max_page_size=20, max_skip=7, max_filter_nodes=9,
                                                max_query_length=99))
    assert limits == QueryLimits(page_size=5, max_top=20, max_skip=7, max_filter_nodes=9, max_query_length=99)
    assert QueryLimits.from_settings(Settings(page_size=50, max_page_size=20)).page_size == 20
