"""The one place responses, and errors in particular, are rendered."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import orjson
from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.errors import GraphError
from graphlang.model.timestamps import inner_error_date

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DIAGNOSTIC = '{"ServerInfo":{"DataCenter":"graphlang","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"local"}}'

_date_cache: tuple[int, str] = (0, "")
_JSON_HEADERS = [(b"content-type", JSON_TYPE.encode()), (b"odata-version", b"4.0")]


def http_date() -> str:
    """The Date header, formatted once per second rather than once per response."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def json_response(ctx: RequestContext, body: Mapping[str, Any] | list[Any], status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    response = Response(orjson.dumps(body), status_code=status, media_type=None)
    response.raw_headers += _JSON_HEADERS
    if headers:
        add_headers(response, headers)
    return response


def add_headers(response: Response, headers: Mapping[str, str]) -> None:
    """Set each header, replacing one of the same name; new names are appended without a search,
    which is what setting them one by one through ``response.headers`` would cost."""
    raw = response.raw_headers
    present = {name for name, _value in raw}
    for name, value in headers.items():
        key = name.lower().encode("latin-1")
        if key in present:
            response.headers[name] = value
        else:
            raw.append((key, value.encode("latin-1")))
            present.add(key)


def text_response(text: str, status: int = 200) -> Response:
    """A raw value, such as the number a ``/$count`` segment returns."""
    response = Response(text.encode(), status_code=status, media_type=None)
    response.headers["content-type"] = "text/plain"
    response.headers["odata-version"] = "4.0"
    return response


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(status_code=status)
    if headers:
        response.headers.update(headers)
    return response


def error_body(ctx: RequestContext, error: GraphError) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "date": inner_error_date(),
        "request-id": ctx.request_id,
        "client-request-id": ctx.client_request_id,
        **error.inner,
    }
    return {"error": {"code": error.code, "message": error.message, "innerError": inner}}


def error_response(ctx: RequestContext, error: GraphError) -> Response:
    response = Response(orjson.dumps(error_body(ctx, error)), status_code=error.status, media_type=None)
    response.headers["content-type"] = "application/json"
    response.headers.update(error.headers)
    return response


def finish(ctx: RequestContext, response: Response) -> Response:
    """Headers every Graph response carries."""
    finished = {"request-id": ctx.request_id, "client-request-id": ctx.client_request_id, "date": http_date(),
                "x-ms-ags-diagnostic": DIAGNOSTIC}
    if not any(name == b"cache-control" for name, _value in response.raw_headers):
        finished["cache-control"] = "no-cache"  # a token response keeps its no-store
    add_headers(response, finished)
    return response
