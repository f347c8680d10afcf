"""SIGKILL at random moments under a write load loses no acknowledged write, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import GraphlangServer, running_graphlang
from tests.ops.support import LANGUAGES, call, mint_token, shared_server_database

KILLS = 2  # per database: with the final check, three server starts each
WRITERS = 4
PATCHES_PER_ITEM = 3


@dataclass
class Written:
    """One item as the server acknowledged it, and the change that was in flight when it died."""

    tag: str
    acknowledged: str  # displayName of the last acknowledged write
    in_flight: str | None = None


@dataclass
class Ledger:
    items: dict[str, Written] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, language_id: str, written: Written) -> None:
        with self.lock:
            self.items[language_id] = written


def write_until_refused(base_url: str, token: str, writer: int, ledger: Ledger) -> None:
    """Create items and patch each a few times, recording every write the server acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        created = 0
        try:
            while True:
                created += 1
                name = f"w{writer}-{random.random()}-c{created}"
                response = client.post(LANGUAGES, json={"tag": "fi-FI", "displayName": name,
                                                        "spoken": "professionalWorking"})
                assert response.status_code == 201, response.text
                written = Written(tag="fi-FI", acknowledged=name)
                ledger.record(response.json()["id"], written)
                for version in range(PATCHES_PER_ITEM):
                    written.in_flight = f"{name}-v{version}"
                    response = client.patch(f"{LANGUAGES}/{response.json()['id']}",
                                            json={"displayName": written.in_flight})
                    assert response.status_code == 200, response.text
                    written.acknowledged, written.in_flight = written.in_flight, None
        except httpx.TransportError:
            return  # the server was killed


def check_every_acknowledged_write(server: GraphlangServer, token: str, ledger: Ledger) -> None:
    for language_id, written in ledger.items.items():
        response = call(server, "GET", f"{LANGUAGES}/{language_id}", token=token)
        assert response.status_code == 200, f"acknowledged item {language_id} is missing: {response.text}"
        body = response.json()
        assert body["tag"] == written.tag
        assert body["spoken"] == "professionalWorking"
        assert body["displayName"] in (written.acknowledged, written.in_flight)


@contextmanager
def database_env(backend: str) -> Iterator[dict[str, str]]:
    if backend == "sqlite":
        yield {}  # the SQLite file in the server's data directory
        return
    with shared_server_database() as url:
        yield {"GRAPHLANG_DATABASE_URL": url}


@pytest.mark.standalone
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_writes_survive_sigkill_at_random_moments(tmp_path: Path, backend: str) -> None:
    ledger = Ledger()
    with database_env(backend) as env:
        for _ in range(KILLS):
            with running_graphlang(tmp_path, extra_env=env) as server:
                token = mint_token(server)
                check_every_acknowledged_write(server, token, ledger)
                writers = [threading.Thread(target=write_until_refused, args=(server.base_url, token, n, ledger))
                           for n in range(WRITERS)]
                for writer in writers:
                    writer.start()
                threading.Event().wait(random.uniform(0.3, 1.2))
                server.process.kill()
                server.process.wait(timeout=10)
                for writer in writers:
                    writer.join(timeout=30)
        with running_graphlang(tmp_path, extra_env=env) as server:
            check_every_acknowledged_write(server, mint_token(server), ledger)
    assert len(ledger.items) >= KILLS  # the load did write between the kills
