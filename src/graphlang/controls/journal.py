"""The request journal: the last N requests, for debugging a failing test.

Each entry names the caller (never a token), what the controls did to the request, and whether the
client retried before the ``Retry-After`` it was given had passed.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any

from starlette.datastructures import URL
from starlette.responses import Response
from starlette.types import Scope

from graphlang.api.context import Answered, RequestContext
from graphlang.controls.notes import APPLIED, applied, is_control_route
from graphlang.model.timestamps import format_ticks, now_ticks

WAIT_STATUSES = frozenset({429, 503})
RetryKey = tuple[str, str, str]


class RetryWatch:
    """When each caller was told to come back, per method and path, to catch retries that come early."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, capacity: int = 10_000) -> None:
        self._clock = clock
        self._capacity = capacity
        self._waits: OrderedDict[RetryKey, tuple[float, int]] = OrderedDict()  # key -> (sent, Retry-After)

    def observe(self, key: RetryKey, response: Response, seconds: float) -> str | None:
        """Remember a wait this response asks for; return the mistake if the request came too early."""
        now = self._clock()
        mistake = None
        told = self._waits.get(key)
        if told is not None:
            sent, retry_after = told
            early = sent + retry_after - (now - seconds)
            if early > 0:
                mistake = (f"retried {now - seconds - sent:.1f} s after a response that asked it to wait "
                           f"{retry_after} s (Retry-After)")
            else:
                del self._waits[key]
        asked = _retry_after(response)
        if asked is not None:
            self._waits[key] = (now, asked)
            self._waits.move_to_end(key)
            if len(self._waits) > self._capacity:
                self._waits.popitem(last=False)
        return mistake

    def watching(self, response: Response) -> bool:
        """Whether ``observe`` has anything to do: a wait to remember or one to check against."""
        return bool(self._waits) or response.status_code in WAIT_STATUSES

    def clear(self) -> None:
        self._waits.clear()


def _retry_after(response: Response) -> int | None:
    if response.status_code not in WAIT_STATUSES:
        return None
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _url_parts(ctx: RequestContext) -> tuple[Any, ...]:
    """What the request's URL is built from (never the rest of its headers, which hold its token)."""
    scope = ctx.request.scope
    return scope.get("scheme", "http"), scope.get("server"), scope["path"], scope.get("query_string", b""), ctx.host


def _url_scope(parts: tuple[Any, ...]) -> Scope:
    scheme, server, path, query_string, host = parts
    return {"scheme": scheme, "server": server, "path": path, "query_string": query_string,
            "headers": [(b"host", host.encode("latin-1"))] if host else []}


def _rendered(entry: tuple[Any, ...]) -> dict[str, Any]:
    (ticks, method, url_parts, route, status, seconds, request_id, client_request_id, caller, batch, controls,
     mistake) = entry
    url = URL(scope=_url_scope(url_parts))
    return {
        "time": format_ticks(ticks),
        "method": method,
        "path": url.path,
        "query": url.query or None,
        "route": route,
        "status": status,
        "durationMs": round(seconds * 1000, 3),
        "requestId": request_id,
        "clientRequestId": client_request_id,
        "caller": caller,
        "batch": batch,
        "applied": controls,
        "clientMistake": mistake,
    }


def _batch(ctx: RequestContext) -> dict[str, Any] | None:
    """For a request inside a $batch: the batch's request-id and the request's id in it."""
    batch = ctx.notes.get("batch")
    if not isinstance(batch, dict):
        return None
    return {"requestId": batch.get("request_id"), "id": batch.get("id")}


class Journal:
    def __init__(self, size: int, watch: RetryWatch | None = None) -> None:
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=size)
        self.watch = watch or RetryWatch()

    def observe(self, answered: Sequence[Answered]) -> None:
        ticks, append, watch = now_ticks(), self._entries.append, self.watch
        for ctx, response, seconds in answered:
            if is_control_route(ctx):
                continue
            caller = ctx.principal.caller if ctx.principal is not None else None
            mistake = None
            if watch.watching(response):
                mistake = watch.observe((caller or "", ctx.method, ctx.request.scope["path"].lower()), response,
                                        seconds)
            notes = ctx.notes
            # Every request is recorded and few are ever read: an entry keeps what it needs, and is
            # rendered when the journal is read. Entries of one turn's responses share its time.
            append((
                ticks, ctx.method, _url_parts(ctx), ctx.route, response.status_code, seconds, ctx.request_id,
                ctx.client_request_id, caller, _batch(ctx) if "batch" in notes else None,
                applied(ctx) if APPLIED in notes else (), mistake,
            ))

    def entries(self) -> list[dict[str, Any]]:
        return [_rendered(entry) for entry in self._entries]

    def clear(self) -> None:
        self._entries.clear()
        self.watch.clear()
