"""JSON batching: ``POST /beta/$batch`` runs up to 20 requests, each through the full request path.

Every inner request becomes a request of its own (method, path under the version root, query string,
headers, body) and goes through ``GraphlangApp.handle`` exactly as a direct call does: authentication
(the outer Authorization header unless the inner request sends its own), routing, guards (so
throttling and injected faults apply per inner request), the handler, error rendering and the
observers. Being inside a batch grants nothing.

Requests run one at a time, dependencies first and otherwise in the order listed, which keeps a
batch deterministic. A request whose dependency did not succeed is not run and gets 424. The batch
itself answers 200 whenever it was well formed, whatever its requests' statuses.

An inner context carries ``notes["batch"] = {"request_id": <outer request-id>, "id": <inner id>}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from graphlang.api.batch_request import BatchItem, parse_batch
from graphlang.api.body import is_json, read_json
from graphlang.api.context import RequestContext, without_invalid_host
from graphlang.api.rendering import error_response, finish, json_response
from graphlang.api.routing import Handler, Route
from graphlang.errors import BadRequest, FailedDependency

if TYPE_CHECKING:
    from graphlang.app import GraphlangApp

# Header names as Graph spells them in batch responses; others are written as they were set.
_SPELLING = {
    "content-type": "Content-Type",
    "cache-control": "Cache-Control",
    "odata-version": "OData-Version",
    "etag": "ETag",
    "location": "Location",
    "retry-after": "Retry-After",
    "preference-applied": "Preference-Applied",
    "www-authenticate": "WWW-Authenticate",
    "allow": "Allow",
}
# Framing headers describe the outer HTTP message, not an inner response.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "date"})


def install(app: GraphlangApp) -> None:
    app.add_graph_routes(Route(("$batch",), {"POST": batch_handler(app)}))


def batch_handler(app: GraphlangApp) -> Handler:
    async def run_batch(ctx: RequestContext, params: Mapping[str, str]) -> Response:
        body = await read_json(ctx.request, ctx.services.settings.max_body_bytes)
        plan = parse_batch(body, urlsplit(ctx.origin).netloc, ctx.version)
        results: dict[str, dict[str, Any]] = {}
        statuses: dict[str, int] = {}
        for item in plan.order:
            inner, refusal = inner_context(ctx, item)
            failed = next((d for d in item.depends_on if not 200 <= statuses[d] < 300), None)
            if failed is None:
                response = await app.handle(inner, refusal)
            else:
                response = finish(inner, error_response(inner, FailedDependency(
                    f"Request '{item.id}' was not run because request '{results[failed]['id']}', which it "
                    f"depends on, failed with status {statuses[failed]}.")))
            statuses[item.key] = response.status_code
            results[item.key] = await batch_result(item, inner.request.scope, response)
        return json_response(ctx, {"responses": [results[item.key] for item in plan.items]})

    return run_batch


def inner_context(outer: RequestContext, item: BatchItem) -> tuple[RequestContext, BadRequest | None]:
    """The inner request as a request of its own, on the same connection details as the batch, and
    the error that answers it before dispatch (a Host header it set that is not a host), if any."""
    scope = outer.request.scope
    raw_path = f"/{outer.version}{item.path}"
    headers = list(item.headers)
    for inherited in ("authorization", "host"):
        value = outer.request.headers.get(inherited)
        if value is not None and not item.has_header(inherited):
            headers.append((inherited, value))
    inner_scope: Scope = {
        "type": "http",
        "asgi": scope.get("asgi", {"version": "3.0"}),
        "http_version": scope.get("http_version", "1.1"),
        "scheme": scope.get("scheme", "http"),
        "server": scope.get("server"),
        "client": scope.get("client"),
        "root_path": scope.get("root_path", ""),
        "method": item.method,
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("ascii"),
        "query_string": item.query.encode("ascii"),
        "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
    }
    inner_scope, refusal = without_invalid_host(inner_scope)
    context = RequestContext(Request(inner_scope, _receive_once(item.body or b"")), outer.services)
    context.notes["batch"] = {"request_id": outer.request_id, "id": item.id}
    return context, refusal


def _receive_once(body: bytes) -> Receive:
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        # The client is still there: a streaming response must not think it disconnected.
        await anyio.Event().wait()
        raise AssertionError("unreachable")

    return receive


async def batch_result(item: BatchItem, scope: Scope, response: Response) -> dict[str, Any]:
    """One entry of ``responses``: the inner response, rendered as the batch format carries it."""
    status = response.status_code
    raw_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def collect(message: Message) -> None:
        if message["type"] == "http.response.start":
            raw_headers.extend(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await response(scope, _receive_once(b""), collect)
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.decode("latin-1").lower()
        if name in _FRAMING:
            continue
        spelled = _SPELLING.get(name, name)
        value = raw_value.decode("latin-1")
        headers[spelled] = f"{headers[spelled]}, {value}" if spelled in headers else value
    result: dict[str, Any] = {"id": item.id, "status": status, "headers": headers}
    payload = b"".join(chunks)
    if payload:
        result["body"] = _body(payload, headers.get("Content-Type", ""))
    return result


def _body(payload: bytes, content_type: str) -> Any:
    """JSON bodies as JSON; anything else as base64, as the batch format carries binary content."""
    if is_json(content_type):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    return base64.b64encode(payload).decode("ascii")
