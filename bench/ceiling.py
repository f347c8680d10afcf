"""The ceiling: a raw ASGI app that answers with the bytes graphlang answered, and does nothing else.

    python bench/ceiling.py [--workers N]     (CEILING_BODIES names a directory of answers)

It runs on the server and worker settings ``graphlang serve`` uses, through graphlang's own code for
them (uvicorn, httptools, uvloop, N forked workers to which a supervisor deals the connections), so
it measures what the stack itself costs, and graphlang's throughput can be reported as a fraction of
it that machine noise mostly cancels out of.
The answer depends on the method, as graphlang's would: GET of a collection (a path ending in
``/languages``) gets the listing, any other GET the item, PATCH the updated item, POST the created
item (201) and DELETE nothing (204). Each answer is graphlang's own, byte for byte: its status, its
headers (``ETag``, ``request-id``, ``Date`` and the rest, recorded once) and its body, since the
server's own work per response grows with the headers it is given as well as with the body.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
from pathlib import Path
from typing import Any

from graphlang.ops.workers import supervise
from graphlang.server import bind, run_uvicorn, uvicorn_config


def _answer(name: str, status: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    directory = os.environ.get("CEILING_BODIES")
    if not directory:
        if status == 204:
            return status, [], b""
        return status, [(b"content-type", b"application/json"), (b"content-length", b"10")], b'{"id":"0"}'
    body = Path(directory, f"{name}.json").read_bytes()
    headers = json.loads(Path(directory, f"{name}.headers.json").read_text())
    return status, [(key.encode("latin-1"), value.encode("latin-1")) for key, value in headers], body


ITEM = _answer("item", 200)
LISTING = _answer("list", 200)
PATCHED = _answer("patch", 200)
CREATED = _answer("post", 201)
DELETED = _answer("delete", 204)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the request body, as a real handler must
        message = await receive()
        more = message.get("more_body", False)
    method = scope["method"]
    if method == "GET":
        status, headers, body = LISTING if scope["path"].endswith("/languages") else ITEM
    elif method == "PATCH":
        status, headers, body = PATCHED
    elif method == "POST":
        status, headers, body = CREATED
    else:
        status, headers, body = DELETED
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(sock: socket.socket, *, dealt: bool = False) -> None:
    run_uvicorn(uvicorn_config(app), sock, dealt=dealt)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    workers = parser.parse_args().workers
    sock = bind("127.0.0.1", 0)
    print(f"ceiling listening on http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    if workers == 1:
        serve(sock)
        return
    supervise(workers, lambda channel: serve(channel, dealt=True), 5.0, sock)


if __name__ == "__main__":
    main()
