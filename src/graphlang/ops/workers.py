"""``serve --workers N``: N processes answer requests from one listening socket.

The supervisor serves no request itself: it forks the workers (each builds its own services and
database pool), accepts connections and deals each to the worker with the fewest open
(ops/dealing.py), passes SIGTERM and SIGINT on to the workers, replaces a worker that dies, and
waits for all of them to drain before it exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

from prometheus_client import multiprocess

from graphlang.ops.dealing import Dealer, channel_pair
from graphlang.ops.metrics import multiprocess_dir, shared_between_processes

log = logging.getLogger("graphlang.workers")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
POLL_SECONDS = 0.1
# A worker that exits this soon after starting is replaced only after a pause, and when that keeps
# happening (a broken configuration, say) the supervisor gives up rather than loop for ever.
QUICK_EXIT_SECONDS = 5.0
RESTART_BRAKE_SECONDS = 1.0
MAX_QUICK_EXITS = 3
KILL_MARGIN_SECONDS = 5.0  # after the grace period, workers still running are killed


def _fork_worker(serve_one: Callable[[socket.socket], None], dealer: Dealer) -> int:
    """The new worker's pid; the worker serves the connections dealt down its channel. Call with the
    stop signals blocked, so that a worker never runs the supervisor's handlers and the supervisor
    learns of a stop only once it knows the new worker."""
    sys.stdout.flush()
    sys.stderr.flush()
    ours, theirs = channel_pair()
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        raise
    if pid != 0:
        theirs.close()
        dealer.add(pid, ours)
        return pid
    code = 1
    try:
        ours.close()
        dealer.inherited()
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        serve_one(theirs)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        log.exception("worker %d failed", os.getpid())
    finally:
        logging.shutdown()
        os._exit(code)


class Supervisor:
    def __init__(self, count: int, serve_one: Callable[[socket.socket], None], grace_seconds: float,
                 listening: socket.socket) -> None:
        self.count = count
        self.serve_one = serve_one
        self.grace_seconds = grace_seconds
        self.dealer = Dealer(listening)
        self.workers: dict[int, float] = {}  # pid -> when it started
        self.stop_deadline: float | None = None
        self.stop_signal: int | None = None

    def run(self) -> bool:
        """Supervise until stopped; False when workers kept dying right after they started."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_stop_signal)
        for _ in range(self.count):
            self._start_worker()
        quick_exits = 0
        healthy = True
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                self._enforce_deadline()
                self.dealer.serve(POLL_SECONDS)
                continue
            self.dealer.remove(pid)
            started = self.workers.pop(pid, None)
            if started is None:
                continue
            if multiprocess_dir() is not None:
                multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
            if self.stop_deadline is not None:
                continue
            quick = time.monotonic() - started < QUICK_EXIT_SECONDS
            quick_exits = quick_exits + 1 if quick else 0
            code = os.waitstatus_to_exitcode(status)
            if quick_exits >= MAX_QUICK_EXITS:
                log.error("workers keep exiting as soon as they start (last status %d); stopping", code)
                healthy = False
                self._on_stop_signal(signal.SIGTERM, None)
                self.stop_signal = None
                continue
            log.warning("worker %d exited with status %d; starting another", pid, code)
            if quick:
                time.sleep(RESTART_BRAKE_SECONDS)
            self._start_worker()
        return healthy

    def _start_worker(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = _fork_worker(self.serve_one, self.dealer)
            self.workers[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        log.info("worker %d started", pid)

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_deadline is None:
            self.stop_signal = signum
            self.stop_deadline = time.monotonic() + self.grace_seconds + KILL_MARGIN_SECONDS
            self.dealer.stop_accepting()
            log.info("stopping: draining %d workers for up to %ss", len(self.workers), self.grace_seconds)
        self._signal_all(signal.SIGTERM)

    def _enforce_deadline(self) -> None:
        if self.stop_deadline is not None and time.monotonic() > self.stop_deadline:
            log.error("workers %s did not stop within the grace period; killing them", sorted(self.workers))
            self._signal_all(signal.SIGKILL)
            self.stop_deadline = time.monotonic() + KILL_MARGIN_SECONDS

    def _signal_all(self, signum: int) -> None:
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


def supervise(count: int, serve_one: Callable[[socket.socket], None], grace_seconds: float,
              listening: socket.socket) -> None:
    """Run ``count`` workers until a stop signal, then end as a single uvicorn process does: by that
    signal, once every worker has drained."""
    with shared_between_processes():
        supervisor = Supervisor(count, serve_one, grace_seconds, listening)
        try:
            healthy = supervisor.run()
        finally:
            supervisor.dealer.close()
    if not healthy:
        raise RuntimeError("the worker processes failed as they started; see the log above")
    if supervisor.stop_signal is not None:
        signal.signal(supervisor.stop_signal, signal.SIG_DFL)
        signal.raise_signal(supervisor.stop_signal)
