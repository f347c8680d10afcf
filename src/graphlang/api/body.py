"""Reading a JSON request body: media type, size limit and syntax, each with its own error."""

from __future__ import annotations

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
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Unable to read JSON request payload: {exc}. Please ensure Content-Type "
                         "header is set and payload is of valid JSON format.") from exc


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
