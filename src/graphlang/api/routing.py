"""Matching Graph paths segment by segment.

Matching works on the raw path: each segment is percent-decoded on its own, so a UPN whose
``/`` the SDK sent as ``%2F`` stays one segment. Literal segments match case-insensitively, as
Graph's do (``/Beta/Me/Profile`` works), and a key may be given in OData's parentheses
(``users('adele@contoso.com')``, ``languages('{id}')``) as well as as a segment of its own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
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

    @property
    def template(self) -> str:
        return "/" + "/".join(self.pattern)


def split_path(raw_path: bytes) -> list[str]:
    text = raw_path.decode("latin-1")
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
    def __init__(self, routes: Sequence[Route]) -> None:
        self._by_length: dict[int, list[Route]] = {}
        for route in routes:
            self._by_length.setdefault(len(route.pattern), []).append(route)

    def match(self, segments: Sequence[str]) -> tuple[Route, dict[str, str]] | None:
        for route in self._by_length.get(len(segments), ()):
            params: dict[str, str] = {}
            for expected, actual in zip(route.pattern, segments, strict=True):
                if expected.startswith("{"):
                    if actual.startswith("$"):
                        break
                    params[expected[1:-1]] = actual
                elif expected.lower() != actual.lower():
                    break
            else:
                return route, params
        return None
