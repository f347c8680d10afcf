"""WAL checkpoints made in the background, not by the commit whose requests wait for it."""

from __future__ import annotations

import os
import sqlite3
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from graphlang.storage import checkpoint
from graphlang.storage.checkpoint import Checkpointer, without_automatic_checkpoints
from graphlang.storage.engine import make_engine
from graphlang.storage.lock_file import held, open_lock_file

ROWS = 6000  # 1 KB each: about 1,500 pages, past the 1,000 at which SQLite would checkpoint by itself


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    yield built
    built.dispose()


def write_without_checkpoints(engine: Engine, rows: int) -> sqlite3.Connection:
    """A writer like group commit's: WAL mode, automatic checkpoints off; what it wrote is in the WAL."""
    writer = engine.raw_connection()
    without_automatic_checkpoints(writer)
    cursor = writer.cursor()
    cursor.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT)")
    for _batch in range(rows // 100):
        cursor.executemany("INSERT INTO filler (text) VALUES (?)", [("x" * 1000,)] * 100)
        writer.commit()
    cursor.close()
    return writer  # type: ignore[return-value]


def database_bytes(engine: Engine) -> int:
    assert engine.url.database is not None
    return Path(engine.url.database).stat().st_size


def checkpointed_while_running(engine: Engine) -> bool:
    """Whether a running Checkpointer copies a writer's WAL into the database file within 10 s."""
    writer = write_without_checkpoints(engine, ROWS)
    checkpointer = Checkpointer(engine, interval=0.01)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while database_bytes(engine) < ROWS * 1000 and time.monotonic() < deadline:
            time.sleep(0.01)
        return database_bytes(engine) >= ROWS * 1000
    finally:
        checkpointer.stop()
        writer.close()


def test_a_writer_without_automatic_checkpoints_leaves_its_pages_in_the_wal(engine: Engine) -> None:
    writer = write_without_checkpoints(engine, ROWS)
    try:
        assert database_bytes(engine) < 100_000
        assert writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    finally:
        writer.close()


def test_the_checkpointer_copies_the_wal_into_the_database_while_it_runs(engine: Engine) -> None:
    assert checkpointed_while_running(engine)


def test_stopping_the_checkpointer_makes_a_last_checkpoint(engine: Engine) -> None:
    checkpointer = Checkpointer(engine, interval=3600)
    checkpointer.start()
    writer = write_without_checkpoints(engine, ROWS)
    try:
        assert database_bytes(engine) < 100_000
        checkpointer.stop()
        assert database_bytes(engine) >= ROWS * 1000
    finally:
        writer.close()


def test_a_failed_checkpoint_is_logged_once_and_retried(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    real = checkpoint._checkpoint
    failures = iter([True, True, True])

    def flaky(connection: Any) -> None:
        if next(failures, False):
            raise sqlite3.OperationalError("disk I/O error")
        real(connection)

    monkeypatch.setattr(checkpoint, "_checkpoint", flaky)
    assert checkpointed_while_running(engine)
    warnings = [r for r in caplog.records if "checkpoint failed" in r.getMessage()]
    assert len(warnings) == 1


def wal_restarts(engine: Engine) -> int:
    """How many times the WAL has started afresh from its beginning: its header's checkpoint sequence."""
    with open(f"{engine.url.database}-wal", "rb") as wal:
        header = wal.read(16)
    return int(struct.unpack(">I", header[12:16])[0]) if len(header) == 16 else 0


def test_under_a_steady_stream_of_writes_the_wal_keeps_starting_afresh(engine: Engine, tmp_path: Path) -> None:
    # A write lands during every checkpoint, so the WAL is never all copied when the next one begins,
    # unless a checkpoint now and then keeps the writers out.
    lock_file = tmp_path / "wal.db.write-lock"
    writer = write_without_checkpoints(engine, 100)
    lock = open_lock_file(lock_file)
    checkpointer = Checkpointer(engine, interval=0.005, lock_file=lock_file, restart_every=4)
    checkpointer.start()
    try:
        first = wal_restarts(engine)
        deadline = time.monotonic() + 10
        while wal_restarts(engine) < first + 3 and time.monotonic() < deadline:
            with held(lock):  # as every group-commit writer holds it
                writer.execute("INSERT INTO filler (text) VALUES (?)", ("x" * 1000,))
                writer.commit()
        assert wal_restarts(engine) >= first + 3
    finally:
        checkpointer.stop()
        writer.close()
        os.close(lock)
