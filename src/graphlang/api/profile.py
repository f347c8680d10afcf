"""``GET /me/profile`` and ``GET /users/{id}/profile``: the profile entity with its languages.

Graph returns a profile with its facets inline; graphlang keeps only the languages facet, so the
profile is its ``id`` and ``languages``, under the same permission and audience rules as the list.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.api.rendering import json_response
from graphlang.api.routing import Route
from graphlang.api.targets import resolve_target
from graphlang.auth.permissions import Access
from graphlang.model.renderings import collection_items
from graphlang.storage.store import ListPlan


async def get_profile(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    target = await resolve_target(ctx, params, Access.READ)
    rows = await ctx.services.run(ctx.services.store.list_languages, target.id, ListPlan(where=target.visible))
    body = {
        "@odata.context": f"{ctx.service_root}/$metadata#users('{target.id}')/profile/$entity",
        "id": target.id,
        "languages": collection_items(rows),
    }
    return json_response(ctx, body)


ROUTES = (
    Route(("me", "profile"), {"GET": get_profile}),
    Route(("users", "{user}", "profile"), {"GET": get_profile}),
)
