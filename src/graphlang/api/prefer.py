"""The Prefer request header (RFC 7240), and ``return=minimal`` / ``return=representation`` on writes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from graphlang.api.rendering import empty_response

PREFERENCE_APPLIED = "Preference-Applied"
# What a 204 under return=minimal keeps of the full answer: how to find and revalidate the item.
_MINIMAL_KEEPS = ("location", "etag")


def preferences(request: Request) -> dict[str, str]:
    """Every preference sent, by lower-cased name (a bare token maps to ''); the first one of a name wins.

    Parameters after ``;`` are ignored: none of the preferences graphlang honours takes any.
    """
    found: dict[str, str] = {}
    for header in request.headers.getlist("prefer"):
        for item in header.split(","):
            token = item.split(";", 1)[0].strip()
            name, _, value = token.partition("=")
            name = name.strip().lower()
            if name and name not in found:
                found[name] = value.strip().strip('"')
    return found


def return_preference(request: Request) -> str | None:
    """``minimal`` or ``representation`` when the client asked for one of them, else None."""
    wanted = preferences(request).get("return", "").lower()
    return wanted if wanted in ("minimal", "representation") else None


def honour_return(request: Request, full: Response) -> Response:
    """The answer to a successful write: ``full``, or a 204 without a body under return=minimal.

    The preference is echoed in Preference-Applied only when the client stated it.
    """
    wanted = return_preference(request)
    if wanted is None:
        return full
    if wanted == "representation":
        full.headers[PREFERENCE_APPLIED] = "return=representation"
        return full
    kept = {name: full.headers[name] for name in _MINIMAL_KEEPS if name in full.headers}
    return empty_response(204, {**kept, PREFERENCE_APPLIED: "return=minimal"})
