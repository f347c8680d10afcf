"""SIGTERM: requests in flight finish, then the process exits, within the configured grace period."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest

from tests.e2e.process import GraphlangServer, running_graphlang
from tests.ops.support import LANGUAGES, mint_token, wait_for


def start_post(server: GraphlangServer, token: str, body: bytes) -> socket.socket:
    """A POST whose body is still to come, once the server has begun reading it: in flight."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall((f"POST {LANGUAGES} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                        "Expect: 100-continue\r\n\r\n").encode())
    # The server says "continue" when the handler asks for the body, so the request is under way.
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):
        interim += connection.recv(1)
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    return connection


def read_response(connection: socket.socket) -> tuple[int, bytes]:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def refuses_connections(server: GraphlangServer) -> bool:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


@pytest.mark.standalone
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_request_in_flight_finish_then_exits(tmp_path: Path, workers: int) -> None:
    body = json.dumps({"tag": "pt-BR", "displayName": "drained"}).encode()
    with running_graphlang(tmp_path, extra_args=["--workers", str(workers)]) as server:
        token = mint_token(server)
        connection = start_post(server, token, body)

        server.process.send_signal(signal.SIGTERM)
        wait_for(lambda: refuses_connections(server), "closing the listening socket")
        connection.sendall(body)
        status, answer = read_response(connection)
        assert status == 201, (answer, server.logs()[-4000:])
        assert json.loads(answer)["displayName"] == "drained"
        exit_status = server.process.wait(timeout=30)
        assert exit_status == -signal.SIGTERM, server.logs()[-4000:]  # as uvicorn ends: by the signal


@pytest.mark.standalone
def test_sigterm_exits_after_the_grace_period_when_a_request_never_finishes(tmp_path: Path) -> None:
    body = json.dumps({"tag": "pt-BR"}).encode()
    with running_graphlang(tmp_path, extra_env={"GRAPHLANG_SHUTDOWN_GRACE_SECONDS": "1"}) as server:
        connection = start_post(server, mint_token(server), body)

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == -signal.SIGTERM  # as uvicorn ends: by the signal
        connection.close()
