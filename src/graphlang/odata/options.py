"""The query string as OData system query options, parsed, limited and compiled before any SQL runs.

On Graph beta the ``$`` prefix is optional (``select`` is ``$select``). Names are matched
case-insensitively. A ``$``-prefixed name that is not a system query option is an error (a typo such
as ``$fitler`` must not be silently ignored); other parameters are custom options and are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from urllib.parse import parse_qsl

from graphlang.errors import BadRequest
from graphlang.model.properties import BY_FOLDED_NAME, ENTITY_TYPE
from graphlang.odata import ast
from graphlang.odata.compiler import Condition, SortKey, compile_filter, compile_orderby
from graphlang.odata.limits import QueryLimits, limit_exceeded
from graphlang.odata.parser import parse_filter, parse_orderby


class Scope(Enum):
    COLLECTION = "the languages collection"
    ITEM = "a single languageProficiency"
    COUNT = "the $count segment"


ALLOWED = {
    Scope.COLLECTION: frozenset({"select", "filter", "orderby", "top", "skip", "count", "skiptoken", "format"}),
    Scope.ITEM: frozenset({"select", "format"}),
    Scope.COUNT: frozenset({"filter", "format"}),
}
# Options OData defines that this resource does not support, with the error code each answers.
UNSUPPORTED = {
    "expand": "ExpandNotSupported", "search": "notSupported", "levels": "notSupported",
    "apply": "notSupported", "compute": "notSupported", "index": "notSupported",
    "deltatoken": "notSupported", "schemaversion": "notSupported",
}
SYSTEM_OPTIONS = ALLOWED[Scope.COLLECTION] | UNSUPPORTED.keys()
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class QueryOptions:
    select: tuple[str, ...] | None = None
    filter: ast.Expr | None = None
    orderby: tuple[ast.OrderKey, ...] | None = None
    top: int | None = None
    skip: int | None = None
    count: bool = False
    skiptoken: str | None = None
    where: Condition | None = None  # the compiled $filter
    sort: tuple[SortKey, ...] = ()  # the compiled $orderby, default order and id included
    raw: tuple[tuple[str, str], ...] = ()  # every parameter as sent, for the nextLink

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The filter as WHERE clauses, to compose with others (such as audience visibility)."""
        return () if self.where is None else (self.where,)

    def binding(self) -> str:
        """The query a skiptoken belongs to: the filter and the total order, in canonical form."""
        order = ",".join(f"{key.path} {'desc' if key.descending else 'asc'}" for key in self.sort)
        return f"{self.filter!r}|{order}"


def _system_options(pairs: list[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        bare = key.removeprefix("$")
        if bare not in SYSTEM_OPTIONS:
            if key.startswith("$"):
                raise BadRequest(f"Unrecognized query argument specified: '{name}'.")
            continue
        if bare in options:
            raise BadRequest(f"Query option '${bare}' was specified more than once, but it can be "
                             "specified at most once.")
        options[bare] = value
    return options


def _check_scope(options: dict[str, str], scope: Scope) -> None:
    for name in options:
        code = UNSUPPORTED.get(name)
        if code is not None:
            raise BadRequest(f"The query option '${name}' is not supported on this resource "
                             f"({ENTITY_TYPE}).", code=code)
        if name not in ALLOWED[scope]:
            where = "the languages collection" if scope is Scope.ITEM else "a list of languages"
            raise BadRequest(f"The query option '${name}' is not allowed on {scope.value}; it applies to "
                             f"{where}.")


def parse_select(text: str) -> tuple[str, ...]:
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if not name:
            raise BadRequest("Query option '$select' contains an empty property name.")
        if name == "*":
            return tuple(BY_FOLDED_NAME[k].name for k in BY_FOLDED_NAME)
        prop = BY_FOLDED_NAME.get(name.lower())
        if prop is None:
            raise BadRequest(f"Could not find a property named '{name}' on type '{ENTITY_TYPE}'. "
                             "Check '$select'.")
        if prop.name not in names:
            names.append(prop.name)
    return tuple(names)


def _integer(name: str, text: str) -> int:
    if not _DIGITS.fullmatch(text.strip()):
        raise BadRequest(f"The value '{text}' of query option '${name}' is not a non-negative integer.")
    return int(text)


def _top(text: str, limits: QueryLimits) -> int:
    top = _integer("top", text)
    if top < 1:
        raise BadRequest(f"The value of query option '$top' must be at least 1, got {top}.")
    if top > limits.max_top:
        raise limit_exceeded(f"The value of '$top' is {top}", limits.max_top, "the maximum page size")
    return top


def _skip(text: str, limits: QueryLimits) -> int:
    skip = _integer("skip", text)
    if skip > limits.max_skip:
        raise limit_exceeded(f"The value of '$skip' is {skip}", limits.max_skip, "the maximum $skip")
    return skip


def _count(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise BadRequest(f"The value '{text}' of query option '$count' must be true or false.")
    return value == "true"


def _format(text: str) -> None:
    if text.split(";", 1)[0].strip().lower() not in ("json", "application/json"):
        raise BadRequest(f"The value '{text}' of query option '$format' is not supported; only json is.",
                         code="notSupported")


def parse_query(query_string: str, limits: QueryLimits | None = None, *,
                scope: Scope = Scope.COLLECTION) -> QueryOptions:
    """Parse, check and compile the options of a GET on the collection, one item, or ``$count``."""
    if not query_string:
        return _no_options(scope)
    return _parsed(query_string, limits or QueryLimits(), scope)


def _parsed(query_string: str, limits: QueryLimits, scope: Scope) -> QueryOptions:
    if len(query_string) > limits.max_query_length:
        raise limit_exceeded(f"The query string is {len(query_string)} characters long", limits.max_query_length,
                             "the maximum query string length")
    pairs = parse_qsl(query_string, keep_blank_values=True)
    options = _system_options(pairs)
    _check_scope(options, scope)
    if "format" in options:
        _format(options["format"])
    if "skip" in options and "skiptoken" in options:
        raise BadRequest("The query options '$skip' and '$skiptoken' cannot be combined; a nextLink's "
                         "$skiptoken already holds the position.")
    text = options.get("filter")
    expression = None if text is None else parse_filter(text, max_nodes=limits.max_filter_nodes)
    order = None if "orderby" not in options else parse_orderby(options["orderby"])
    return QueryOptions(
        select=parse_select(options["select"]) if "select" in options else None,
        filter=expression,
        orderby=order,
        top=_top(options["top"], limits) if "top" in options else None,
        skip=_skip(options["skip"], limits) if "skip" in options else None,
        count=_count(options["count"]) if "count" in options else False,
        skiptoken=options.get("skiptoken"),
        where=None if expression is None else compile_filter(expression),
        sort=compile_orderby(order) if scope is Scope.COLLECTION else (),
        raw=tuple(pairs),
    )


@cache
def _no_options(scope: Scope) -> QueryOptions:
    """What an empty query string means: the same every time, so parsed once per scope."""
    return _parsed("", QueryLimits(), scope)
