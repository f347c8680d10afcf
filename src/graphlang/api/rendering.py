"""The one place responses, and errors in particular, are rendered."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from graphlang.api.context import RequestContext
from graphlang.errors import GraphError
from graphlang.model.timestamps import inner_error_date

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DIAGNOSTIC = '{"ServerInfo":{"DataCenter":"graphlang","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"local"}}'

_date_cache: tuple[int, bytes] = (0, b"")
_JSON_HEADERS = [(b"content-type", JSON_TYPE.encode()), (b"odata-version", b"4.0")]
_DIAGNOSTIC_HEADER = (b"x-ms-ags-diagnostic", DIAGNOSTIC.encode())
_NO_CACHE = (b"cache-control", b"no-cache")
# What ``finish`` sets on every response, replacing a handler's; Cache-Control only when missing.
_FINISHED_NAMES = frozenset({b"request-id", b"client-request-id", b"date", b"x-ms-ags-diagnostic"})


def _date() -> bytes:
    """The Date header, formatted once per second rather than once per response."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


class RenderedResponse(Response):
    """A Starlette ``Response`` whose headers rendering has already written out in full.

    Starlette's constructor works out Content-Length and Content-Type from arguments, and its
    ``__call__`` checks for a WebSocket scope and a background task; a rendered Graph response needs
    none of that, and it is made and sent for every request. Everything that reads or changes a
    response (``headers``, ``raw_headers``, ``status_code``, ``body``) works on it as on any other.
    """

    def __init__(self, body: bytes, status_code: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.body = body
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body})


def json_response(ctx: RequestContext, body: Mapping[str, Any] | list[Any], status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    """A Graph JSON body; ``headers`` are names the response does not have yet (ETag, Location)."""
    return serialized_json_response(orjson.dumps(body), status, headers)


def serialized_json_response(content: bytes, status: int = 200, headers: Mapping[str, str] | None = None
                             ) -> Response:
    """``json_response`` of a body already serialized."""
    raw = [(b"content-length", str(len(content)).encode()), *_JSON_HEADERS]
    if headers:
        raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    return RenderedResponse(content, status, raw)


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
    """Headers every Graph response carries, replacing any of the same name a handler set; a
    ``Cache-Control`` already set (a token response's ``no-store``) stays."""
    raw = response.raw_headers
    finished = [(b"request-id", ctx.request_id.encode()),
                (b"client-request-id", ctx.client_request_id.encode("latin-1")),
                (b"date", _date()), _DIAGNOSTIC_HEADER]
    present = {name for name, _value in raw}
    if b"cache-control" not in present:
        finished.append(_NO_CACHE)
    if not _FINISHED_NAMES.isdisjoint(present):
        raw[:] = [(name, value) for name, value in raw if name not in _FINISHED_NAMES]
    raw += finished
    return response
