"""Group commit: the writes of concurrent requests share one SQLite transaction and one fsync.

With ``synchronous=FULL`` every commit waits for the disk, and SQLite takes one writer at a time, so
durable writes one transaction each are bounded by the disk's sync rate. Here the writes waiting
in a process are taken together, each runs in its own savepoint of one transaction (a write that
fails rolls back alone and gets its own error), the transaction commits once, and only then is
each of them answered: a write is acknowledged only after the commit that made it durable. A
failed commit fails every write of the batch, none of which was acknowledged, and so does a
transaction the database rolled back by itself (on a full disk, say: ``Store.batched``). Writes wait for
nothing but the commit in progress, so a lone write is not delayed.

One writer thread per process takes the lock, begins and commits: the steps that wait. The writes
of an event loop (``run``) run on that loop itself, between the thread's BEGIN and COMMIT. Each
statement releases the GIL, so writes run on the thread while the loop serves requests would wait
for the GIL at every statement, and make the loop wait in turn; on the loop a batch of writes runs
in one go. Writes from other threads (``submit``), and writes marked with ``store.runs_long`` (which
would hold up every other request of the loop meanwhile), run on the writer thread.

Writer threads of several processes (``serve --workers N``) take turns through an exclusive lock on
a file beside the database: waiting on it wakes at once when it is free, where SQLite's own busy
handler would sleep and retry.

A write that is the only request its process is serving (``alone``, which the application answers)
commits right there on its event loop, when the writer and both locks are free at once: there is
nothing to share a commit with, and the hand-overs to the writer thread and back would take as long
as the write itself. The loop then waits for the commit's fsync, which delays no other request, as
there is none. If anything holds a lock, the write takes the usual way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, RootTransaction
from sqlalchemy.pool import Pool

from graphlang.storage.checkpoint import Checkpointer, without_automatic_checkpoints
from graphlang.storage.engine import SQLITE_BUSY_TIMEOUT_MS, WRITE_OPTION, private_pool
from graphlang.storage.lock_file import held, open_lock_file, release, taken_at_once
from graphlang.storage.store import Store, is_long

T = TypeVar("T")
MAX_BATCH = 256
# How long the writer thread, holding the lock and a transaction, waits for an event loop to run its
# writes. A loop that does not (stopped, or closed meanwhile) must not keep every other writer out.
LOOP_TURN_SECONDS = 2.0
log = logging.getLogger("graphlang.storage")


@dataclass(frozen=True, slots=True)
class _Write:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    done: Future[Any] | asyncio.Future[Any]


Outcome = tuple[_Write, Any, BaseException | None]


@dataclass(eq=False, slots=True)
class _Pending:
    """Writes waiting for the next transaction, from one event loop (``loop``) or from threads (None).

    ``queued`` is set while the writer thread has a turn of this source in its queue that has not
    yet taken the writes: new writes join that turn instead of queueing another.
    """

    loop: asyncio.AbstractEventLoop | None
    writes: list[_Write] = field(default_factory=list)
    queued: bool = False

    def take(self, limit: int = MAX_BATCH) -> list[_Write]:
        taken, self.writes = self.writes[:limit], self.writes[limit:]
        self.queued = False
        return taken


class _LoopTurn:
    """The hand-over of one transaction to an event loop and back.

    The thread begins, asks the loop to ``run`` its writes, and waits until they have run. A thread
    that gives up waiting abandons the turn (and rolls back): the loop then leaves its writes for the
    next one.
    """

    __slots__ = ("_mutex", "_state", "error", "finished", "outcomes", "writes")

    def __init__(self) -> None:
        self._state = "waiting"  # then "ran" (by the loop) or "abandoned" (by the thread)
        self._mutex = threading.Lock()
        self.finished = threading.Lock()
        self.finished.acquire()  # released by the loop once its writes have run
        self.writes: list[_Write] = []
        self.outcomes: list[Outcome] = []
        self.error: BaseException | None = None

    def run(self, committer: GroupCommit, pending: _Pending, conn: Connection) -> None:
        """On the event loop: run the waiting writes in the thread's transaction."""
        with self._mutex:
            if self._state == "abandoned":
                committer._request(pending)  # this turn ended unused: the writes wait for the next
                return
            self._state = "ran"
            try:
                self.writes = pending.take()
                if pending.writes:
                    committer._request(pending)  # more than one batch holds
                with committer.store.batched(conn):
                    self.outcomes = [_attempt(write) for write in self.writes]
            except BaseException as exc:
                self.error = exc  # the thread rolls back and gives it to the writes; the loop hears it too
                raise
            finally:
                self.finished.release()

    def wait(self, seconds: float) -> bool:
        """On the thread: whether the loop ran the writes (False: it did not, and now never will)."""
        if self.finished.acquire(timeout=seconds):
            return True
        with self._mutex:  # waits for a loop that is running the writes right now
            if self._state == "waiting":
                self._state = "abandoned"
                return False
            return True


class GroupCommit:
    def __init__(self, store: Store, lock_file: Path) -> None:
        self.store = store
        self.lock_file = lock_file
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pending] = weakref.WeakKeyDictionary()
        self._threads = _Pending(None)
        self._threads_lock = threading.Lock()
        # Whether the request calling ``run`` is the only one in flight; the application says.
        self.alone: Callable[[], bool] = _never
        self._writer = _WriterConnection(store)
        self._turn = threading.Lock()  # held by whoever has a transaction on the writer connection
        self._lock_fd: int | None = None  # the lock file, opened on first use

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the store write ``fn(*args)`` in the next batch; returns once that batch is committed."""
        if is_long(fn):
            return await asyncio.wrap_future(self.submit(fn, *args))
        loop = asyncio.get_running_loop()
        pending = self._loops.get(loop)
        if pending is None:
            pending = self._loops[loop] = _Pending(loop)
        if not pending.writes and not pending.queued and self.alone():
            committed = self._commit_alone(fn, args)
            if committed is not None:
                result: T = committed.result()  # done already: raises the write's or the commit's error
                return result
        done: asyncio.Future[T] = loop.create_future()
        pending.writes.append(_Write(fn, args, done))
        if not pending.queued:
            self._request(pending)
        return await done

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """``run`` for a caller outside an event loop: the write runs on the writer thread."""
        done: Future[T] = Future()
        with self._threads_lock:
            self._threads.writes.append(_Write(fn, args, done))
            if not self._threads.queued:
                self._request(self._threads)
        return done

    def _request(self, pending: _Pending) -> None:
        """Queue a turn of ``pending`` for the writer thread."""
        pending.queued = True
        if self._thread is None:
            self._start()
        self._queue.put(pending)

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

    # -- a write alone, on its event loop -------------------------------------------------------

    def _lock(self) -> int:
        """The lock file's descriptor, opened on first use (each worker process builds its own
        services after the fork: a descriptor shared with another process would share its lock)."""
        with self._start_lock:  # the writer thread and the loop may both ask first
            if self._lock_fd is None:
                self._lock_fd = open_lock_file(self.lock_file)
            return self._lock_fd

    def _commit_alone(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Future[Any] | None:
        """On the event loop: run ``fn(*args)`` in a transaction of its own and commit it, if the writer
        and the locks are free right now (None if not: nothing was done). Nothing here waits for a
        lock: another process's writer, or a writer outside group commit, sends the write the usual way."""
        if not self._turn.acquire(blocking=False):
            return None
        try:
            if self._thread is None:
                self._start()  # its checkpointer keeps the WAL short
            lock = self._lock()
            if not taken_at_once(lock):
                return None
            try:
                return self._transaction_alone(fn, args)
            finally:
                release(lock)
        finally:
            self._turn.release()

    def _transaction_alone(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Future[Any] | None:
        began = self._writer.begin_at_once()
        if began is None:
            return None
        conn, transaction = began
        done: Future[Any] = Future()
        write = _Write(fn, args, done)
        try:
            with self.store.batched(conn):
                outcome = _attempt(write)
            transaction.commit()
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing is stored, the caller hears why
            self._failed([write], exc, self._writer)
            return done
        except BaseException:
            self._writer.discard()  # rolls back: SQLite's write lock must not outlive this
            raise
        _settle([outcome])
        return done

    # -- on the writer thread --------------------------------------------------------------------

    def _serve(self) -> None:
        lock = self._lock()
        writer = self._writer
        checkpointer = Checkpointer(self.store.engine, lock_file=self.lock_file)
        checkpointer.start()
        try:
            while (pending := self._queue.get()) is not None:
                with self._turn, held(lock):
                    if pending.loop is None:
                        self._commit_here(pending, writer)
                    else:
                        self._commit_on_loop(pending, pending.loop, writer)
        finally:
            checkpointer.stop()
            with self._turn, self._start_lock:  # not while a write alone is using them
                writer.close()
                self._lock_fd = None
                os.close(lock)

    def _commit_here(self, pending: _Pending, writer: _WriterConnection) -> None:
        with self._threads_lock:
            batch = pending.take()
            if pending.writes:
                self._request(pending)
        outcomes: list[Outcome] = []
        try:
            conn = writer.connection()
            with conn.begin(), self.store.batched(conn):
                outcomes.extend(_attempt(write) for write in batch)
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored, all hear why
            self._failed(batch, exc, writer)
            return
        _settle(outcomes)

    def _commit_on_loop(self, pending: _Pending, loop: asyncio.AbstractEventLoop, writer: _WriterConnection
                        ) -> None:
        turn = _LoopTurn()
        try:
            conn = writer.connection()
            transaction = conn.begin()
        except Exception as exc:  # noqa: BLE001 - no transaction: the writes waiting hear why
            writer.discard()
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_fail_waiting, pending, exc)
            return
        try:
            try:
                loop.call_soon_threadsafe(turn.run, self, pending, conn)
            except RuntimeError:  # the loop is closed: nobody is left to answer
                transaction.rollback()
                return
            if not turn.wait(LOOP_TURN_SECONDS):
                log.warning("an event loop did not run its writes within %s s; they wait for the next "
                            "transaction", LOOP_TURN_SECONDS)
                transaction.rollback()
                return
            if turn.error is None:
                transaction.commit()
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored, all hear why
            self._failed(turn.writes, exc, writer)
            return
        if turn.error is not None:  # the loop was interrupted: what ran of the batch is not kept
            self._failed(turn.writes, turn.error, writer)
            return
        _settle(turn.outcomes)

    def _failed(self, batch: list[_Write], exc: BaseException, writer: _WriterConnection) -> None:
        log.warning("a group commit of %d writes failed: %s", len(batch), exc)
        writer.discard()  # whatever state the failure left the connection in, the next batch starts afresh
        _settle([(write, None, exc) for write in batch])


def _never() -> bool:
    return False


def _fail_waiting(pending: _Pending, exc: Exception) -> None:
    """On the loop: no transaction could begin, so the writes waiting for one fail."""
    log.warning("a group commit of %d writes could not begin: %s", len(pending.writes), exc)
    _settle_on_loop([(write, None, exc) for write in pending.take(len(pending.writes))])


class _WriterConnection:
    """The writer's one connection, kept from batch to batch: a checkout from the pool, a new
    Connection and its reset on return cost more than a small batch's writes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool: Pool | None = None
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        if self._conn is None:
            self._pool = self._pool or private_pool(self.store.engine)
            pooled = self._pool.connect()
            without_automatic_checkpoints(pooled)  # the writer's Checkpointer makes them
            self._conn = Connection(self.store.engine, pooled).execution_options(**{WRITE_OPTION: True})
        return self._conn

    def begin_at_once(self) -> tuple[Connection, RootTransaction] | None:
        """A write transaction if SQLite's write lock is free right now; None (and the connection let
        go, so that the next user starts afresh) if it is not, or if the connection fails."""
        transaction = None
        try:
            conn = self.connection()
            cursor = conn.connection.cursor()
            cursor.execute("PRAGMA busy_timeout=0")  # BEGIN fails at once rather than wait for a lock
            with contextlib.suppress(Exception):  # busy (or broken): None, and the write goes the usual way
                transaction = conn.begin()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # the writer thread waits for locks
            cursor.close()
        except Exception:  # noqa: BLE001 - perhaps still without its busy timeout: never back to the pool
            self.discard(invalidate=True)
            return None
        if transaction is None:
            self.discard()
            return None
        return conn, transaction

    def discard(self, *, invalidate: bool = False) -> None:
        """Let the connection go (``invalidate``: closed for good rather than returned to the pool)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # already broken: closing is all that is left to do
                if invalidate:
                    conn.invalidate()
                conn.close()

    def close(self) -> None:
        self.discard()
        if self._pool is not None:
            self._pool.dispose()
            self._pool = None


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


def _attempt(write: _Write) -> Outcome:
    try:
        return write, write.fn(*write.args), None
    except Exception as exc:  # noqa: BLE001 - this write alone failed (its savepoint rolled back); its caller hears why
        return write, None, exc

