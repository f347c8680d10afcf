"""The query string as OData system query options.

On Graph beta the ``$`` prefix is optional (``select`` is ``$select``). Names are matched
case-insensitively. Parameters that are not system query options are custom options and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from graphlang.errors import BadRequest
from graphlang.model.properties import BY_FOLDED_NAME, ENTITY_TYPE

SYSTEM_OPTIONS = frozenset(
    {"select", "filter", "orderby", "top", "skip", "count", "expand", "search", "skiptoken", "format",
     "levels", "apply", "compute", "index", "deltatoken"}
)


@dataclass(frozen=True, slots=True)
class QueryOptions:
    select: tuple[str, ...] | None = None
    raw: tuple[tuple[str, str], ...] = ()


def _system_options(query_string: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        key = name.lower()
        key = key.removeprefix("$")
        if key not in SYSTEM_OPTIONS:
            continue
        if key in options:
            raise BadRequest(f"Query option '${key}' was specified more than once, but it can be "
                             "specified at most once.")
        options[key] = value
    return options


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


def parse_query(query_string: str, *, item: bool = False) -> QueryOptions:
    """Parse and validate the options of a GET on the collection (or on one item)."""
    options = _system_options(query_string)
    select = parse_select(options["select"]) if "select" in options else None
    return QueryOptions(select=select, raw=tuple(options.items()))
