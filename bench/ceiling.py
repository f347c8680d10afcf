"""The ceiling: a raw ASGI app answering with the same bytes graphlang would, and no work at all.

Run under the same server and worker settings as graphlang, it measures what the stack itself
costs, so graphlang's throughput can be reported as a ratio that machine noise cancels out of.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ.get("CEILING_BODY_FILE", "")).read_bytes() if os.environ.get("CEILING_BODY_FILE") else (
    b'{"id":"00000000-0000-0000-0000-000000000000"}'
)
_JSON = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
_STATUS = {"GET": 200, "PATCH": 200, "POST": 201, "DELETE": 204}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    more = True
    while more:  # drain the request body, as a real handler must
        message = await receive()
        more = message.get("more_body", False)
    status = _STATUS.get(scope["method"], 200)
    if status == 204:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": BODY})
