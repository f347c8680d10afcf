"""Access to the control API under ``/_graphlang/``: an admin token, never a user's token."""

from __future__ import annotations

import hmac

from graphlang.api.context import RequestContext
from graphlang.errors import NotFound, Unauthenticated

ADMIN_HEADER = "x-graphlang-admin-token"


def control_api_enabled(ctx: RequestContext) -> bool:
    return ctx.services.settings.control_api_enabled


def require_admin(ctx: RequestContext) -> None:
    """Admit the request only with the admin token, as ``Authorization: Bearer`` or the admin header.

    When the control API is off (the default in service mode) its routes do not exist at all.
    """
    if not control_api_enabled(ctx):
        raise NotFound(f"No resource matches the path '{ctx.request.url.path}'.", code="UnknownPath")
    presented = ctx.request.headers.get(ADMIN_HEADER)
    if presented is None:
        scheme, _, value = ctx.request.headers.get("authorization", "").partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else None
    if not presented or not hmac.compare_digest(presented.encode(), ctx.services.admin_token.encode()):
        raise Unauthenticated("The control API requires the admin token.",
                              reason="missing or wrong admin token")
