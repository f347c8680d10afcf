"""Reading a JSON batch: each request checked, and an execution order that honours ``dependsOn``.

Every rule a batch can break is a batch-level 400 naming the request (by its ``id``, or its index
when it has none) and the problem; nothing of a rejected batch runs.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import orjson

from graphlang.errors import BadRequest

MAX_REQUESTS = 20
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Characters a client may leave unescaped in a batch URL; anything else (spaces, non-ASCII) is
# percent-encoded, exactly as an HTTP client would before sending the same request directly.
_PATH_SAFE = "/%!$&'()*+,;=:@~"
_QUERY_SAFE = "/?%!$&'()*+,;=:@~"


@dataclass(frozen=True, slots=True)
class BatchItem:
    index: int
    id: str
    method: str
    path: str  # percent-encoded, starting with "/", relative to the version root
    query: str  # percent-encoded, without "?"
    headers: tuple[tuple[str, str], ...]  # lower-cased names
    body: bytes | None
    depends_on: tuple[str, ...]  # keys of other items

    @property
    def key(self) -> str:
        """Ids are compared case-insensitively."""
        return self.id.casefold()

    def has_header(self, name: str) -> bool:
        return any(header == name for header, _ in self.headers)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    items: tuple[BatchItem, ...]  # as the client listed them
    order: tuple[BatchItem, ...]  # dependencies first; otherwise in the client's order


def parse_batch(body: object, host: str, version: str) -> BatchPlan:
    """Check the whole batch; ``host`` and ``version`` decide which absolute URLs are acceptable."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise BadRequest("The batch body must be a JSON object with a 'requests' array.")
    requests = body["requests"]
    if not requests:
        raise BadRequest(f"The batch has no requests; send between 1 and {MAX_REQUESTS}.")
    if len(requests) > MAX_REQUESTS:
        raise BadRequest(f"The batch has {len(requests)} requests; at most {MAX_REQUESTS} are allowed "
                         "in one batch.")
    items: list[BatchItem] = []
    by_key: dict[str, BatchItem] = {}
    for index, raw in enumerate(requests):
        item = _item(index, raw, host, version)
        if item.key in by_key:
            raise BadRequest(f"The batch request id '{item.id}' is used by more than one request; ids must "
                             "be unique (compared case-insensitively).")
        by_key[item.key] = item
        items.append(item)
    for item in items:
        for dependency in item.depends_on:
            if dependency not in by_key:
                raise BadRequest(f"Request '{item.id}' depends on '{dependency}', which is not a request "
                                 "in this batch.")
    return BatchPlan(tuple(items), _execution_order(items, by_key))


def _where(index: int, raw: Mapping[str, Any]) -> str:
    ident = raw.get("id")
    return f"Request '{ident}'" if isinstance(ident, str) and ident else f"requests[{index}]"


def _item(index: int, raw: object, host: str, version: str) -> BatchItem:
    if not isinstance(raw, dict):
        raise BadRequest(f"requests[{index}] must be a JSON object.")
    where = _where(index, raw)
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise BadRequest(f"{where} needs an 'id': a non-empty string unique within the batch.")
    method = raw.get("method")
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise BadRequest(f"{where} needs a 'method' such as GET, POST, PATCH or DELETE.")
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise BadRequest(f"{where} needs a 'url' relative to the version root, such as "
                         "'/me/profile/languages'.")
    path, query = _relative_url(where, url.strip(), host, version)
    method = method.upper()
    headers = _headers(where, raw.get("headers"))
    has_content_type = any(name == "content-type" for name, _ in headers)
    if method in WRITE_METHODS and (raw.get("body") is None or not has_content_type):
        # Graph's own wording for this rule.
        raise BadRequest(f"Write request id : {ident} does not contain Content-Type header or body.")
    if raw.get("body") is not None and not has_content_type:
        raise BadRequest(f"{where} has a body but no Content-Type header; a request with a body must "
                         "state its Content-Type in 'headers'.")
    body = _body(where, raw.get("body"))
    if body is not None:
        headers = (*(h for h in headers if h[0] not in ("content-length", "transfer-encoding")),
                   ("content-length", str(len(body))))
    return BatchItem(index, ident, method, path, query, headers, body, _depends_on(where, raw))


def _relative_url(where: str, url: str, host: str, version: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed '[' of an IPv6 host, for one
        raise BadRequest(f"{where} has the 'url' '{url}', which is not a valid URL.") from exc
    path = parts.path
    if parts.scheme or parts.netloc:
        root = f"/{version}/"
        if parts.netloc.lower() != host.lower() or not path.lower().startswith(root):
            raise BadRequest(f"{where} has the absolute URL '{url}'; batch URLs must be relative to the "
                             f"version root (such as '/me/profile/languages'), or absolute on this "
                             f"service's own host and version ({host}{root}).")
        path = path[len(root) - 1:]
    if not path.startswith("/"):
        path = f"/{path}"
    first = next((segment for segment in path.split("/") if segment), "")
    if unquote(first).lower() == "$batch":
        raise BadRequest(f"{where} is itself a $batch request; batches cannot be nested.")
    return quote(path, safe=_PATH_SAFE), quote(parts.query, safe=_QUERY_SAFE)


def _headers(where: str, raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} has 'headers' that are not a JSON object of names and values.")
    headers: list[tuple[str, str]] = []
    for name, value in raw.items():
        if not _TOKEN.fullmatch(name):
            raise BadRequest(f"{where} has a header named '{name}', which is not a valid header name.")
        if not isinstance(value, str) or any(_is_control(c) for c in value):
            raise BadRequest(f"{where} has a value for header '{name}' that is not a single-line string.")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise BadRequest(f"{where} has a value for header '{name}' with characters outside "
                             "ISO-8859-1.") from exc
        headers.append((name.lower(), value))
    return tuple(headers)


def _is_control(character: str) -> bool:
    return (ord(character) < 32 and character != "\t") or ord(character) == 127


def _body(where: str, raw: object) -> bytes | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        return orjson.dumps(raw)
    # A string body is base64, the batch format's way of carrying non-JSON content.
    try:
        return base64.b64decode(raw.replace("-", "+").replace("_", "/") + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"{where} has a string body that is not base64; send a JSON body as an "
                         "object.") from exc


def _depends_on(where: str, raw: Mapping[str, Any]) -> tuple[str, ...]:
    # dependsOn is the documented name; the Python SDK serialises the same list as depends_on.
    listed = raw["dependsOn"] if "dependsOn" in raw else raw.get("depends_on")
    if listed is None:
        return ()
    if not isinstance(listed, list) or not all(isinstance(d, str) and d for d in listed):
        raise BadRequest(f"{where} has a 'dependsOn' that is not an array of request ids.")
    return tuple(dict.fromkeys(d.casefold() for d in listed))


def _execution_order(items: Sequence[BatchItem], by_key: Mapping[str, BatchItem]) -> tuple[BatchItem, ...]:
    """Dependencies before dependents; among requests that are ready, the one listed first."""
    waiting = {item.key: len(item.depends_on) for item in items}
    dependents: dict[str, list[BatchItem]] = {}
    for item in items:
        for dependency in item.depends_on:
            dependents.setdefault(dependency, []).append(item)
    ready = [item.index for item in items if not item.depends_on]
    heapq.heapify(ready)
    order: list[BatchItem] = []
    while ready:
        item = items[heapq.heappop(ready)]
        order.append(item)
        for dependent in dependents.get(item.key, ()):
            waiting[dependent.key] -= 1
            if waiting[dependent.key] == 0:
                heapq.heappush(ready, dependent.index)
    if len(order) < len(items):
        raise BadRequest(f"The batch's dependsOn references form a cycle: {_cycle(items, order, by_key)}.")
    return tuple(order)


def _cycle(items: Sequence[BatchItem], done: Sequence[BatchItem], by_key: Mapping[str, BatchItem]) -> str:
    """One cycle among the requests that never became ready, as 'a -> b -> a'."""
    finished = {item.key for item in done}
    # Every stuck request waits on at least one other stuck request, so walking those edges must
    # come back to a request already visited.
    current = next(item for item in items if item.key not in finished)
    path: list[BatchItem] = []
    while current not in path:
        path.append(current)
        current = by_key[next(d for d in current.depends_on if d not in finished)]
    loop = path[path.index(current):]
    return " -> ".join(item.id for item in [*loop, current])
