"""What the operations tests share: PostgreSQL servers and databases, and HTTP helpers for processes."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from graphlang.auth.tokens import mint
from graphlang.config import Settings
from graphlang.services import offline_signing_key
from graphlang.storage.store import derived_user_id
from tests.e2e.process import GraphlangServer, graphlang_command, postgres_database

POSTGRES_SERVER_URL = os.environ.get("GRAPHLANG_TEST_POSTGRES_URL",
                                     "postgresql://postgres@127.0.0.1:5432/postgres")
LANGUAGES = "/beta/me/profile/languages"


@contextmanager
def shared_server_database() -> Iterator[str]:
    """A database of its own on the shared PostgreSQL server (never stopped by these tests)."""
    with postgres_database(POSTGRES_SERVER_URL) as url:
        yield url


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database on ``backend`` ("sqlite" or "postgresql") for one test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'graphlang.db'}"
        return
    with shared_server_database() as url:
        yield url


def run_graphlang(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a graphlang command to its end; a server that starts when it should not is killed."""
    return subprocess.run([*graphlang_command(), *args], env=env, capture_output=True, text=True, timeout=60,
                          check=False, stdin=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A PostgreSQL server of the test's own, in a temporary directory, that the test may stop."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = Path(binaries[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="graphlang-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            # The server refuses to run as root: the cluster belongs to the postgres account.
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr}\n"
                               f"{log.read_text(errors='replace') if log.exists() else ''}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def answers(self) -> bool:
        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def remove(self) -> None:
        if self.answers():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def mint_token(server: GraphlangServer, upn: str = "alice@contoso.com") -> str:
    """A token signed with the server's key, found as ``graphlang token`` finds it, without the cost
    of another process."""
    settings = Settings.from_env(server.env)
    return mint(offline_signing_key(settings), issuer=settings.emulator_issuer(settings.tenant),
                audience=settings.audiences[0], tenant=settings.tenant,
                user_id=derived_user_id(settings.tenant, upn), upn=upn, name=upn.split("@")[0],
                scopes=["User.ReadWrite"])


def call(server: GraphlangServer, method: str, path: str, *, token: str | None = None,
         timeout: float = 15.0, **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, f"{server.base_url}{path}", headers=headers, timeout=timeout, **kwargs)


def wait_for(predicate: Any, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds}s")


def worker_pids(server: GraphlangServer) -> set[int]:
    """The pids of a ``serve --workers N`` process's workers."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


def serving_pids(server: GraphlangServer) -> set[int]:
    """The processes that logged answering the languages route."""
    lines = [json.loads(line) for line in (server.log_dir / "stderr.log").read_text().splitlines() if line]
    return {line["pid"] for line in lines if line.get("route") == LANGUAGES and line.get("status") == 200}
