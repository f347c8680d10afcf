"""Injected faults: rules that fail or delay the requests they match, for testing client resilience.

A rule matches by method, path pattern and (optionally) caller. When it fires it adds its latency
and/or fails the request with a Graph-shaped error: "fail the next N", "fail a seeded random
fraction", "add 100-500 ms". Rules are checked in the order they were added; the first one that
fails a request ends the check. Every random choice comes from the rule's own seeded generator, so a
test that sends the same requests sees the same faults.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.controls.notes import is_control_route, note_applied
from graphlang.errors import BadRequest, GatewayTimeout, GraphError, ServiceUnavailable, TooManyRequests

FAULT_HEADER = "x-graphlang-fault"
MAX_RETRY_AFTER_SECONDS = 3600
MAX_LATENCY_MS = 120_000
STATUSES = (429, 500, 503, 504)
# Statuses whose answer tells the client when to come back, and the wait used when a rule names none.
DEFAULT_RETRY_AFTER = {429: 1, 503: 1}
MESSAGES = {
    429: "Please retry again later.",
    500: "An unspecified error has occurred.",
    503: "The service is temporarily unavailable. Retry after the interval in the Retry-After header.",
    504: "The request timed out before the service could answer it.",
}
ERRORS: Mapping[int, type[GraphError]] = {500: GraphError, 503: ServiceUnavailable, 504: GatewayTimeout}
PROPERTIES = ("method", "path", "caller", "status", "count", "rate", "seed", "retryAfter", "latencyMs",
              "code", "message")


@dataclass
class FaultRule:
    id: str
    methods: frozenset[str]  # empty: any method
    path: str  # a glob over the request path or the route template; * matches across /
    caller: str | None  # a glob over Principal.caller
    status: int | None  # None: latency only
    count: int | None  # how many times it fires; None: without end
    rate: float  # the chance that a matching request fires it
    seed: int
    retry_after: int | None
    latency_ms: tuple[int, int] | None
    code: str | None
    message: str | None
    fired: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def remaining(self) -> int | None:
        return None if self.count is None else self.count - self.fired

    def matches(self, ctx: RequestContext) -> bool:
        if self.methods and ctx.method.upper() not in self.methods:
            return False
        if self.caller is not None:
            caller = ctx.principal.caller if ctx.principal is not None else ""
            if not fnmatch.fnmatchcase(caller.lower(), self.caller.lower()):
                return False
        pattern = self.path.lower()
        return any(fnmatch.fnmatchcase(candidate.lower(), pattern)
                   for candidate in (ctx.request.url.path, ctx.route))

    def fires(self) -> bool:
        """Whether this matching request fires the rule; a rule that fires counts it."""
        if self.remaining == 0:
            return False
        if self.rate < 1 and self.rng.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def delay_seconds(self) -> float:
        assert self.latency_ms is not None
        low, high = self.latency_ms
        return (low if low == high else self.rng.randint(low, high)) / 1000

    def error(self) -> GraphError:
        assert self.status is not None
        message = self.message or MESSAGES[self.status]
        retry_after = self.retry_after if self.retry_after is not None else DEFAULT_RETRY_AFTER.get(self.status)
        headers = {FAULT_HEADER: self.id}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if self.status == 429:
            throttled = TooManyRequests(retry_after or 0, message, code=self.code)
            throttled.headers.update(headers)
            return throttled
        return ERRORS[self.status](message, code=self.code, headers=headers)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": sorted(self.methods) or None,
            "path": self.path,
            "caller": self.caller,
            "status": self.status,
            "count": self.count,
            "remaining": self.remaining,
            "fired": self.fired,
            "rate": self.rate,
            "seed": self.seed,
            "retryAfter": self.retry_after,
            "latencyMs": None if self.latency_ms is None else list(self.latency_ms),
            "code": self.code,
            "message": self.message,
        }


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"Invalid value for property '{name}' of a fault rule: expected a whole number "
                         f"from {low} to {high}.")
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Invalid value for property '{name}' of a fault rule: expected a non-empty string.")
    return value


def _methods(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise BadRequest("Invalid value for property 'method' of a fault rule: expected a method such as "
                         "'PATCH', a comma-separated list, or an array of methods.")
    return frozenset(name.upper() for name in names)


def _latency(value: object) -> tuple[int, int]:
    if isinstance(value, list) and len(value) == 2:
        low = _whole("latencyMs", value[0], 0, MAX_LATENCY_MS)
        high = _whole("latencyMs", value[1], 0, MAX_LATENCY_MS)
        if low > high:
            raise BadRequest("Invalid value for property 'latencyMs' of a fault rule: the range "
                             f"[{low}, {high}] ends before it starts.")
        return low, high
    if isinstance(value, list):
        raise BadRequest("Invalid value for property 'latencyMs' of a fault rule: a range is two numbers, "
                         "[low, high].")
    fixed = _whole("latencyMs", value, 0, MAX_LATENCY_MS)
    return fixed, fixed


def _rate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise BadRequest("Invalid value for property 'rate' of a fault rule: expected a number greater "
                         "than 0 and at most 1.")
    return float(value)


def parse_rule(body: object) -> FaultRule:
    """A rule from its JSON form (without an id yet); anything wrong is a 400 naming the property."""
    if not isinstance(body, dict):
        raise BadRequest("A fault rule must be a JSON object.")
    for key in body:
        if key not in PROPERTIES:
            raise BadRequest(f"The property '{key}' does not exist on a fault rule; the properties are "
                             f"{', '.join(PROPERTIES)}.")
    status = body.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"Invalid value for property 'status' of a fault rule: expected one of "
                         f"{', '.join(map(str, STATUSES))}.")
    latency = None if body.get("latencyMs") is None else _latency(body["latencyMs"])
    if status is None and latency is None:
        raise BadRequest("A fault rule needs a 'status' to fail requests with, a 'latencyMs' to delay "
                         "them by, or both.")
    retry_after = body.get("retryAfter")
    return FaultRule(
        id="",
        methods=_methods(body.get("method")),
        path=_text("path", body.get("path", "*")),
        caller=None if body.get("caller") is None else _text("caller", body["caller"]),
        status=status,
        count=None if body.get("count") is None else _whole("count", body["count"], 1, 1_000_000),
        rate=1.0 if body.get("rate") is None else _rate(body["rate"]),
        seed=0 if body.get("seed") is None else _whole("seed", body["seed"], 0, 2**63 - 1),
        retry_after=None if retry_after is None else _whole("retryAfter", retry_after, 0,
                                                             MAX_RETRY_AFTER_SECONDS),
        latency_ms=latency,
        code=None if body.get("code") is None else _text("code", body["code"]),
        message=None if body.get("message") is None else _text("message", body["message"]),
    )


def rules_in(document: object) -> list[Any]:
    """The rules of a faults document: a list of rules, or an object with a ``faults`` list."""
    if isinstance(document, Mapping) and set(document) == {"faults"}:
        document = document["faults"]
    if not isinstance(document, list):
        raise BadRequest("A faults document is a list of fault rules, or an object with a 'faults' list.")
    return document


def _parse_all(bodies: Sequence[object]) -> list[FaultRule]:
    """Every rule, or a 400 naming the first invalid one; ids are given when they are installed."""
    rules: list[FaultRule] = []
    for index, body in enumerate(bodies):
        try:
            rules.append(parse_rule(body))
        except BadRequest as exc:
            raise BadRequest(exc.message if len(bodies) == 1 else f"Rule {index}: {exc.message}") from exc
    return rules


class FaultBook:
    """The installed rules, in the order they were added."""

    def __init__(self) -> None:
        self._rules: dict[str, FaultRule] = {}
        self._ids = itertools.count(1)

    def add_all(self, bodies: Sequence[object]) -> list[FaultRule]:
        """Add these rules after the others; when one of them is invalid, none is added."""
        return self._install(_parse_all(bodies))

    def replace_all(self, bodies: Sequence[object]) -> list[FaultRule]:
        """Install exactly these rules, numbered from 1; when one of them is invalid, nothing changes."""
        rules = _parse_all(bodies)
        self._rules.clear()
        self._ids = itertools.count(1)
        return self._install(rules)

    def _install(self, rules: list[FaultRule]) -> list[FaultRule]:
        for rule in rules:
            rule.id = str(next(self._ids))
            self._rules[rule.id] = rule
        return rules

    def get(self, rule_id: str) -> FaultRule | None:
        return self._rules.get(rule_id)

    def remove(self, rule_id: str) -> bool:
        return self._rules.pop(rule_id, None) is not None

    def all(self) -> list[FaultRule]:
        return list(self._rules.values())

    async def guard(self, ctx: RequestContext) -> Response | None:
        if not self._rules or is_control_route(ctx):
            return None
        for rule in list(self._rules.values()):
            if not rule.matches(ctx) or not rule.fires():
                continue
            note_applied(ctx, f"fault:{rule.id}")
            if rule.latency_ms is not None:
                await anyio.sleep(rule.delay_seconds())
            if rule.status is not None:
                raise rule.error()
        return None
