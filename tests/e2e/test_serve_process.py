"""``graphlang serve`` as a user runs it: what it prints, and how the real HTTP server treats bodies."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.process import GraphlangServer

pytestmark = pytest.mark.e2e


def test_serve_on_port_zero_prints_one_line_with_the_port_and_the_token_command(
        graphlang_server: GraphlangServer) -> None:
    response = httpx.get(f"{graphlang_server.base_url}/beta/me/profile/languages",
                         headers=graphlang_server.headers("serve-line@contoso.com"))
    assert response.status_code == 200
    lines = (graphlang_server.log_dir / "stdout.log").read_text().splitlines()
    assert len(lines) == 1, lines
    found = re.fullmatch(r"graphlang listening on http://127\.0\.0\.1:(\d+)/beta .*graphlang token --user \S+.*",
                         lines[0])
    assert found is not None, lines[0]
    assert int(found.group(1)) > 0
    assert graphlang_server.base_url == f"http://127.0.0.1:{found.group(1)}"


def test_a_chunked_body_over_one_mebibyte_is_413_and_the_server_keeps_serving(
        graphlang_server: GraphlangServer) -> None:
    headers = {**graphlang_server.headers("serve-chunked@contoso.com"), "Content-Type": "application/json"}
    url = f"{graphlang_server.base_url}/beta/me/profile/languages"

    def chunks() -> Iterator[bytes]:
        yield b'{"tag": "en", "displayName": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = httpx.post(url, headers=headers, content=chunks(), timeout=15)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "RequestEntityTooLarge"
    assert httpx.get(url, headers=headers).json()["value"] == []
