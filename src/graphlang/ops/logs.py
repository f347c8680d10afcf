"""Logging: one structured line per request, and JSON (or plain text) formatting for every record.

An access line names the request, the caller and the route template, never a token, a request body
or the raw path (which may carry a user principal name or query text).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from starlette.responses import Response

from graphlang.api.context import Answered, RequestContext
from graphlang.config import Settings

ACCESS_LOGGER = "graphlang.access"
ACCESS_MESSAGE = "%s %s %s %.1fms request-id=%s"
access_log = logging.getLogger(ACCESS_LOGGER)
# What every LogRecord has; anything else on a record came from ``extra=`` and is logged as a field.
RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def access_fields(ctx: RequestContext, response: Response, seconds: float) -> dict[str, Any]:
    return {
        "request_id": ctx.request_id,
        "client_request_id": ctx.client_request_id,
        "caller": ctx.principal.caller if ctx.principal is not None else None,
        "route": ctx.route,
        "method": ctx.method,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 3),
    }


def log_requests(answered: Sequence[Answered]) -> None:
    """An access line for each request; the lines of the responses one turn answered are made together,
    at the time they are made."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    handler = _json_handler
    handlers = logging.root.handlers
    if handler is not None and len(handlers) == 1 and handlers[0] is handler and not access_log.handlers:
        # The line JsonFormatter would write, without a LogRecord: making and formatting one is a
        # fifth of what a request costs. Only when that handler is the only one configured.
        when, pid, dumps, newline = _iso_time(time.time()), _pid[0], orjson.dumps, orjson.OPT_APPEND_NEWLINE
        lines: list[bytes] = []
        for ctx, response, seconds in answered:
            method, route, status, request_id = ctx.method, ctx.route, response.status_code, ctx.request_id
            milliseconds = round(seconds * 1_000_000) / 1000  # as round(seconds * 1000, 3), in a third of the time
            lines.append(dumps({
                "time": when, "level": "info", "logger": ACCESS_LOGGER, "pid": pid,
                "message": ACCESS_MESSAGE % (method, route, status, milliseconds, request_id),
                "request_id": request_id, "client_request_id": ctx.client_request_id,
                "caller": ctx.principal.caller if ctx.principal is not None else None,
                "route": route, "method": method, "status": status, "duration_ms": milliseconds,
            }, option=newline))
        _write(handler, b"".join(lines).decode())  # the turn's lines in one write() and one decoding
        return
    for ctx, response, seconds in answered:
        fields = access_fields(ctx, response, seconds)
        arguments = (fields["method"], fields["route"], fields["status"], fields["duration_ms"],
                     fields["request_id"])
        # The record is made directly: Logger.info would also walk the stack to find its caller, for
        # every request, and no format shows it.
        access_log.handle(access_log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, ACCESS_MESSAGE, arguments,
                                                None, extra=fields))


_second_cache: tuple[int, str] = (0, "")
_millisecond_cache: tuple[int, str] = (-1, "")
# The process id, asked once per process rather than once per line; a forked worker asks again.
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def _iso_time(created: float) -> str:
    """``datetime.isoformat(timespec="milliseconds")`` in UTC, the second formatted once per second
    and the whole once per millisecond (the lines of one turn's requests share it)."""
    global _second_cache, _millisecond_cache
    second = int(created)
    microsecond = round((created - second) * 1_000_000)  # rounded as datetime rounds, then cut to milliseconds
    millisecond = second * 1000 + microsecond // 1000
    if _millisecond_cache[0] == millisecond:
        return _millisecond_cache[1]
    second, fraction = divmod(millisecond, 1000)
    if _second_cache[0] != second:
        _second_cache = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    text = f"{_second_cache[1]}.{fraction:03d}+00:00"
    _millisecond_cache = (millisecond, text)
    return text


_json_handler: logging.StreamHandler[TextIO] | None = None  # set by configure_logging


def _write(handler: logging.StreamHandler[TextIO], text: str) -> None:
    with handler.lock:  # type: ignore[union-attr]  # created with the handler
        try:
            handler.stream.write(text)
            handler.stream.flush()
        except Exception:  # noqa: BLE001 - as StreamHandler.emit: a broken stream must not break the loop
            handler.handleError(logging.makeLogRecord({"name": ACCESS_LOGGER, "msg": text}))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the fields a record was given with ``extra=`` are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": os.getpid(),
            "message": record.getMessage(),
        }
        entry.update((key, value) for key, value in vars(record).items() if key not in RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(settings: Settings) -> None:
    """Every record to stderr, as JSON lines when ``log_json`` is on (the default)."""
    global _json_handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_json else logging.Formatter("%(message)s"))
    _json_handler = handler if settings.log_json else None
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
