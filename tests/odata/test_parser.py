"""The $filter and $orderby parsers: inputs to syntax trees, and inputs to precise syntax errors."""

from __future__ import annotations

import pytest

from graphlang.errors import BadRequest
from graphlang.model.timestamps import ticks_from_datetime
from graphlang.odata.ast import (
    And,
    Boolean,
    Call,
    Compare,
    DateTime,
    Enum,
    Expr,
    Has,
    In,
    Not,
    Null,
    Number,
    Or,
    OrderKey,
    Path,
    String,
)
from graphlang.odata.parser import parse_filter, parse_orderby
from tests.odata.support import utc

TAG = Path("tag")

FILTERS: list[tuple[str, Expr]] = [
    ("tag eq 'en-US'", Compare("eq", TAG, String("en-US"))),
    ("tag ne null", Compare("ne", TAG, Null())),
    ("'en-US' eq tag", Compare("eq", String("en-US"), TAG)),
    ("displayName eq 'it''s'", Compare("eq", Path("displayName"), String("it's"))),
    ("displayName eq ''''''", Compare("eq", Path("displayName"), String("''"))),
    ("displayName eq ''", Compare("eq", Path("displayName"), String(""))),
    ("inference/confidenceScore gt 0.5", Compare("gt", Path("inference/confidenceScore"), Number(0.5))),
    ("inference/confidenceScore ge -2", Compare("ge", Path("inference/confidenceScore"), Number(-2))),
    ("inference/confidenceScore lt 1e-3", Compare("lt", Path("inference/confidenceScore"), Number(0.001))),
    ("inference/userHasVerifiedAccuracy eq true",
     Compare("eq", Path("inference/userHasVerifiedAccuracy"), Boolean(True))),
    ("isSearchable le FALSE", Compare("le", Path("isSearchable"), Boolean(False))),
    ("createdDateTime ge 2020-07-06T06:34:12.2294868Z",
     Compare("ge", Path("createdDateTime"), DateTime(ticks_from_datetime(utc(2020, 7, 6, 6, 34, 12)) + 2294868))),
    ("createdDateTime lt 2020-07-06T08:34+02:00",
     Compare("lt", Path("createdDateTime"), DateTime(ticks_from_datetime(utc(2020, 7, 6, 6, 34))))),
    ("spoken eq microsoft.graph.languageProficiencyLevel'elementary'",
     Compare("eq", Path("spoken"), Enum("microsoft.graph.languageProficiencyLevel", "elementary"))),
    ("allowedAudiences has 'organization'", Has(Path("allowedAudiences"), String("organization"))),
    ("tag in ('en-US', 'fr-FR', null)", In(TAG, (String("en-US"), String("fr-FR"), Null()))),
    ("tag eq 'a' and spoken eq 'b' or written eq 'c'",
     Or(And(Compare("eq", TAG, String("a")), Compare("eq", Path("spoken"), String("b"))),
        Compare("eq", Path("written"), String("c")))),
    ("tag eq 'a' and (spoken eq 'b' or written eq 'c')",
     And(Compare("eq", TAG, String("a")),
         Or(Compare("eq", Path("spoken"), String("b")), Compare("eq", Path("written"), String("c"))))),
    ("not (tag eq 'a')", Not(Compare("eq", TAG, String("a")))),
    ("not startswith(tag, 'en')", Not(Call("startswith", (TAG, String("en"))))),
    # 'not' binds tighter than a comparison, as in OData; the compiler rejects the result.
    ("not tag eq 'a'", Compare("eq", Not(TAG), String("a"))),
    ("NOT isSearchable AND tag EQ 'a'", And(Not(Path("isSearchable")), Compare("eq", TAG, String("a")))),
    ("startswith(tolower(displayName),'nor')",
     Call("startswith", (Call("tolower", (Path("displayName"),)), String("nor")))),
    ("contains(toupper(tag), 'US') eq false",
     Compare("eq", Call("contains", (Call("toupper", (TAG,)), String("US"))), Boolean(False))),
    ("  ( ( tag eq 'a' ) )  ", Compare("eq", TAG, String("a"))),
    ("isSearchable", Path("isSearchable")),
    ("endswith(tag,'US')", Call("endswith", (TAG, String("US")))),
]


@pytest.mark.parametrize(("text", "expected"), FILTERS, ids=[text for text, _ in FILTERS])
def test_filter_parses_to_its_syntax_tree(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


ERRORS: list[tuple[str, list[str]]] = [
    ("tag eq", ["position 6", "unexpected end of input"]),
    ("tag eq eq 'x'", ["position 7", "unexpected 'eq'"]),
    ("tag 'x'", ["position 4", "unexpected ''x''"]),
    ("tag eq 'x", ["position 7", "no closing quote"]),
    ("tag eq #", ["position 7", "'#' is not valid"]),
    ("(tag eq 'x'", ["position 11", "')' to close the '(' at position 0"]),
    ("tag eq 'x')", ["position 10", "unexpected ')'"]),
    ("tag in 'x'", ["position 7", "'(' to start the list"]),
    ("tag in (tag)", ["position 8", "a literal value in the list"]),
    ("tag in ()", ["position 8", "a literal value in the list"]),
    ("startswith(tag 'x')", ["position 15", "',' or ')' in the arguments of 'startswith'"]),
    ("inference/ 5", ["position 11", "a property name after '/'"]),
    ("createdDateTime ge 2020-07-06", ["position 19", "needs a time and a zone"]),
    ("createdDateTime ge 2020-13-06T00:00:00Z", ["position 19", "not a valid DateTimeOffset"]),
    ("inference/confidenceScore gt 5x", ["position 29", "'5x' is not a valid number"]),
    ("inference/confidenceScore add 1 gt 2", ["position 26", "arithmetic operator 'add' is not supported"]),
    ("and tag eq 'x'", ["position 0", "unexpected 'and'"]),
    ("tag eq 'x' tag", ["position 11", "unexpected 'tag'"]),
    ("", ["'$filter' is empty"]),
    ("   ", ["'$filter' is empty"]),
]


@pytest.mark.parametrize(("text", "words"), ERRORS, ids=[text or "(empty)" for text, _ in ERRORS])
def test_filter_syntax_error_names_position_and_token(text: str, words: list[str]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_filter(text)
    for word in words:
        assert word in caught.value.message, (word, caught.value.message)


def test_filter_node_limit_is_enforced_while_parsing() -> None:
    text = " or ".join(f"tag eq '{n}'" for n in range(30))  # 30 * 3 + 29 nodes
    assert isinstance(parse_filter(text, max_nodes=119), Or)
    with pytest.raises(BadRequest) as caught:
        parse_filter(text, max_nodes=118)
    assert "more than 118 nodes, which exceeds the limit of 118" in caught.value.message


def test_deep_nesting_is_a_bounded_syntax_error_not_a_crash() -> None:
    text = "(" * 500 + "tag eq 'x'" + ")" * 500
    with pytest.raises(BadRequest) as caught:
        parse_filter(text, max_nodes=10_000)
    assert "nested more than" in caught.value.message


ORDERS: list[tuple[str, tuple[OrderKey, ...]]] = [
    ("tag", (OrderKey("tag"),)),
    ("tag desc", (OrderKey("tag", True),)),
    ("spoken DESC, tag asc,createdDateTime",
     (OrderKey("spoken", True), OrderKey("tag"), OrderKey("createdDateTime"))),
    ("inference/confidenceScore desc", (OrderKey("inference/confidenceScore", True),)),
]


@pytest.mark.parametrize(("text", "expected"), ORDERS, ids=[text for text, _ in ORDERS])
def test_orderby_parses_to_keys(text: str, expected: tuple[OrderKey, ...]) -> None:
    assert parse_orderby(text) == expected


ORDER_ERRORS: list[tuple[str, list[str]]] = [
    ("tag sideways", ["position 4", "unexpected 'sideways'", "'asc', 'desc'"]),
    ("tag,", ["position 4", "unexpected end of input", "a property name"]),
    ("'tag'", ["position 0", "unexpected ''tag''"]),
    ("", ["'$orderby' is empty"]),
]


@pytest.mark.parametrize(("text", "words"), ORDER_ERRORS, ids=[text or "(empty)" for text, _ in ORDER_ERRORS])
def test_orderby_syntax_error_names_position_and_token(text: str, words: list[str]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_orderby(text)
    for word in words:
        assert word in caught.value.message, (word, caught.value.message)
