"""How a worker is set up before it serves its first request."""

from __future__ import annotations

import gc
import socket
import sys
from collections.abc import Iterator

import pytest
import uvicorn

from graphlang.app import create_app
from graphlang.server import GIL_SWITCH_SECONDS, serve_app
from graphlang.services import Services


@pytest.fixture
def seen_at_serving(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, float]]:
    """What the process looked like when uvicorn was asked to serve (it is not then run)."""
    seen: dict[str, float] = {}

    def run(_server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["switch_interval"] = sys.getswitchinterval()

    interval = sys.getswitchinterval()
    monkeypatch.setattr(uvicorn.Server, "run", run)
    yield seen
    gc.unfreeze()
    sys.setswitchinterval(interval)


def test_serving_freezes_what_is_alive_at_start(services: Services, seen_at_serving: dict[str, float]) -> None:
    gc.unfreeze()
    app = create_app(services.settings, services)
    with socket.socket() as sock:
        serve_app(app, services.settings, sock)
    # The modules, the app and its services: collections under load never walk them again.
    assert seen_at_serving["frozen"] > 10_000


def test_serving_shortens_the_switch_interval(services: Services, seen_at_serving: dict[str, float]) -> None:
    app = create_app(services.settings, services)
    with socket.socket() as sock:
        serve_app(app, services.settings, sock)
    assert seen_at_serving["switch_interval"] == pytest.approx(GIL_SWITCH_SECONDS)
