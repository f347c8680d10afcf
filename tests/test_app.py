"""The application's own rules: when observers see the responses it answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping, Sequence
from typing import Any

import orjson
import pytest

from graphlang.api.context import Answered
from graphlang.app import GraphlangApp, create_app
from graphlang.services import Services
from tests.api.controls_support import ADMIN

Seen = list[tuple[str, int]]


async def call(app: GraphlangApp, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET straight through the ASGI interface: its status and body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": "",
             "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"testserver"),
                         *((key.lower().encode(), value.encode()) for key, value in (headers or {}).items())]}
    status, body = 0, bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(body)


def watched(services: Services, seen: Seen) -> GraphlangApp:
    app = create_app(services.settings, services)

    def watch(answered: Sequence[Answered]) -> None:
        for ctx, response, seconds in answered:
            assert seconds >= 0
            seen.append((ctx.route, response.status_code))

    app.observers.append(watch)
    return app


# Requests without a token are answered (401) without a database call, so several fit in one turn.


def test_observers_see_a_response_at_the_end_of_the_turn_that_answered_it(services: Services) -> None:
    seen: Seen = []
    app = watched(services, seen)

    async def two_requests() -> None:
        assert (await call(app, "/beta/me/profile/languages"))[0] == 401
        assert (await call(app, "/beta/me/profile/languages/x"))[0] == 401
        assert seen == []  # answered, but the turn has not ended
        await asyncio.sleep(0)
        assert seen == [("/beta/me/profile/languages", 401), ("/beta/me/profile/languages/{language}", 401)]
        await asyncio.sleep(0)
        assert len(seen) == 2  # each once

    asyncio.run(two_requests())


def test_a_route_outside_beta_sees_every_response_answered_before_it(services: Services) -> None:
    # The journal, the metrics and the permission report are read there: a read in the same turn as
    # the requests it reports on must include them.
    app = create_app(services.settings, services)

    async def request_then_read() -> tuple[int, bytes]:
        await call(app, "/beta/me/profile/languages")
        return await call(app, "/_graphlang/requests", ADMIN)

    status, body = asyncio.run(request_then_read())
    assert status == 200
    entries = orjson.loads(body)["value"]
    assert [(entry["route"], entry["status"]) for entry in entries] == [("/beta/me/profile/languages", 401)]


def test_a_failing_observer_is_logged_and_the_others_still_see_every_response(
        services: Services, caplog: pytest.LogCaptureFixture) -> None:
    seen: Seen = []
    app = create_app(services.settings, services)

    def broken(answered: Sequence[Answered]) -> None:
        raise RuntimeError("observer bug")

    app.observers.insert(0, broken)
    app.observers.append(lambda answered: seen.extend((ctx.route, response.status_code)
                                                      for ctx, response, _seconds in answered))

    async def one_turn() -> None:
        await call(app, "/beta/me/profile/languages")
        await call(app, "/beta/me/profile/languages")
        await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR, logger="graphlang"):
        asyncio.run(one_turn())
    assert seen == [("/beta/me/profile/languages", 401)] * 2
    # Once for the turn, not once per request.
    assert [record.getMessage() for record in caplog.records if record.name == "graphlang"] == [
        "an observer failed"]


def test_shutdown_shows_the_observers_what_the_last_turn_answered(services: Services) -> None:
    seen: Seen = []
    app = watched(services, seen)

    async def answer_then_shut_down() -> None:
        await call(app, "/beta/me/profile/languages")
        messages = iter([{"type": "lifespan.shutdown"}])

        async def receive() -> dict[str, Any]:
            return next(messages)

        async def send(message: MutableMapping[str, Any]) -> None:
            assert seen == [("/beta/me/profile/languages", 401)]  # before the lifespan completes

        await app({"type": "lifespan"}, receive, send)

    asyncio.run(answer_then_shut_down())
