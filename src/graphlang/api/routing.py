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
from typing import NamedTuple
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


class Router:
    """Routes by how many segments they have and by their first. Where several routes match, the
    first one given wins, as each is tried in order; a parameter never takes a ``$`` segment
    (``$count``, ``$batch``), which belongs to OData.

    A path is tried only against the routes of its length that begin with its first segment or with
    a parameter: one or two, each rejected at its first literal that differs. Every request is
    matched twice (the public routes, then Graph's); a walk down a tree of segments, backing out of
    each parameter branch that led nowhere, cost more (docs/performance.md, step 55)."""

    def __init__(self, routes: Sequence[Route]) -> None:
        by_length: dict[int, list[tuple[str | None, _Shape]]] = {}
        for route in routes:
            by_length.setdefault(len(route.pattern), []).append(_shape_of(route))
        # For each length: the routes to try by the path's first segment (lower-cased), and those to
        # try for any other first segment (the routes beginning with a parameter), in the order given.
        self._routes: dict[int, tuple[dict[str, list[_Shape]], list[_Shape]]] = {
            length: ({first: [shape for begins, shape in shapes if begins in (first, None)]
                      for first in {begins for begins, _shape in shapes} if first is not None},
                     [shape for begins, shape in shapes if begins is None])
            for length, shapes in by_length.items()
        }

    def match(self, segments: Sequence[str]) -> tuple[Route, dict[str, str]] | None:
        routes = self._routes.get(len(segments))
        if routes is None:
            return None
        by_first, otherwise = routes
        for route, literals, parameters in by_first.get(segments[0].lower() if segments else "", otherwise):
            for index, literal in literals:
                if segments[index].lower() != literal:
                    break
            else:
                values = [segments[index] for index in parameters]
                if not any(value.startswith("$") for value in values):
                    return route, dict(zip(route.parameters, values, strict=True))
        return None


class _Shape(NamedTuple):
    """A route as a path is checked against it: its literal segments after the first by place
    (lower-cased; the first too when the route begins with a parameter), and the places of its
    parameters."""

    route: Route
    literals: tuple[tuple[int, str], ...]
    parameters: tuple[int, ...]


def _shape_of(route: Route) -> tuple[str | None, _Shape]:
    """The route's first segment, lower-cased (None for a parameter), and its shape."""
    places = tuple(enumerate(route.pattern))
    literals = tuple((index, part.lower()) for index, part in places if not part.startswith("{"))
    first = literals[0][1] if literals and literals[0][0] == 0 else None
    parameters = tuple(index for index, part in places if part.startswith("{"))
    return first, _Shape(route, literals[1:] if first is not None else literals, parameters)
