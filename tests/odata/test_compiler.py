"""Compiling filter and orderby trees: whitelisted columns, bound literals, and precise semantic errors."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ClauseElement

from graphlang.errors import BadRequest
from graphlang.odata.compiler import compile_filter, compile_orderby
from graphlang.odata.parser import parse_filter, parse_orderby

DIALECTS = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]


def sql(clause: ClauseElement, dialect: object = DIALECTS[0]) -> str:
    return str(clause.compile(dialect=dialect))  # type: ignore[arg-type]


def compiled(text: str) -> str:
    return sql(compile_filter(parse_filter(text)))


SEMANTIC_ERRORS: list[tuple[str, list[str]]] = [
    ("colour eq 'red'", ["Could not find a property named 'colour'", "microsoft.graph.languageProficiency"]),
    ("inference/colour eq 1", ["Could not find a property named 'colour'", "microsoft.graph.inferenceData"]),
    ("inference eq null", ["'inference' is of complex type", "inference/confidenceScore"]),
    ("createdBy eq null", ["'createdBy'", "cannot be used in '$filter'"]),
    ("tag/length eq 1", ["'tag' is of primitive type", "no member 'length'"]),
    ("substringof('a', tag)", ["Unknown function 'substringof'", "startswith"]),
    ("length(tag) eq 5", ["Unknown function 'length'"]),
    ("spoken eq 5", ["Type mismatch", "'spoken'", "languageProficiencyLevel", "the number 5",
                     "member name in quotes"]),
    ("spoken eq 'fluent'", ["'fluent' is not a member of 'microsoft.graph.languageProficiencyLevel'",
                            "nativeOrBilingual"]),
    ("allowedAudiences eq 'friends'", ["'friends' is not a member of 'microsoft.graph.allowedAudiences'"]),
    ("spoken eq microsoft.graph.allowedAudiences'me'", ["Type mismatch", "allowedAudiences"]),
    ("spoken eq microsoft.graph.colour'red'", ["Unknown enum type 'microsoft.graph.colour'"]),
    ("tag eq 5", ["Type mismatch", "'tag' (Edm.String)", "the number 5"]),
    ("isSearchable eq 'yes'", ["Type mismatch", "'isSearchable' (Edm.Boolean)"]),
    ("createdDateTime ge '2020-01-01T00:00:00Z'", ["Type mismatch", "without quotes"]),
    ("inference/confidenceScore gt true", ["Type mismatch", "Edm.Double"]),
    ("spoken gt written and tag eq spoken", ["Type mismatch", "'tag'", "'spoken'"]),
    ("tag", ["a condition must be Boolean", "'tag' is Edm.String"]),
    ("tolower(tag)", ["a condition must be Boolean"]),
    ("not tag eq 'x'", ["'not' binds tighter", "not (tag eq ...)"]),
    ("tag gt null", ["null can only be compared with 'eq' or 'ne'"]),
    ("startswith(tag)", ["'startswith' in '$filter' takes 2 arguments, but 1 were given"]),
    ("startswith(spoken, 'x')", ["'startswith' takes Edm.String arguments", "'spoken'"]),
    ("tolower(tag, 'x') eq 'x'", ["'tolower'", "takes 1 argument"]),
    ("startswith(tag, 'x') eq 'yes'", ["startswith(...) is a condition"]),
    ("tag has 'organization'", ["'has' tests the flags of 'allowedAudiences'", "'tag'"]),
    ("allowedAudiences has tag", ["right side of 'has'"]),
    ("allowedAudiences has 'friends'", ["'friends' is not a member"]),
    ("spoken in ('elementary', 'fluent')", ["'fluent' is not a member"]),
    ("tag in (1, 2)", ["Type mismatch", "'in'"]),
]


@pytest.mark.parametrize(("text", "words"), SEMANTIC_ERRORS, ids=[text for text, _ in SEMANTIC_ERRORS])
def test_filter_semantic_error_is_named(text: str, words: list[str]) -> None:
    with pytest.raises(BadRequest) as caught:
        compile_filter(parse_filter(text))
    for word in words:
        assert word in caught.value.message, (word, caught.value.message)


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_literals_are_bound_parameters_never_sql_text(dialect: object) -> None:
    hostile = "x'); DROP TABLE languages; --"
    escaped = hostile.replace("'", "''")
    clause = compile_filter(parse_filter(
        f"tag eq '{escaped}' or startswith(displayName, '{escaped}') or tag in ('{escaped}')"
        f" or contains(tolower(thumbnailUrl), '{escaped}')"))
    text = sql(clause, dialect)
    assert "DROP" not in text
    assert hostile in clause.compile(dialect=dialect).params.values()  # type: ignore[arg-type]


def test_property_paths_map_to_their_columns() -> None:
    text = compiled("inference/confidenceScore gt 1 and inference/userHasVerifiedAccuracy and createdDateTime "
                    "gt 2020-01-01T00:00:00Z and lastModifiedDateTime lt 2030-01-01T00:00:00Z and "
                    "allowedAudiences has 'organization' and displayName ne null and thumbnailUrl eq null")
    for column in ("confidence_score", "user_has_verified_accuracy", "created_ticks", "modified_ticks",
                   "allowed_audiences", "display_name", "thumbnail_url"):
        assert f"languages.{column}" in text


@pytest.mark.parametrize(("text", "expected"), [
    # A comparison on a nullable column is true for NULL only where OData says so.
    ("tag eq 'x'", "languages.tag = ?"),
    ("tag ne 'x'", "languages.tag != ? OR languages.tag IS NULL"),
    ("not (tag eq 'x')", "languages.tag != ? OR languages.tag IS NULL"),
    ("not (tag ne 'x')", "languages.tag = ?"),
    ("not (spoken gt 'elementary')", "languages.spoken <= ? OR languages.spoken IS NULL"),
    ("tag eq null", "languages.tag IS NULL"),
    ("not (tag eq null)", "languages.tag IS NOT NULL"),
    ("tag eq displayName", "languages.tag IS languages.display_name"),
    ("tag ne displayName", "languages.tag IS NOT languages.display_name"),
    ("isSearchable", "languages.is_searchable IS 1"),
    ("not isSearchable", "languages.is_searchable IS NOT 1"),
    # Non-nullable columns need no NULL branch.
    ("id ne 'x'", "languages.id != ?"),
    ("not (createdDateTime gt 2020-01-01T00:00:00Z)", "languages.created_ticks <= ?"),
    ("startswith(tag, 'en') eq false", "substr(languages.tag, ?, ?) != ? OR languages.tag IS NULL"),
    ("allowedAudiences has 'organization'", "languages.allowed_audiences & ? = ?"),
    ("tag in ('a', null)", "languages.tag IN (__[POSTCOMPILE_tag_1]) OR languages.tag IS NULL"),
    ("not (tag in ('a', null))", "(languages.tag NOT IN (__[POSTCOMPILE_tag_1])) AND languages.tag IS NOT NULL"),
    # Comparisons of constants are folded; case mapping touches ASCII letters only, as in the databases.
    ("'a' eq 'a'", "1"),
    ("tolower('ÅB') eq 'Åb'", "1"),
    ("toupper('å') eq 'Å'", "0"),
])
def test_negation_and_nulls_compile_to_two_valued_sql(text: str, expected: str) -> None:
    assert compiled(text) == expected


def test_contains_is_strpos_on_postgresql_and_instr_on_sqlite() -> None:
    clause = compile_filter(parse_filter("contains(tag, 'US')"))
    assert "instr(languages.tag" in sql(clause, DIALECTS[0])
    assert "strpos(languages.tag" in sql(clause, DIALECTS[1])


def test_orderby_defaults_to_created_then_id() -> None:
    keys = compile_orderby(None)
    assert [(key.path, key.descending) for key in keys] == [("createdDateTime", False), ("id", False)]
    assert [sql(key.clause) for key in keys] == ["languages.created_ticks ASC", "languages.id ASC"]


def test_orderby_appends_id_and_puts_nulls_lowest() -> None:
    keys = compile_orderby(parse_orderby("SPOKEN desc, inference/confidenceScore"))
    assert [key.path for key in keys] == ["spoken", "inference/confidenceScore", "id"]
    assert [sql(key.clause) for key in keys] == [
        "languages.spoken DESC NULLS LAST", "languages.confidence_score ASC NULLS FIRST", "languages.id ASC",
    ]


def test_appended_id_follows_the_direction_of_the_last_key() -> None:
    keys = compile_orderby(parse_orderby("tag, lastModifiedDateTime desc"))
    assert [sql(key.clause) for key in keys][-2:] == ["languages.modified_ticks DESC", "languages.id DESC"]


def test_orderby_with_id_does_not_repeat_it() -> None:
    assert [key.path for key in compile_orderby(parse_orderby("id desc, tag"))] == ["id", "tag"]


@pytest.mark.parametrize(("text", "words"), [
    ("tag, TAG desc", ["'tag' appears more than once in '$orderby'"]),
    ("colour", ["Could not find a property named 'colour'"]),
    ("createdBy", ["'createdBy'", "cannot be used in '$orderby'"]),
    ("inference", ["'inference' is of complex type"]),
])
def test_orderby_error_is_named(text: str, words: list[str]) -> None:
    with pytest.raises(BadRequest) as caught:
        compile_orderby(parse_orderby(text))
    for word in words:
        assert word in caught.value.message, (word, caught.value.message)
