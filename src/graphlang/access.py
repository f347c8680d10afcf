"""Identity and access: the emulator's issuer endpoints, the profile routes and the least-privilege report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from starlette.responses import Response

from graphlang.api import issuer, profile
from graphlang.api.admin import require_admin
from graphlang.api.context import Answered, RequestContext
from graphlang.api.rendering import json_response
from graphlang.api.routing import Route
from graphlang.api.targets import PERMISSION_NOTE
from graphlang.auth.permissions import Check
from graphlang.auth.report import PermissionReport

if TYPE_CHECKING:
    from graphlang.app import GraphlangApp


def install(app: GraphlangApp) -> None:
    if app.services.settings.auth == "emulator":
        app.add_public_routes(*issuer.ROUTES)
    app.add_graph_routes(*profile.ROUTES)
    report = PermissionReport()

    def record_permission_use(answered: Sequence[Answered]) -> None:
        report.record_all((ctx.principal, check) for ctx, _response, _seconds in answered
                          if isinstance(check := ctx.notes.get(PERMISSION_NOTE), Check) and ctx.principal is not None)

    async def show(ctx: RequestContext, params: Mapping[str, str]) -> Response:
        require_admin(ctx)
        return json_response(ctx, report.as_json())

    if app.services.settings.control_api_enabled:  # else nothing could ever read the report
        app.observers.append(record_permission_use)
    app.add_public_routes(Route(("_graphlang", "permissions", "report"), {"GET": show}))
