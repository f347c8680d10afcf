"""Reading a JSON request body: media type, size limit and syntax, each with its own error."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import Request

from graphlang.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType


def is_json(content_type: str) -> bool:
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
    if b"{" in raw:
        _refuse_duplicate_names(raw)
    return document


def _unique_names(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for name, _value in pairs:
        if name in seen:
            raise BadRequest(f"Multiple properties with the name '{name}' were detected in an entry or a complex "
                             "value. In OData, duplicate property names are not allowed.")
        seen.add(name)


def _refuse_duplicate_names(raw: bytes) -> None:
    """OData forbids a name twice in one object; orjson would keep the last silently, so the
    (already valid) document is read once more by a parser that shows every pair."""
    try:
        json.loads(raw, object_pairs_hook=_unique_names)
    except RecursionError as exc:
        raise BadRequest("Unable to read JSON request payload: it is nested too deeply.") from exc


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
