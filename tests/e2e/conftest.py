"""Fixtures for end-to-end tests: a real ``graphlang serve`` process and the official SDK on it.

``graphlang_server`` is shared by the tests of one module, so tests there use their own users
(``graphlang_server.token(user="someone-unique@contoso.com")``) rather than expect an empty store.
``start_graphlang`` starts a private server with extra arguments or environment when a test needs one.

SDK calls are coroutines; run them with ``asyncio.run(...)``. A client from ``make_sdk_client`` keeps
no connections alive, so the same client works across several ``asyncio.run`` calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.process import GraphlangServer, SdkClient, make_sdk, postgres_database, running_graphlang

POSTGRES_ADMIN_URL = os.environ.get("GRAPHLANG_TEST_POSTGRES_URL")
StartGraphlang = Callable[..., GraphlangServer]


def _start(stack: ExitStack, root: Path, extra_args: Sequence[str] = (),
           extra_env: Mapping[str, str] | None = None) -> GraphlangServer:
    env = dict(extra_env or {})
    if POSTGRES_ADMIN_URL and "GRAPHLANG_DATABASE_URL" not in env:
        env["GRAPHLANG_DATABASE_URL"] = stack.enter_context(postgres_database(POSTGRES_ADMIN_URL))
    return stack.enter_context(running_graphlang(root, extra_args=extra_args, extra_env=env))


@pytest.fixture(scope="module")
def graphlang_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphlangServer]:
    """``graphlang serve --port 0`` on its own data dir (and, in the PostgreSQL run, its own database)."""
    with ExitStack() as stack:
        yield _start(stack, tmp_path_factory.mktemp("graphlang-e2e"))


@pytest.fixture
def start_graphlang(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartGraphlang]:
    """A factory ``(extra_args=(), extra_env=None) -> GraphlangServer``; every server stops at teardown."""
    with ExitStack() as stack:
        def start(extra_args: Sequence[str] = (), extra_env: Mapping[str, str] | None = None) -> GraphlangServer:
            return _start(stack, tmp_path_factory.mktemp("graphlang-e2e"), extra_args, extra_env)

        yield start


@pytest.fixture
def make_sdk_client(graphlang_server: GraphlangServer) -> Callable[[str], SdkClient]:
    """``(token) -> SdkClient`` with ``.client`` (GraphServiceClient), ``.adapter`` and ``.base_url``."""
    def make(token: str) -> SdkClient:
        return make_sdk(graphlang_server.base_url, token)

    return make
