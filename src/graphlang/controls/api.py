"""The control API under ``/_graphlang/``.

``health`` and ``ready`` are always served, without a token, for orchestrators and test harnesses.
Everything else needs the admin token (``api.admin.require_admin``) and does not exist when the
control API is off (the default in service mode).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from graphlang import __version__
from graphlang.api.admin import require_admin
from graphlang.api.body import is_json, read_body, read_json
from graphlang.api.context import RequestContext
from graphlang.api.rendering import empty_response, json_response
from graphlang.api.routing import Route
from graphlang.controls.documents import YAML_MEDIA_TYPES, parse_document
from graphlang.controls.faults import FaultRule
from graphlang.controls.fixtures import parse_fixture
from graphlang.controls.runtime import Controls
from graphlang.errors import BadRequest, NotFound, UnsupportedMediaType, UserNotFound
from graphlang.storage.seed import SeedConflict, SeedCounts, load_fixture
from graphlang.storage.snapshot import SnapshotError, load_snapshot, tables_in, write_snapshot

ROOT = "_graphlang"


def _flag(ctx: RequestContext, name: str, default: bool) -> bool:
    value = ctx.request.query_params.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise BadRequest(f"The query parameter '{name}' must be true or false, got '{value}'.")
    return value.lower() == "true"


def _whole(ctx: RequestContext, name: str) -> int | None:
    value = ctx.request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(f"The query parameter '{name}' must be a whole number of at least 1, got '{value}'.")
    return int(value)


def _seeded(counts: SeedCounts | None) -> dict[str, int] | None:
    return None if counts is None else counts.to_json()


class ControlApi:
    def __init__(self, controls: Controls) -> None:
        self.controls = controls

    def routes(self) -> list[Route]:
        return [
            Route((ROOT, "health"), {"GET": self.health}),
            Route((ROOT, "ready"), {"GET": self.ready}),
            Route((ROOT, "reset"), {"POST": self.reset}),
            Route((ROOT, "seed"), {"POST": self.seed}),
            Route((ROOT, "snapshot"), {"GET": self.get_snapshot, "PUT": self.put_snapshot}),
            Route((ROOT, "requests"), {"GET": self.list_requests, "DELETE": self.clear_requests}),
            Route((ROOT, "faults"), {"GET": self.list_faults, "POST": self.add_faults,
                                     "DELETE": self.remove_faults}),
            Route((ROOT, "faults", "{rule}"), {"GET": self.get_fault, "DELETE": self.remove_fault}),
            Route((ROOT, "throttling"), {"GET": self.get_throttling, "PATCH": self.update_throttling}),
        ]

    # -- health -----------------------------------------------------------------------------------

    async def health(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        return json_response(ctx, {"status": "ok", "version": __version__})

    async def ready(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        """Ready when the database answers; services.run turns an unreachable one into a 503."""
        await ctx.services.run(ctx.services.store.ping)
        return json_response(ctx, {"status": "ready"})

    # -- state ------------------------------------------------------------------------------------

    async def reset(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        reseed = _flag(ctx, "reseed", True)
        ref = ctx.request.query_params.get("user")
        if ref is None:
            seeded = await self.controls.reset(reseed)
            return json_response(ctx, {"reset": "all", "seeded": _seeded(seeded)})
        tenant = ctx.request.query_params.get("tenant", ctx.services.settings.tenant).lower()
        user = await ctx.services.run(ctx.services.store.find_user, tenant, ref)
        if user is None:
            raise UserNotFound(ref)
        removed, seeded = await self.controls.reset_user(user["id"], reseed)
        return json_response(ctx, {"reset": user["id"], "languagesRemoved": removed, "seeded": _seeded(seeded)})

    async def seed(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        content_type = ctx.request.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if not is_json(content_type) and media not in YAML_MEDIA_TYPES:
            raise UnsupportedMediaType(f"The fixture's Content-Type '{content_type or '(none)'}' is not "
                                       "supported; send application/json or application/yaml.")
        raw = await read_body(ctx.request, ctx.services.settings.snapshot_max_bytes)
        document = parse_document(raw, yaml_syntax=media in YAML_MEDIA_TYPES, what="fixture")
        fixture = parse_fixture(document, ctx.services.settings.tenant)
        try:
            counts = await ctx.services.run(load_fixture, ctx.services.store, fixture)
        except SeedConflict as exc:
            raise BadRequest(str(exc)) from exc
        return json_response(ctx, {"seeded": counts.to_json()})

    async def get_snapshot(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        out = io.BytesIO()
        await ctx.services.run(write_snapshot, ctx.services.store, out)
        response = Response(out.getvalue(), media_type=None)
        response.headers["content-type"] = "application/json"
        return response

    async def put_snapshot(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        document = await read_json(ctx.request, ctx.services.settings.snapshot_max_bytes)
        try:
            counts = await ctx.services.run(load_snapshot, ctx.services.store, tables_in(document))
        except SnapshotError as exc:
            raise BadRequest(str(exc)) from exc
        self.controls.forget_caches()
        return json_response(ctx, {"imported": counts.to_json()})

    # -- journal ----------------------------------------------------------------------------------

    async def list_requests(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        entries = self.controls.journal.entries()
        status = _whole(ctx, "status")
        if status is not None:
            entries = [entry for entry in entries if entry["status"] == status]
        if _flag(ctx, "clientMistakes", False):
            entries = [entry for entry in entries if entry["clientMistake"]]
        top = _whole(ctx, "top")
        if top is not None:
            entries = entries[-top:]
        return json_response(ctx, {"value": entries})

    async def clear_requests(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        self.controls.journal.clear()
        return empty_response(204)

    # -- faults -----------------------------------------------------------------------------------

    def _rule(self, params: Mapping[str, str]) -> FaultRule:
        rule = self.controls.faults.get(params["rule"])
        if rule is None:
            raise NotFound(f"There is no fault rule with id '{params['rule']}'.")
        return rule

    async def list_faults(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        return json_response(ctx, {"value": [rule.to_json() for rule in self.controls.faults.all()]})

    async def add_faults(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        """One rule (answered with it, and its Location), or a list of rules added all or none."""
        require_admin(ctx)
        body = await read_json(ctx.request, ctx.services.settings.max_body_bytes)
        if isinstance(body, list):
            rules = self.controls.faults.add_all(body)
            return json_response(ctx, {"value": [rule.to_json() for rule in rules]}, 201)
        rule = self.controls.faults.add_all([body])[0]
        location = f"{ctx.origin}/{ROOT}/faults/{rule.id}"
        return json_response(ctx, rule.to_json(), 201, {"Location": location})

    async def get_fault(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        return json_response(ctx, self._rule(params).to_json())

    async def remove_fault(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        self.controls.faults.remove(self._rule(params).id)
        return empty_response(204)

    async def remove_faults(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        self.controls.faults.replace_all([])
        return empty_response(204)

    # -- throttling -------------------------------------------------------------------------------

    async def get_throttling(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        return json_response(ctx, self.controls.throttle.policy.to_json())

    async def update_throttling(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        """Change the throttling settings of this process until the next reset; buckets refill."""
        require_admin(ctx)
        body: Any = await read_json(ctx.request, ctx.services.settings.max_body_bytes)
        throttle = self.controls.throttle
        throttle.policy = throttle.policy.updated(body)
        await throttle.buckets.clear()
        return json_response(ctx, throttle.policy.to_json())
