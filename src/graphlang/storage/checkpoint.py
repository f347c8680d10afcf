"""WAL checkpoints off the commit path.

SQLite checkpoints a WAL database from the connection whose commit takes the WAL past
``wal_autocheckpoint`` pages (1,000 by default): that commit then also copies those pages into the
database file and syncs it, and every request waiting for it waits that much longer, tens of
milliseconds where a commit alone takes one. The group-commit writer turns automatic checkpoints
off for its connection, and this thread checkpoints instead, a few times a second. A ``PASSIVE``
checkpoint never waits for writers or readers: it copies what no reader still needs, and the next
one copies the rest; with nothing new in the WAL it costs a look at the WAL index.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine

from graphlang.storage.engine import private_pool

log = logging.getLogger("graphlang.storage")
INTERVAL_SECONDS = 0.1


class Checkpointer:
    def __init__(self, engine: Engine, interval: float = INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
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
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                try:
                    connection = connection or pool.connect()
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
