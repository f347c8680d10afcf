"""Random filters and orderings over random data return, over HTTP, exactly what a plain Python
evaluation of OData's semantics returns, in the same order, across every page of nextLinks."""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from graphlang.model import enums
from tests.api.support import ME, create
from tests.factories import Tokens
from tests.odata.support import follow, ids

Item = dict[str, Any]
Predicate = Callable[[Item], bool]
TEXTS = ["", "a", "A", "ab", "Ab", "aB", "b", "it's", "é", "É", "ß", "zz", "a b", "Ωmega"]
TAGS = ["en-US", "fr-FR", "de-DE", "nb-NO", "en"]
AUDIENCES = ["me", "family", "contacts", "organization", "everyone", "organization,contacts", "family,everyone"]
LEVELS = list(enums.LEVELS)
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
users = itertools.count()


@dataclass(frozen=True)
class Prop:
    path: str
    kind: str  # string, level, audiences, boolean, double, datetime


PROPS = [
    Prop("id", "string"), Prop("tag", "string"), Prop("displayName", "string"), Prop("thumbnailUrl", "string"),
    Prop("spoken", "level"), Prop("written", "level"), Prop("reading", "level"), Prop("proficiency", "level"),
    Prop("allowedAudiences", "audiences"), Prop("isSearchable", "boolean"),
    Prop("inference/userHasVerifiedAccuracy", "boolean"), Prop("inference/confidenceScore", "double"),
    Prop("createdDateTime", "datetime"), Prop("lastModifiedDateTime", "datetime"),
]
STRING_PROPS = [p for p in PROPS if p.kind == "string"]

# -- data -----------------------------------------------------------------------------------------

scores = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, -2.0]),
                   st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
bodies = st.fixed_dictionaries({}, optional={
    "tag": st.none() | st.sampled_from(TAGS),
    "displayName": st.none() | st.sampled_from(TEXTS),
    "thumbnailUrl": st.none() | st.sampled_from(TEXTS),
    "spoken": st.none() | st.sampled_from(LEVELS),
    "written": st.none() | st.sampled_from(LEVELS),
    "reading": st.none() | st.sampled_from(LEVELS),
    "proficiency": st.none() | st.sampled_from(LEVELS),
    "allowedAudiences": st.sampled_from(AUDIENCES),
    "isSearchable": st.none() | st.booleans(),
    "inference": st.none() | st.fixed_dictionaries({"confidenceScore": scores,
                                                     "userHasVerifiedAccuracy": st.none() | st.booleans()}),
})


def ticks(text: str) -> int:
    whole = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return (whole - EPOCH) // timedelta(seconds=1) * 10_000_000 + int(text[20:27])


def reference_item(served: dict[str, Any]) -> Item:
    """The item's values as Python compares them: enums as member values, timestamps as ticks."""
    inference = served["inference"] or {}
    level: dict[str | None, int | None] = {None: None}
    level.update(enums.LEVELS)
    return {
        "id": served["id"], "tag": served["tag"], "displayName": served["displayName"],
        "thumbnailUrl": served["thumbnailUrl"], "spoken": level[served["spoken"]],
        "written": level[served["written"]], "reading": level[served["reading"]],
        "proficiency": level[served["proficiency"]],
        "allowedAudiences": enums.parse_audiences(served["allowedAudiences"]),
        "isSearchable": served["isSearchable"],
        "inference/userHasVerifiedAccuracy": inference.get("userHasVerifiedAccuracy"),
        "inference/confidenceScore": inference.get("confidenceScore"),
        "createdDateTime": ticks(served["createdDateTime"]),
        "lastModifiedDateTime": ticks(served["lastModifiedDateTime"]),
    }


# -- filters: (OData text, Python predicate) ---------------------------------------------------


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


A_DAY = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 10**7  # in ticks


def format_ticks(value: int) -> str:
    seconds, fraction = divmod(value, 10_000_000)
    return f"{EPOCH + timedelta(seconds=seconds):%Y-%m-%dT%H:%M:%S}.{fraction:07d}Z"


def literal(draw: st.DrawFn, prop: Prop, items: list[Item]) -> tuple[str, Any]:
    """A literal for ``prop``, often a value some item has: (OData text, Python value)."""
    seen = [item[prop.path] for item in items if item[prop.path] is not None]
    if prop.kind == "string":
        value = draw(st.sampled_from(seen + TEXTS + TAGS) if seen else st.sampled_from(TEXTS + TAGS))
        return quoted(value), value
    if prop.kind == "level":
        name = draw(st.sampled_from(LEVELS))
        form = draw(st.sampled_from(["plain", "upper", "qualified"]))
        text = {"plain": quoted(name), "upper": quoted(name.upper()),
                "qualified": f"microsoft.graph.languageProficiencyLevel{quoted(name)}"}[form]
        return text, enums.LEVELS[name]
    if prop.kind == "audiences":
        members = draw(st.sampled_from(AUDIENCES))
        return quoted(members), enums.parse_audiences(members)
    if prop.kind == "boolean":
        flag = draw(st.booleans())
        return str(flag).lower(), flag
    if prop.kind == "double":
        number = draw(st.sampled_from(seen) | scores.filter(lambda s: s is not None) if seen
                      else scores.filter(lambda s: s is not None))
        return repr(number), number
    # With no item (an empty collection), any moment of a day.
    moments = st.sampled_from(seen) if seen else st.integers(min_value=A_DAY, max_value=A_DAY + 864 * 10**9)
    moment = draw(moments) + draw(st.sampled_from([-1, 0, 1]))
    return format_ticks(moment), moment


def comparison(draw: st.DrawFn, items: list[Item]) -> tuple[str, Predicate]:
    prop = draw(st.sampled_from(PROPS))
    op = draw(st.sampled_from(list(COMPARE)))
    if op in ("eq", "ne") and draw(st.booleans()) and draw(st.booleans()):
        return f"{prop.path} {op} null", lambda item: (item[prop.path] is None) == (op == "eq")
    text, value = literal(draw, prop, items)

    def holds(item: Item) -> bool:
        mine = item[prop.path]
        if mine is None:
            return op == "ne"
        return COMPARE[op](mine, value)

    if draw(st.booleans()):
        return f"{text} {flip(op)} {prop.path}", holds  # the literal on the left
    return f"{prop.path} {op} {text}", holds


def flip(op: str) -> str:
    return {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op, op)


def string_function(draw: st.DrawFn, items: list[Item]) -> tuple[str, Predicate]:
    prop = draw(st.sampled_from(STRING_PROPS))
    name = draw(st.sampled_from(["startswith", "endswith", "contains", "tolower", "toupper"]))
    text, value = literal(draw, prop, items)
    if name in ("tolower", "toupper"):
        table = ASCII_LOWER if name == "tolower" else ASCII_UPPER
        return (f"{name}({prop.path}) eq {text}",
                lambda item: item[prop.path] is not None and item[prop.path].translate(table) == value)
    test = {"startswith": str.startswith, "endswith": str.endswith, "contains": str.__contains__}[name]
    if draw(st.booleans()):
        return (f"{name}(tolower({prop.path}), {text})",
                lambda item: item[prop.path] is not None and test(item[prop.path].translate(ASCII_LOWER), value))
    return f"{name}({prop.path}, {text})", lambda item: item[prop.path] is not None and test(item[prop.path], value)


def membership(draw: st.DrawFn, items: list[Item]) -> tuple[str, Predicate]:
    prop = draw(st.sampled_from([p for p in PROPS if p.kind in ("string", "level", "double")]))
    chosen = [literal(draw, prop, items) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        chosen.append(("null", None))
    values = [value for _, value in chosen]
    return f"{prop.path} in ({', '.join(text for text, _ in chosen)})", lambda item: item[prop.path] in values


def flags(draw: st.DrawFn, items: list[Item]) -> tuple[str, Predicate]:
    text, mask = literal(draw, Prop("allowedAudiences", "audiences"), items)
    return (f"allowedAudiences has {text}",
            lambda item: item["allowedAudiences"] is not None and item["allowedAudiences"] & mask == mask)


def bare_boolean(draw: st.DrawFn, items: list[Item]) -> tuple[str, Predicate]:
    path = draw(st.sampled_from(["isSearchable", "inference/userHasVerifiedAccuracy"]))
    return path, lambda item: item[path] is True


Leaf = Callable[[st.DrawFn, list[Item]], tuple[str, Predicate]]
LEAVES: list[Leaf] = [comparison, comparison, comparison, string_function, membership, flags, bare_boolean]


@st.composite
def conditions(draw: st.DrawFn, items: list[Item]) -> tuple[str, Predicate]:
    return condition(draw, items)


def condition(draw: st.DrawFn, items: list[Item], depth: int = 0) -> tuple[str, Predicate]:
    shape = draw(st.sampled_from(["leaf", "leaf", "and", "or", "not"] if depth < 3 else ["leaf"]))
    if shape == "leaf":
        return draw(st.sampled_from(LEAVES))(draw, items)
    if shape == "not":
        text, test = condition(draw, items, depth + 1)
        return f"not ({text})", lambda item: not test(item)
    (left, test_left), (right, test_right) = condition(draw, items, depth + 1), condition(draw, items, depth + 1)
    if shape == "and":
        return f"({left}) and ({right})", lambda item: test_left(item) and test_right(item)
    return f"({left}) or ({right})", lambda item: test_left(item) or test_right(item)


# -- orderings ----------------------------------------------------------------------------------


def ordered(items: list[Item], keys: list[tuple[str, bool]]) -> list[Item]:
    """Sorted as documented: NULL is the smallest value, and id, in the direction of the last key,
    breaks every tie."""
    def compare(a: Item, b: Item) -> int:
        for path, descending in [*keys, ("id", keys[-1][1])]:
            x, y = a[path], b[path]
            if x == y:
                continue
            smaller = x is None or (y is not None and x < y)
            return (1 if smaller else -1) if descending else (-1 if smaller else 1)
        return 0
    return sorted(items, key=functools.cmp_to_key(compare))


SORTABLE = [p.path for p in PROPS if p.path != "id"]


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=st.lists(bodies, max_size=10), data=st.data())
def test_random_queries_match_a_python_reference_evaluation(client: TestClient, tokens: Tokens,
                                                            bodies: list[dict[str, Any]], data: st.DataObject) -> None:
    headers = tokens.headers(upn=f"prop{next(users)}@contoso.com")  # a fresh collection per example
    items = [reference_item(create(client, headers, body)) for body in bodies]
    filter_text, test = data.draw(conditions(items) | st.just(("true", lambda item: True)))
    some_keys = st.lists(st.tuples(st.sampled_from(SORTABLE), st.booleans()), min_size=1, max_size=3,
                         unique_by=lambda key: key[0])
    keys = data.draw(some_keys | some_keys | st.just([]))
    top = data.draw(st.integers(1, 3) | st.integers(1, 3) | st.none())  # mostly several pages
    skip = data.draw(st.none() | st.integers(0, 3))
    options = {"$filter": filter_text}
    if keys:
        options["$orderby"] = ", ".join(f"{path} {'desc' if down else 'asc'}" for path, down in keys)
    if top is not None:
        options["$top"] = str(top)
    if skip is not None:
        options["$skip"] = str(skip)
    expected = [item["id"] for item in ordered([i for i in items if test(i)], keys or [("createdDateTime", False)])]
    served = ids(follow(client, headers, f"{ME}?{urlencode(options, quote_via=quote)}"))
    assert served == expected[skip or 0:], options
