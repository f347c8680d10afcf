"""One structured log line per request, naming the request but never a token or a body."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.ops.logs import ACCESS_LOGGER, JsonFormatter, configure_logging
from graphlang.services import Services
from tests.e2e.process import running_graphlang
from tests.factories import Tokens
from tests.ops.support import LANGUAGES, call, mint_token
from tests.test_app import call as call_app

ACCESS_FIELDS = {"time", "level", "logger", "pid", "message", "request_id", "client_request_id", "caller",
                 "route", "method", "status", "duration_ms"}


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of the server's stderr, each of which must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.standalone
def test_serve_logs_one_json_line_per_request_without_tokens_or_bodies(tmp_path: Path) -> None:
    secret_name = f"Private name {uuid.uuid4()}"
    with running_graphlang(tmp_path) as server:
        token = mint_token(server)
        created = call(server, "POST", LANGUAGES, token=token, headers={"client-request-id": "client-42"},
                       json={"tag": "fr-FR", "displayName": secret_name})
        assert created.status_code == 201
        rejected = call(server, "GET", f"{LANGUAGES}?access_token={token}", token="not-a-token")
        assert rejected.status_code == 401
        server.process.terminate()
        server.process.wait(timeout=30)
        stderr = (server.log_dir / "stderr.log").read_text()

    assert token not in stderr
    assert "not-a-token" not in stderr
    assert secret_name not in stderr
    access = [line for line in json_lines(stderr) if line["logger"] == ACCESS_LOGGER]
    by_id = {line["request_id"]: line for line in access}
    post = by_id[created.headers["request-id"]]
    assert set(post) == ACCESS_FIELDS
    assert post["client_request_id"] == "client-42"
    assert post["caller"] == "alice@contoso.com"
    assert (post["route"], post["method"], post["status"]) == (LANGUAGES, "POST", 201)
    assert post["duration_ms"] >= 0
    refused = by_id[rejected.headers["request-id"]]
    assert refused["client_request_id"] == refused["request_id"]
    assert (refused["caller"], refused["route"], refused["status"]) == (None, LANGUAGES, 401)


def test_plain_text_access_line_names_method_route_status_and_request_id(
        client: TestClient, tokens: Tokens, caplog: pytest.LogCaptureFixture) -> None:
    token = tokens.delegated()
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        response = client.get(LANGUAGES, headers={"Authorization": f"Bearer {token}"})
        # Lines are made at the end of the turn that answered; a route outside /beta is answered
        # only after every earlier response's line (its own comes later).
        client.get("/_graphlang/health")

    [record] = [r for r in caplog.records if r.name == ACCESS_LOGGER and r.getMessage().startswith("GET /beta")]
    line = record.getMessage()
    assert line.startswith(f"GET {LANGUAGES} 200 ")
    assert response.headers["request-id"] in line
    assert token not in line


class CountingStream(io.StringIO):
    """stderr that counts the writes that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_access_lines_of_one_event_loop_turn_reach_stderr_in_one_write_at_its_end(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = CountingStream()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(services.settings)
    app = create_app(services.settings, services)
    paths = [LANGUAGES, f"{LANGUAGES}/x", LANGUAGES]

    async def one_turn() -> None:
        for path in paths:  # answered 401 without a database call: all three in this turn
            assert (await call_app(app, path))[0] == 401
        assert stream.writes == 0
        await asyncio.sleep(0)
        assert stream.writes == 1
        await asyncio.sleep(0)
        assert stream.writes == 1  # each line once

    try:
        asyncio.run(one_turn())
    finally:
        logging.getLogger().handlers.clear()
    lines = [line for line in json_lines(stream.getvalue()) if line["logger"] == ACCESS_LOGGER]
    assert [line["route"] for line in lines] == [LANGUAGES, f"{LANGUAGES}/{{language}}", LANGUAGES]
    assert len({line["request_id"] for line in lines}) == 3
    assert len({line["time"] for line in lines}) == 1  # made together, at the end of the turn


@pytest.mark.parametrize("created", [1764300000.0, 1764300000.0004999, 1764300000.9995, 1764300000.9999996,
                                     1779893863.7899995, 1783151127.9229996, 1764300001.5])
def test_a_line_is_timed_in_utc_to_the_millisecond_as_datetime_writes_it(created: float) -> None:
    record = logging.LogRecord("graphlang", logging.INFO, "", 0, "message", (), None)
    record.created = created
    line = json.loads(JsonFormatter().format(record))
    assert line["time"] == datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


def test_lines_in_the_same_millisecond_share_its_time_and_the_next_one_moves_on() -> None:
    times = []
    for created in (1764300000.1231, 1764300000.1234, 1764300000.1241):
        record = logging.LogRecord("graphlang", logging.INFO, "", 0, "message", (), None)
        record.created = created
        times.append(json.loads(JsonFormatter().format(record))["time"])
    assert times == ["2025-11-28T03:20:00.123+00:00"] * 2 + ["2025-11-28T03:20:00.124+00:00"]
