"""Prometheus metrics: requests, latency, database pool use, throttling and injected faults.

With several worker processes (``serve --workers N``) every worker writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of any worker reports the sum over all of them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.responses import Response

from graphlang.api.context import Answered, RequestContext
from graphlang.controls.notes import APPLIED, applied

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes; every scraper reads it
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Methods are a label; anything else a client sends is counted as "other" so labels stay bounded.
POOL_SAMPLE_SECONDS = 0.25  # how stale another worker's pool gauges may be in a scrape
KNOWN_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"})
SAMPLE_FILE_KINDS = ("counter", "gauge", "histogram", "summary")  # prometheus-client's file name prefixes


class Tally:
    """Requests of one label set not yet added to the metrics: how many, their summed latency, and
    how many fell in each latency bucket (the last one is +Inf)."""

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


@contextmanager
def shared_between_processes() -> Iterator[None]:
    """Samples kept in files for the duration, so that worker processes add up on every scrape.

    The operator's ``PROMETHEUS_MULTIPROC_DIR`` is used when set (stale samples from an earlier run
    are removed from it); otherwise a temporary directory that is deleted afterwards.
    """
    configured = multiprocess_dir()
    if configured is not None:
        for stale in Path(configured).glob("*.db"):
            if stale.name.split("_", 1)[0] in SAMPLE_FILE_KINDS:
                stale.unlink()
        yield
        return
    path = tempfile.mkdtemp(prefix="graphlang-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


class Metrics:
    """The metrics of one application; each app owns its registry, so tests can build many apps."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registry = CollectorRegistry(auto_describe=True)
        self.across_processes = multiprocess_dir() is not None
        if self.across_processes:
            # prometheus-client picks file-backed values when it is imported; the supervisor sets the
            # directory before forking workers, possibly after that import.
            prometheus_values.ValueClass = prometheus_values.get_value_class()  # type: ignore[no-untyped-call]
        registry = self.registry
        self.requests = Counter("graphlang_http_requests", "HTTP requests answered, by route template, "
                                "method and status.", ("route", "method", "status"), registry=registry)
        self.latency = Histogram("graphlang_http_request_duration_seconds", "Time to answer a request, from "
                                 "routing to the finished response.", ("route", "method"),
                                 buckets=LATENCY_BUCKETS, registry=registry)
        self.throttled = Counter("graphlang_throttled_requests", "Requests answered 429 by throttling.",
                                 ("route",), registry=registry)
        self.faulted = Counter("graphlang_injected_faults", "Requests answered by an injected fault rule.",
                               ("route", "status"), registry=registry)
        self.pool_size = Gauge("graphlang_db_pool_size", "Database connections the pool keeps open when idle.",
                               registry=registry, multiprocess_mode="livesum")
        self.pool_open = Gauge("graphlang_db_pool_connections", "Database connections open now (beyond the "
                               "pool size when it overflows).", registry=registry, multiprocess_mode="livesum")
        self.pool_checked_out = Gauge("graphlang_db_pool_checked_out", "Database connections in use now.",
                                      registry=registry, multiprocess_mode="livesum")
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._pool_sampled = -POOL_SAMPLE_SECONDS

    def observe(self, answered: Sequence[Answered]) -> None:
        # With several workers every increment of a metric is a write to a memory-mapped file under a
        # lock, three per request. Tallied here and added together, the requests a turn answered cost
        # one write per label set and latency bucket.
        pending: dict[tuple[str, str, int], Tally] = {}
        for ctx, response, seconds in answered:
            method = ctx.method if ctx.method in KNOWN_METHODS else "other"
            key = (ctx.route, method, response.status_code)
            tally = pending.get(key)
            if tally is None:
                tally = pending[key] = Tally()
            tally.count += 1
            tally.total += seconds
            tally.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # as Histogram.observe: the first bound >= it
            if APPLIED in ctx.notes:
                controls = {entry.partition(":")[0] for entry in applied(ctx)}  # "throttle:user", "fault:3"
                if "throttle" in controls:
                    self.throttled.labels(ctx.route).inc()
                if "fault" in controls:
                    self.faulted.labels(ctx.route, str(response.status_code)).inc()
        self._add_tallies(pending)

    def _add_tallies(self, pending: Mapping[tuple[str, str, int], Tally]) -> None:
        if self.across_processes and (now := time.monotonic()) - self._pool_sampled >= POOL_SAMPLE_SECONDS:
            # A scrape samples the pool of the worker it reaches; the other workers report the state
            # they noted at most a moment ago, as they finished a turn of requests.
            self._pool_sampled = now
            self.sample_pool()
        for key, tally in pending.items():
            children = self._children.get(key)
            if children is None:  # labels() takes a lock and builds its key on every call: keep the children
                route, method, status = key
                children = self._children[key] = (
                    self.requests.labels(route, method, str(status)), self.latency.labels(route, method))
            requests, latency = children
            requests.inc(tally.count)
            # What Histogram.observe does for one observation, for all of them at once: prometheus-client
            # has no public call for it. tests/ops/test_metrics pins the result to observe()'s.
            latency._sum.inc(tally.total)
            for index, observed in enumerate(tally.buckets):
                if observed:
                    latency._buckets[index].inc(observed)

    def sample_pool(self) -> None:
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):
            return  # an in-memory SQLite database has one static connection and no pool to report
        self.pool_size.set(pool.size())
        self.pool_open.set(max(0, pool.size() + pool.overflow()))
        self.pool_checked_out.set(pool.checkedout())

    def exposition(self) -> bytes:
        self.sample_pool()
        if not self.across_processes:
            return bytes(generate_latest(self.registry))
        combined = CollectorRegistry()
        MultiProcessCollector(combined, path=multiprocess_dir())  # type: ignore[no-untyped-call]
        return bytes(generate_latest(combined))

    async def endpoint(self, ctx: RequestContext, params: Mapping[str, str]) -> Response:
        return Response(self.exposition(), media_type=TEXT_FORMAT)
