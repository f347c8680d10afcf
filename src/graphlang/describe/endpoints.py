"""The self-description routes: ``/beta/$metadata``, the service document ``/beta/`` and ``/openapi.json``.

All three are anonymous, as Graph's ``$metadata`` and service document are: they describe the API,
not anyone's data. The CSDL is rendered once, at install. The OpenAPI document lists the routes of
every feature, and features installed after this one add routes of their own, so it is rendered once,
on its first request, when the route table is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import orjson
from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.api.rendering import json_response
from graphlang.api.routing import Route
from graphlang.describe.csdl import build_csdl, service_document
from graphlang.describe.openapi import build_openapi
from graphlang.odata.limits import QueryLimits

if TYPE_CHECKING:
    from graphlang.app import GraphlangApp

XML_TYPE = "application/xml"


class SelfDescription:
    def __init__(self, app: GraphlangApp) -> None:
        self._app = app
        self._csdl = build_csdl()
        self._openapi: bytes | None = None

    async def metadata(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        return Response(self._csdl, media_type=XML_TYPE, headers={"OData-Version": "4.0"})

    async def service_document(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        return json_response(ctx, service_document(f"{ctx.service_root}/$metadata"))

    async def openapi(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        if self._openapi is None:
            routes = [(template, route.methods.keys()) for template, route in self._app.served_routes()]
            limits = QueryLimits.from_settings(self._app.services.settings)
            self._openapi = orjson.dumps(build_openapi(routes, limits))
        return Response(self._openapi, media_type="application/json")


def install(app: GraphlangApp) -> None:
    described = SelfDescription(app)
    app.add_public_routes(
        Route(("beta", "$metadata"), {"GET": described.metadata}),
        Route(("beta",), {"GET": described.service_document}),
        Route(("openapi.json",), {"GET": described.openapi}),
    )
