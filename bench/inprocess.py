"""CPU per request of the ASGI application alone: no server, no sockets, no load generator.

    .venv/bin/python bench/inprocess.py [--requests 5000] [--repeat 1] [--concurrency 1] [--only get_item ...]
                                        [--profile get_item]

Each workload calls the application directly with the scope uvicorn would give it, in one process on
one event loop, and reports the microseconds of CPU each request took. It is the steadiest figure on
a shared machine, and ``--profile`` prints where one workload's time goes (cProfile, sorted by own
time, or by ``BENCH_SORT=cumulative``; ``BENCH_LINES`` lines). The data set is the small one of
``bench/run.py``, loaded with ``graphlang import``. ``--concurrency N`` runs N requests at a time, so
that writes share commits as they do under load (the group-commit writer thread's CPU is counted
too: it is the process's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import PATCH_BODY, POST_BODY, prepare, workloads

Call = Callable[[], Coroutine[Any, Any, int]]


def caller(app: Any, method: str, path: str, token: str, body: bytes = b"",
           sink: bytearray | None = None, *, pause: bool = False) -> Call:
    """One request as a coroutine factory; returns the status the application answered with and
    appends the response body to ``sink`` when given. With ``pause``, reading the body gives the
    other requests a turn first, as a server's network does: they are then all in flight together."""
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode()),
               (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "scheme": "http",
             "method": method, "root_path": "", "path": raw_path, "raw_path": raw_path.encode(),
             "query_string": query.encode(), "headers": headers}

    async def receive() -> dict[str, Any]:
        if pause:
            await asyncio.sleep(0)
        return {"type": "http.request", "body": body, "more_body": False}

    async def call() -> int:
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif sink is not None:
                sink.extend(message.get("body", b""))

        await app(dict(scope), receive, send)
        return status

    return call


async def run_calls(calls: list[Call], expect: set[int], concurrency: int = 1) -> None:
    for start in range(0, len(calls), concurrency):
        # A turn of the event loop between requests, as a server has: work an application defers to
        # the end of the turn (metrics) is then counted with the request that caused it.
        await asyncio.sleep(0)
        statuses = await asyncio.gather(*(call() for call in calls[start:start + concurrency]))
        unexpected = set(statuses) - expect
        if unexpected:
            print(f"unexpected status {unexpected}", file=sys.__stderr__)
            raise SystemExit(1)
    await asyncio.sleep(0)  # the last turn's end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--only", nargs="*", default=["get_item", "get_list", "patch", "create_delete"])
    parser.add_argument("--profile", help="print a cProfile of this workload")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight at a time")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each workload this many times and report the least: the figure "
                             "least disturbed by whatever else the machine is doing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphlang-inprocess-") as tmp:
        env, data, _seconds, token = prepare(1000, Path(tmp))
        os.environ.update(env)
        from graphlang.app import create_app
        from graphlang.config import Settings
        from graphlang.ops.logs import configure_logging

        settings = Settings.from_env()
        # Access lines are part of every request's cost: written as the server writes them, to a
        # file descriptor (here one that discards them).
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
        configure_logging(settings)
        app = create_app(settings)
        plan = workloads(data, token)
        loop = asyncio.new_event_loop()
        results: dict[str, float] = {}
        for name in args.only:
            config = plan[name]
            calls = build_calls(app, name, config, args.requests, args.concurrency)
            expect = {204} if name == "create_delete" else {200}
            loop.run_until_complete(run_calls(calls[:200], expect))  # warm-up
            profiler = cProfile.Profile() if args.profile == name else None
            timings = []
            for _ in range(max(1, args.repeat)):
                calls = build_calls(app, name, config, args.requests, args.concurrency)
                started = time.process_time()
                if profiler:
                    profiler.enable()
                loop.run_until_complete(run_calls(calls, expect, args.concurrency))
                if profiler:
                    profiler.disable()
                timings.append((time.process_time() - started) / len(calls) * 1e6)
            results[name] = min(timings)
            print(f"{name}: {results[name]:.0f} µs CPU per request", file=sys.__stdout__, flush=True)
            if profiler:
                stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime"))
                stats.print_stats(int(os.environ.get("BENCH_LINES", "35")))
        app.services.close()
        print(json.dumps(results))


def build_calls(app: Any, name: str, config: dict[str, Any], count: int, concurrency: int = 1) -> list[Call]:
    token = config["token"]
    pause = concurrency > 1
    if name == "create_delete":
        collection = config["collection"]

        async def pair() -> int:
            created = bytearray()  # each pair its own: with --concurrency several are in flight
            status = await caller(app, "POST", collection, token, POST_BODY.encode(), created, pause=pause)()
            if status != 201:
                return status
            language = json.loads(created)["id"]
            return await caller(app, "DELETE", f"{collection}/{language}", token, pause=pause)()

        return [pair for _ in range(count // 2)]
    paths = config["paths"]
    body = PATCH_BODY.encode() if config["method"] == "PATCH" else b""
    return [caller(app, config["method"], paths[i % len(paths)], token, body, pause=pause) for i in range(count)]


if __name__ == "__main__":
    main()
