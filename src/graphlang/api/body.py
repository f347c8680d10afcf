"""Reading a JSON request body: media type, size limit and syntax, each with its own error."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from graphlang.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType


def is_json(content_type: str) -> bool:
    if content_type == "application/json":
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(request: Request, limit: int) -> Any:
    content_type = request.headers.get("content-type")
    if content_type is None or not is_json(content_type):
        raise UnsupportedMediaType(
            f"The request's Content-Type '{content_type or '(none)'}' is not supported; "
            "send the body as application/json."
        )
    raw = await read_body(request, limit)
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON object is required.")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Unable to read JSON request payload: {exc}. Please ensure Content-Type "
                         "header is set and payload is of valid JSON format.") from exc
    if b"{" in raw and not _names_are_unique(raw, document):
        _refuse_duplicate_names(raw)
    return document


def _names_are_unique(raw: bytes, document: Any) -> bool:
    """Whether ``raw`` surely repeats no name, known without parsing it again, for a flat object.

    Every name in JSON text is followed by a colon, so ``raw`` has at most as many names as colons;
    and the object orjson made of it has at most as many names as ``raw``, fewer only when some
    repeat. With as many names in the object as colons in the text, no name can repeat. When the
    object holds objects or arrays, or a string holds a colon, this does not tell, and False sends
    the body to the full check.
    """
    if type(document) is not dict or raw.count(b":") != len(document):
        return False
    return not any(isinstance(value, dict | list) for value in document.values())


def _unique_names(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for name, _value in pairs:
        if name in seen:
            raise BadRequest(f"Multiple properties with the name '{name}' were detected in an entry or a complex "
                             "value. In OData, duplicate property names are not allowed.")
        seen.add(name)


# Built once: json.loads with a hook builds a decoder per call.
_PAIRS = json.JSONDecoder(object_pairs_hook=_unique_names)


def _refuse_duplicate_names(raw: bytes) -> None:
    """OData forbids a name twice in one object; orjson would keep the last silently, so the
    (already valid) document is read once more by a parser that shows every pair."""
    try:
        # orjson read it, so it is UTF-8; surrogatepass as json.loads decodes bytes.
        _PAIRS.decode(raw.decode("utf-8", "surrogatepass"))
    except RecursionError as exc:
        raise BadRequest("Unable to read JSON request payload: it is nested too deeply.") from exc


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    # Straight from the ASGI messages rather than through Starlette's stream(): an async generator
    # costs more than reading a body that comes, as almost every one does, in one message.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise ClientDisconnect()
        if kind != "http.request":
            continue
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        if not message.get("more_body", False):
            return b"".join((*chunks, chunk)) if chunks else chunk
        chunks.append(chunk)
