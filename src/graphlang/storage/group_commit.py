"""Group commit: the writes of concurrent requests share one SQLite transaction and one fsync.

With ``synchronous=FULL`` every commit waits for the disk, and SQLite takes one writer at a time, so
durable writes one transaction each are bounded by the disk's sync rate. Here one writer thread per
process takes every write waiting in its queue, runs each in its own savepoint of one transaction
(a write that fails rolls back alone and gets its own error), commits once, and only then answers
each of them: a write is acknowledged only after the commit that made it durable. A failed commit
fails every write of the batch, none of which was acknowledged. Writes wait for nothing but the
commit in progress, so a lone write is not delayed.

Writer threads of several processes (``serve --workers N``) take turns through an exclusive lock on
a file beside the database: waiting on it wakes at once when it is free, where SQLite's own busy
handler would sleep and retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from graphlang.storage.engine import WRITE_OPTION
from graphlang.storage.store import Store

T = TypeVar("T")
MAX_BATCH = 256
log = logging.getLogger("graphlang.storage")


@dataclass(frozen=True, slots=True)
class _Write:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    # Where the outcome goes: a thread's Future, or an event loop's future (``run``), whose
    # outcomes are handed to their loop together, once per batch rather than once per write.
    done: Future[Any] | asyncio.Future[Any]


class GroupCommit:
    def __init__(self, store: Store, lock_file: Path) -> None:
        self.store = store
        self.lock_file = lock_file
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the store write ``fn(*args)`` in the next batch; returns once that batch is committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._put(_Write(fn, args, done))
        return await done

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """``run`` for a caller outside an event loop."""
        done: Future[T] = Future()
        self._put(_Write(fn, args, done))
        return done

    def _put(self, write: _Write) -> None:
        if self._thread is None:
            self._start()
        self._queue.put(write)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                # Started on first use, so that a worker process forked after the app was built has its own.
                self._thread = threading.Thread(target=self._serve, name="graphlang-group-commit", daemon=True)
                self._thread.start()

    # -- on the writer thread --------------------------------------------------------------------

    def _serve(self) -> None:
        lock = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)  # finish this batch, then stop
                        break
                    batch.append(more)
                with _exclusive(lock):
                    self._commit(batch)
        finally:
            os.close(lock)

    def _commit(self, batch: list[_Write]) -> None:
        outcomes: list[Outcome] = []
        try:
            with self.store.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin(), \
                    self.store.batched(conn):
                outcomes.extend(_attempt(write) for write in batch)
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored, all hear why
            log.warning("a group commit of %d writes failed: %s", len(batch), exc)
            _settle([(write, None, exc) for write in batch])
            return
        _settle(outcomes)


Outcome = tuple[_Write, Any, BaseException | None]


def _settle(outcomes: list[Outcome]) -> None:
    """Give every write its outcome: thread futures here, each event loop's all in one callback (one
    wake-up of the loop for the batch)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        done = outcome[0].done
        if isinstance(done, asyncio.Future):
            by_loop.setdefault(done.get_loop(), []).append(outcome)
        else:
            _set(done, outcome[1], outcome[2])
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a loop closed meanwhile has nobody left to answer
            loop.call_soon_threadsafe(_settle_on_loop, settled)


def _settle_on_loop(outcomes: list[Outcome]) -> None:
    for write, result, error in outcomes:
        if not write.done.done():  # a request cancelled while it waited (its client went away)
            _set(write.done, result, error)


def _set(done: Future[Any] | asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if error is None:
        done.set_result(result)
    else:
        done.set_exception(error)



def _attempt(write: _Write) -> tuple[_Write, Any, BaseException | None]:
    try:
        return write, write.fn(*write.args), None
    except Exception as exc:  # noqa: BLE001 - this write alone failed (its savepoint rolled back); its caller hears why
        return write, None, exc


@contextmanager
def _exclusive(lock: int) -> Iterator[None]:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
