"""What the controls applied to a request, passed from the guards to the journal in ``ctx.notes``."""

from __future__ import annotations

from graphlang.api.context import RequestContext

APPLIED = "applied"


def note_applied(ctx: RequestContext, what: str) -> None:
    """Record that a control (``throttle:user``, ``fault:3``, ...) applied to this request."""
    ctx.notes.setdefault(APPLIED, []).append(what)


def applied(ctx: RequestContext) -> tuple[str, ...]:
    return tuple(ctx.notes.get(APPLIED, ()))


def is_control_route(ctx: RequestContext) -> bool:
    """The control API itself is never throttled, faulted or journaled."""
    return ctx.route.startswith("/_graphlang/")
