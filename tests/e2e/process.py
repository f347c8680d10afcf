"""A real ``graphlang serve`` process for end-to-end tests, and the official SDK pointed at it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

STARTUP_SECONDS = 30
SDK_TIMEOUT_SECONDS = 15
LISTENING = re.compile(r"listening on (http://[^\s/]+)/beta")


def graphlang_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m graphlang``."""
    script = Path(sys.executable).with_name("graphlang")
    return [str(script)] if script.exists() else [sys.executable, "-m", "graphlang"]


def clean_env(data_dir: Path, admin_token: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any GRAPHLANG_* setting, so the test alone decides them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHLANG_")}
    env.update({"GRAPHLANG_DATA_DIR": str(data_dir), "GRAPHLANG_ADMIN_TOKEN": admin_token,
                "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


@dataclass
class GraphlangServer:
    """One running ``graphlang serve --port 0``."""

    base_url: str  # http://127.0.0.1:PORT, without the version segment
    data_dir: Path
    admin_token: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_dir: Path
    _tokens: dict[tuple[str, str, str | None], str] = field(default_factory=dict)

    def token(self, user: str = "alice@contoso.com", scopes: str = "User.ReadWrite",
              name: str | None = None) -> str:
        """A token from ``graphlang token``, exactly as a user would get one (cached per arguments)."""
        key = (user, scopes, name)
        if key not in self._tokens:
            args = ["--data-dir", str(self.data_dir), "token", "--user", user, "--scopes", scopes]
            if name is not None:
                args += ["--name", name]
            done = subprocess.run([*graphlang_command(), *args], env=self.env, capture_output=True,
                                  text=True, timeout=60, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"graphlang token failed ({done.returncode}): {done.stderr}")
            self._tokens[key] = done.stdout.strip()
        return self._tokens[key]

    def headers(self, user: str = "alice@contoso.com", scopes: str = "User.ReadWrite") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, scopes)}"}

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


def _first_line(path: Path, process: subprocess.Popen[bytes], deadline: float) -> str:
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if "\n" in text:
            return text.split("\n", 1)[0]
        if process.poll() is not None:
            raise RuntimeError(f"graphlang serve exited with {process.returncode} before listening")
        time.sleep(0.05)
    raise RuntimeError("graphlang serve did not print where it listens in time")


def _wait_until_answering(base_url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"graphlang serve exited with {process.returncode}")
        try:
            httpx.get(f"{base_url}/beta/me/profile/languages", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("graphlang serve did not answer in time")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A database of its own on the shared PostgreSQL server, dropped afterwards."""
    name = f"graphlang_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_graphlang(root: Path, *, extra_args: Sequence[str] = (), extra_env: Mapping[str, str] | None = None,
                      admin_token: str = "e2e-admin-token") -> Iterator[GraphlangServer]:
    """Start ``graphlang serve --port 0`` with its own data dir under ``root``; always stop it."""
    data_dir = root / "data"
    log_dir = root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = clean_env(data_dir, admin_token, extra_env)
    if "GRAPHLANG_DATABASE_URL" in env and not env["GRAPHLANG_DATABASE_URL"].startswith("sqlite"):
        subprocess.run([*graphlang_command(), "db", "upgrade"], env=env, capture_output=True, timeout=60,
                       check=True)
    stdout_path, stderr_path = log_dir / "stdout.log", log_dir / "stderr.log"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen([*graphlang_command(), "serve", "--port", "0", *extra_args],
                                   env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            line = _first_line(stdout_path, process, deadline)
            found = LISTENING.search(line)
            if found is None:
                raise RuntimeError(f"unexpected first line from graphlang serve: {line!r}")
            base_url = found.group(1)
            _wait_until_answering(base_url, process, deadline)
        except RuntimeError as exc:
            _stop(process)
            raise RuntimeError(f"{exc}\n--- stderr ---\n{stderr_path.read_text(errors='replace')}") from exc
        yield GraphlangServer(base_url, data_dir, admin_token, env, process, log_dir)
    finally:
        _stop(process)


@dataclass
class SdkClient:
    """A ``GraphServiceClient`` on the local server, with the adapter PageIterator and $batch need."""

    client: Any  # msgraph_beta.GraphServiceClient
    adapter: Any  # msgraph_beta.GraphRequestAdapter
    base_url: str  # http://127.0.0.1:PORT/beta


def make_sdk(base_url: str, token: str) -> SdkClient:
    """The exact idiom of sdk-notes.md: a host-restricted static token, Graph middleware, no retries."""
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from kiota_http.middleware.options import RetryHandlerOption, UrlReplaceHandlerOption
    from msgraph_beta import GraphRequestAdapter, GraphServiceClient  # type: ignore[import-untyped]
    from msgraph_core import APIVersion, GraphClientFactory  # type: ignore[import-untyped]

    class StaticTokenProvider(AccessTokenProvider):
        def __init__(self, value: str, hosts: list[str]) -> None:
            self.value, self.validator = value, AllowedHostsValidator(hosts)

        async def get_authorization_token(self, uri: str,
                                          additional_authentication_context: dict[str, Any] | None = None
                                          ) -> str:
            return self.value if self.validator.is_url_host_valid(uri) else ""

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return self.validator

    auth = BaseBearerTokenAuthenticationProvider(StaticTokenProvider(token, ["127.0.0.1"]))
    http = GraphClientFactory.create_with_default_middleware(
        api_version=APIVersion.beta,
        # No kept-alive connections: a client may then be used from several asyncio.run() loops.
        client=httpx.AsyncClient(timeout=httpx.Timeout(SDK_TIMEOUT_SECONDS),
                                 limits=httpx.Limits(max_keepalive_connections=0)),
        options={
            UrlReplaceHandlerOption.get_key(): UrlReplaceHandlerOption(
                enabled=True, replacement_pairs={"/users/me-token-to-replace": "/me"}),
            RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0, should_retry=False),
        },
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{base_url}/beta"
    return SdkClient(GraphServiceClient(request_adapter=adapter), adapter, adapter.base_url)

