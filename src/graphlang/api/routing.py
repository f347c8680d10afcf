"""Matching Graph paths segment by segment.

Matching works on the raw path: each segment is percent-decoded on its own, so a UPN whose
``/`` the SDK sent as ``%2F`` stays one segment. Literal segments match case-insensitively, as
Graph's do (``/Beta/Me/Profile`` works), and a key may be given in OData's parentheses
(``users('adele@contoso.com')``, ``languages('{id}')``) as well as as a segment of its own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.errors import BadRequest

Handler = Callable[[RequestContext, Mapping[str, str]], Awaitable[Response]]
# A string key in parentheses: a quote inside it is doubled, as in every OData string literal.
_PARENTHESISED_KEY = re.compile(r"(?P<name>[^()']+)\('(?P<key>(?:[^']|'')+)'\)")


@dataclass(frozen=True)
class Route:
    pattern: tuple[str, ...]
    methods: Mapping[str, Handler]
    template: str = field(init=False)  # "/users/{user}/profile", which metrics and logs name
    parameters: tuple[str, ...] = field(init=False)  # ("user",): the names of its {} segments, in order

    def __post_init__(self) -> None:
        object.__setattr__(self, "template", "/" + "/".join(self.pattern))
        object.__setattr__(self, "parameters", tuple(part[1:-1] for part in self.pattern if part.startswith("{")))


def split_path(raw_path: bytes) -> list[str]:
    text = raw_path.decode("latin-1")
    if "%" not in text and "')" not in text:
        # Nothing to decode and no parenthesised key: the common case, without a pass per segment.
        return [part for part in text.split("/") if part]
    segments: list[str] = []
    for part in text.split("/"):
        if part:
            segments.extend(_key_as_segment(unquote(part, errors="strict")))
    if any("\x00" in segment for segment in segments):
        # No id or name contains NUL, and PostgreSQL cannot even compare text holding one.
        raise BadRequest("The request path contains a percent-encoded NUL character (%00).")
    return segments


def _key_as_segment(segment: str) -> tuple[str, ...]:
    """OData's parenthesised key, ``languages('{id}')``, as the key-as-segment form ``languages/{id}``."""
    if not segment.endswith("')"):
        return (segment,)
    found = _PARENTHESISED_KEY.fullmatch(segment)
    if found is None:
        return (segment,)
    return found["name"], found["key"].replace("''", "'")


class _Node:
    """One step of the route tree: literal children by lower-cased name, one parameter child, and
    the first-given route that ends here, with its place in the order given."""

    __slots__ = ("end", "literals", "parameter")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        self.end: tuple[int, Route] | None = None


class Router:
    """Routes as a tree walked segment by segment. Where several routes match, the first one given
    wins, as if each were tried in order; a parameter never takes a ``$`` segment (``$count``,
    ``$batch``), which belongs to OData."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self._root = _Node()
        for index, route in enumerate(routes):
            node = self._root
            for part in route.pattern:
                if part.startswith("{"):
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.literals.setdefault(part.lower(), _Node())
            if node.end is None:
                node.end = (index, route)

    def match(self, segments: Sequence[str]) -> tuple[Route, dict[str, str]] | None:
        found = _walk(self._root, segments, 0, [])
        if found is None:
            return None
        _index, route, values = found
        return route, dict(zip(route.parameters, values, strict=True))


_Found = tuple[int, Route, tuple[str, ...]]  # its place in the order given, the route, parameter values


def _walk(node: _Node, segments: Sequence[str], depth: int, values: list[str]) -> _Found | None:
    """The first-given route matching ``segments[depth:]`` below ``node``, with every parameter value."""
    if depth == len(segments):
        if node.end is None:
            return None
        return node.end[0], node.end[1], tuple(values)
    segment = segments[depth]
    best: _Found | None = None
    literal = node.literals.get(segment.lower())
    if literal is not None:
        best = _walk(literal, segments, depth + 1, values)
    if node.parameter is not None and not segment.startswith("$"):
        values.append(segment)
        other = _walk(node.parameter, segments, depth + 1, values)
        values.pop()
        if other is not None and (best is None or other[0] < best[0]):
            best = other
    return best
