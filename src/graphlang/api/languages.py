"""Handlers for /profile/languages: list, create, get, update, delete and the upsert seed route."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from graphlang.api.body import read_json
from graphlang.api.conditions import if_match
from graphlang.api.context import RequestContext
from graphlang.api.delta import delta_body, delta_entries, is_delta_payload
from graphlang.api.listing import query_limits, read_page
from graphlang.api.prefer import honour_return
from graphlang.api.rendering import empty_response, json_response, serialized_json_response, text_response
from graphlang.api.targets import TargetUser, resolve_target, write_owned
from graphlang.auth.permissions import Access
from graphlang.auth.principal import Principal
from graphlang.errors import LanguageNotFound
from graphlang.model.renderings import RENDERINGS, Rendering
from graphlang.model.serialize import etag_of, to_json_object
from graphlang.model.validation import body_id, parse_changes
from graphlang.odata import Scope, parse_query


def actor_identity(principal: Principal) -> bytes:
    """The identitySet Graph records in createdBy/lastModifiedBy for this caller."""
    application = (
        None if principal.app_id is None
        else {"displayName": principal.app_name, "id": principal.app_id}
    )
    # A directory user always has a display name on Graph; a token without a name claim falls back to the UPN.
    user = (
        None if principal.user_id is None
        else {"displayName": principal.name or principal.user_principal_name, "id": principal.user_id}
    )
    return orjson.dumps({"application": application, "device": None, "user": user})


def _context_url(ctx: RequestContext, target: TargetUser, select: tuple[str, ...] | None,
                 entity: bool) -> str:
    selection = f"({','.join(select)})" if select else ""
    suffix = "/$entity" if entity else ""
    return f"{ctx.service_root}/$metadata#users('{target.id}')/profile/languages{selection}{suffix}"


def entity_response(ctx: RequestContext, target: TargetUser, row: Mapping[str, Any], status: int = 200,
                    select: tuple[str, ...] | None = None,
                    headers: Mapping[str, str] | None = None) -> Response:
    if select is None:
        return rendered_response(ctx, target, RENDERINGS.of(row), status, headers)
    context = _context_url(ctx, target, select, entity=True)
    return json_response(ctx, {"@odata.context": context, **to_json_object(row, select)}, status,
                         {"ETag": etag_of(row), **(headers or {})})


def rendered_response(ctx: RequestContext, target: TargetUser, rendering: Rendering, status: int = 200,
                      headers: Mapping[str, str] | None = None) -> Response:
    """``entity_response`` of a whole item already rendered."""
    context = _context_url(ctx, target, None, entity=True)
    return serialized_json_response(rendering.entity_body(context), status,
                                    {"ETag": rendering.etag, **(headers or {})})


async def list_languages(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    options = parse_query(ctx.query, query_limits(ctx))
    target = await resolve_target(ctx, params, Access.READ)
    page = await read_page(ctx, target.id, options, (*target.visible, *options.conditions), target.audiences)
    body = {
        "@odata.context": _context_url(ctx, target, options.select, entity=False),
        **page.annotations(),
        "value": page.items(options.select),
    }
    return json_response(ctx, body)


async def count_languages(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    """``GET .../languages/$count``: the number of (filtered) items, as text/plain."""
    options = parse_query(ctx.query, query_limits(ctx), scope=Scope.COUNT)
    target = await resolve_target(ctx, params, Access.READ)
    count = await ctx.services.run(ctx.services.store.count_languages, target.id,
                                   (*target.visible, *options.conditions))
    return text_response(str(count))


async def get_language(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    options = parse_query(ctx.query, query_limits(ctx), scope=Scope.ITEM)
    language_id = params["language"]
    services = ctx.services
    if options.select is not None:  # a part of the item: read it whole, and pick
        target = await resolve_target(ctx, params, Access.READ)
        row = await services.read(services.store.read_language, target.id, language_id, target.audiences)
        return entity_response(ctx, target, row, select=options.select)
    target = await resolve_target(ctx, params, Access.READ, language_id)
    if not target.prefetched:
        rendering = await services.read(services.store.rendered_language, target.id, language_id, target.audiences)
    elif target.language is None:
        raise LanguageNotFound(language_id)
    else:
        rendering = target.language
    return rendered_response(ctx, target, rendering)


async def create_language(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    target = await resolve_target(ctx, params, Access.WRITE)
    changes = parse_changes(await read_json(ctx.request, ctx.services.settings.max_body_bytes))
    principal = ctx.require_principal()
    row = await ctx.services.write(ctx.services.store.create_language, target.id, changes,
                                   actor_identity(principal))
    location = f"{ctx.service_root}/{target.path}/profile/languages/{row['id']}"
    return honour_return(ctx.request, entity_response(ctx, target, row, status=201,
                                                      headers={"Location": location}))


async def update_language(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    target = await resolve_target(ctx, params, Access.WRITE, remembered=True)
    precondition = if_match(ctx.request)
    changes = parse_changes(await read_json(ctx.request, ctx.services.settings.max_body_bytes))
    target, row = await write_owned(ctx, params, target, ctx.services.store.update_language, params["language"],
                                    changes, actor_identity(ctx.require_principal()), precondition)
    return honour_return(ctx.request, entity_response(ctx, target, row))


async def delete_language(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    target = await resolve_target(ctx, params, Access.WRITE, remembered=True)
    await write_owned(ctx, params, target, ctx.services.store.delete_language, params["language"],
                      if_match(ctx.request))
    return empty_response(204)


async def upsert_language(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    """PATCH on the collection: with one object, update by id, else by tag, else create (200 either
    way); with a delta payload, apply all of its entries or none."""
    target = await resolve_target(ctx, params, Access.WRITE)
    body = await read_json(ctx.request, ctx.services.settings.max_body_bytes)
    actor = actor_identity(ctx.require_principal())
    if is_delta_payload(body):
        entries = delta_entries(ctx.request, body)
        results = await ctx.services.write(ctx.services.store.apply_language_delta, target.id, entries, actor)
        context = f"{_context_url(ctx, target, None, entity=False)}/$delta"
        return honour_return(ctx.request, json_response(ctx, delta_body(context, entries, results)))
    precondition = if_match(ctx.request)
    changes = parse_changes(body)
    row, _created = await ctx.services.write(ctx.services.store.upsert_language, target.id, body_id(body),
                                             changes, actor, precondition)
    return honour_return(ctx.request, entity_response(ctx, target, row))
