"""Logging: one structured line per request, and JSON (or plain text) formatting for every record.

An access line names the request, the caller and the route template, never a token, a request body
or the raw path (which may carry a user principal name or query text).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.config import Settings

ACCESS_LOGGER = "graphlang.access"
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


def log_request(ctx: RequestContext, response: Response, seconds: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields = access_fields(ctx, response, seconds)
    # The record is made directly: Logger.info would also walk the stack to find its caller, for
    # every request, and no format shows it.
    access_log.handle(access_log.makeRecord(
        ACCESS_LOGGER, logging.INFO, "", 0, "%s %s %s %.1fms request-id=%s",
        (fields["method"], fields["route"], fields["status"], fields["duration_ms"], fields["request_id"]),
        None, extra=fields))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the fields a record was given with ``extra=`` are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_json else logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
