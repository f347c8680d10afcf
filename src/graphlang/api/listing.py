"""One page of a languages listing: the plan, the rows, ``@odata.count`` and ``@odata.nextLink``.

``$top`` is the page size, as on Graph's list APIs: the response holds at most ``$top`` items, and a
nextLink continues with pages of the same size to the end of the collection. Without ``$top`` pages
hold ``page_size`` items. ``$skip`` applies to the first page only; the nextLink carries the position
in a signed ``$skiptoken`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from graphlang.api.context import RequestContext
from graphlang.model.renderings import Rendering, collection_items
from graphlang.odata import skiptoken
from graphlang.odata.compiler import Condition
from graphlang.odata.keyset import check_position, row_position, seek_after
from graphlang.odata.limits import QueryLimits
from graphlang.odata.options import QueryOptions
from graphlang.services import Services
from graphlang.storage.store import ListPlan, Row

_MAC_KEY_SLOT = "odata.skiptoken-mac-key"
_LIMITS_SLOT = "odata.query-limits"
_PAGING_OPTIONS = ("skip", "skiptoken")


def query_limits(ctx: RequestContext) -> QueryLimits:
    limits = ctx.services.extensions.get(_LIMITS_SLOT)
    if limits is None:  # once per service: hashing the settings to look them up costs more
        limits = ctx.services.extensions[_LIMITS_SLOT] = QueryLimits.from_settings(ctx.services.settings)
    assert isinstance(limits, QueryLimits)
    return limits


def _secret(services: Services) -> bytes:
    secret = services.extensions.get(_MAC_KEY_SLOT)
    if secret is None:
        secret = services.extensions[_MAC_KEY_SLOT] = skiptoken.derive_secret(services.key.private_key)
    assert isinstance(secret, bytes)
    return secret


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[Row]
    count: int | None
    next_link: str | None
    rendered: Sequence[Rendering] | None = None  # the whole items, instead of rows

    def items(self, select: Sequence[str] | None) -> list[orjson.Fragment] | list[dict[str, Any]]:
        """The collection's ``value``."""
        if self.rendered is not None:
            return [rendering.fragment for rendering in self.rendered]
        return collection_items(self.rows, select)

    def annotations(self) -> dict[str, Any]:
        """The control information that precedes ``value``."""
        found: dict[str, Any] = {}
        if self.count is not None:
            found["@odata.count"] = self.count
        if self.next_link is not None:
            found["@odata.nextLink"] = self.next_link
        return found


def _binding(user_id: str, options: QueryOptions) -> str:
    """What a skiptoken is bound to: the user and the query; made only for a page that reads or
    writes one."""
    return f"{user_id}|{options.binding()}"


def next_link(ctx: RequestContext, options: QueryOptions, token: str) -> str:
    """The request's own URL with every other option kept and ``$skip``/``$skiptoken`` replaced."""
    kept = [(name, value) for name, value in options.raw
            if name.lower().removeprefix("$") not in _PAGING_OPTIONS]
    query = urlencode([*kept, ("$skiptoken", token)], quote_via=quote, safe="$,'()/:*@")
    raw_path = ctx.request.scope.get("raw_path") or ctx.request.url.path.encode()
    return f"{ctx.origin}{raw_path.decode('latin-1')}?{query}"


async def read_page(ctx: RequestContext, user_id: str, options: QueryOptions,
                    where: Sequence[Condition], audiences: int | None = None) -> Page:
    """The page ``options`` ask for among the user's languages that satisfy ``where``.

    ``audiences`` are the reader's visibility as bits (``where`` holds it as SQL), so that the first
    page in the default order, the common case by far, is one prepared statement.
    """
    services = ctx.services
    size = options.top or query_limits(ctx).page_size
    count = None
    rows: Sequence[Row]
    if options.where is None and options.orderby is None and not options.skip and options.skiptoken is None \
            and not options.count:
        if options.select is not None:
            rows = await services.read(services.store.first_page, user_id, audiences, size + 1)
        else:
            found = await services.read(services.store.rendered_first_page, user_id, audiences, size + 1)
            if isinstance(found, list):  # the whole collection, rendered before
                return Page((), None, None, found)
            rows = found
    else:
        conditions = list(where)
        if options.skiptoken is not None:
            position = skiptoken.decode(_secret(services), _binding(user_id, options), options.skiptoken)
            check_position(options.sort, position)
            conditions.append(seek_after(options.sort, position))
        plan = ListPlan(where=tuple(conditions), order_by=tuple(key.clause for key in options.sort),
                        limit=size + 1, offset=options.skip or 0)
        rows = await services.run(services.store.list_languages, user_id, plan)
        count = await services.run(services.store.count_languages, user_id, where) if options.count else None
    if len(rows) <= size:
        return Page(rows, count, None)
    rows = rows[:size]
    token = skiptoken.encode(_secret(services), _binding(user_id, options), row_position(options.sort, rows[-1]))
    return Page(rows, count, next_link(ctx, options, token))
