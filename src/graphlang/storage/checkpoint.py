"""WAL checkpoints off the commit path.

SQLite checkpoints a WAL database from the connection whose commit takes the WAL past
``wal_autocheckpoint`` pages (1,000 by default): that commit then also copies those pages into the
database file and syncs it, and every request waiting for it waits that much longer, tens of
milliseconds where a commit alone takes one. The group-commit writer turns automatic checkpoints
off for its connection, and this thread checkpoints instead, a few times a second. A ``PASSIVE``
checkpoint never waits for writers or readers: it copies what no reader still needs, and the next
one copies the rest; with nothing new in the WAL it costs a look at the WAL index.

SQLite starts the WAL afresh from its beginning only when a write begins with every frame of it
copied. Under a steady stream of writes one always lands while a checkpoint runs, so that moment
never comes: the WAL grew by hundreds of megabytes in ten seconds of PATCHes, and each commit that
lengthens the file syncs its new size as well as its pages. So every ``RESTART_EVERY``-th
checkpoint holds the writers' lock file (``lock_file``, which every group-commit writer of every
process holds while it writes): it copies what the others left, and the next write starts the WAL
from its beginning. The writers wait for that one only, a few milliseconds about once a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from graphlang.storage.engine import private_pool
from graphlang.storage.lock_file import held, open_lock_file

log = logging.getLogger("graphlang.storage")
INTERVAL_SECONDS = 0.1
RESTART_EVERY = 10  # with the writers kept out: about once a second


class Checkpointer:
    def __init__(self, engine: Engine, interval: float = INTERVAL_SECONDS, *, lock_file: Path | None = None,
                 restart_every: int = RESTART_EVERY) -> None:
        self.engine = engine
        self.interval = interval
        self.lock_file = lock_file
        self.restart_every = restart_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="graphlang-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop, after one last checkpoint of what the WAL holds."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        pool = private_pool(self.engine)
        connection: Any = None
        failing = False
        # A descriptor of its own: a lock taken through the writers' descriptor would be theirs too.
        lock = None if self.lock_file is None else open_lock_file(self.lock_file)
        runs = 0
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                runs += 1
                try:
                    connection = connection or pool.connect()
                    with held(lock) if lock is not None and runs % self.restart_every == 0 else nullcontext():
                        _checkpoint(connection)
                    failing = False
                except Exception as exc:  # noqa: BLE001 - the database may come back: try again next time
                    if not failing:  # once per outage, not every interval
                        log.warning("a background WAL checkpoint failed (retrying): %s", exc)
                    failing = True
                    _close(connection)
                    connection = None
                if stopping:
                    return
        finally:
            _close(connection)
            pool.dispose()
            if lock is not None:
                os.close(lock)


def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):  # already broken: closing is all that is left to do
            connection.close()


def _checkpoint(connection: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        cursor.close()


def without_automatic_checkpoints(dbapi_connection: Any) -> None:
    """Leave checkpoints to a ``Checkpointer``: this connection's commits no longer make them."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()
