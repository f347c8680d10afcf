"""CORS for browser clients (the Graph JavaScript SDK in a single-page app).

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered before
routing and authentication, so it never meets a 401 or a 405. An origin that is not allowed gets the
same empty answer without the ``Access-Control-Allow-*`` headers, which is how a browser is told no.
"""

from __future__ import annotations

from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.api.rendering import empty_response

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
# What a browser script may read: Graph's request ids, ETag for If-Match, and the headers retry and
# create logic depend on.
EXPOSED_HEADERS = ("request-id, client-request-id, ETag, Location, Retry-After, Preference-Applied, "
                   "x-ms-ags-diagnostic")
MAX_AGE_SECONDS = "600"


class Cors:
    def __init__(self, origins: tuple[str, ...]) -> None:
        self.any_origin = "*" in origins
        self.origins = frozenset(origin.rstrip("/").lower() for origin in origins if origin != "*")

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin.rstrip("/").lower() in self.origins

    def preflight(self, ctx: RequestContext) -> Response | None:
        if ctx.method != "OPTIONS":  # before building the request's headers: this runs for every request
            return None
        headers = ctx.request.headers
        if "origin" not in headers or "access-control-request-method" not in headers:
            return None
        response = empty_response(204)
        if self.allows(headers["origin"]):
            response.headers["access-control-allow-methods"] = ALLOWED_METHODS
            requested = headers.get("access-control-request-headers")
            if requested:
                response.headers["access-control-allow-headers"] = requested
            response.headers["access-control-max-age"] = MAX_AGE_SECONDS
        return response

    def add_headers(self, ctx: RequestContext, response: Response) -> None:
        origin = ctx.request.headers.get("origin")
        # Responses differ by Origin whether or not this one is allowed, so caches must key on it.
        vary = response.headers.get("vary")
        response.headers["vary"] = f"{vary}, Origin" if vary else "Origin"
        if origin is None or not self.allows(origin):
            return
        response.headers["access-control-allow-origin"] = origin
        response.headers["access-control-expose-headers"] = EXPOSED_HEADERS
