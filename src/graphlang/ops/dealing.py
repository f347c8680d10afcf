"""``serve --workers N``: the supervisor accepts each connection and deals it to the worker with the
fewest open.

Workers that all accept from one shared listening socket share connections unevenly: whichever
worker wakes first takes every connection waiting, so 32 keep-alive connections opened together
split 23 to 9 as often as 16 to 16. A worker left with few connections then idles while its
requests wait for a commit, and one with many answers each later (docs/performance.md, step 54).
Node's cluster module deals connections from its primary process for the same reason.

Each worker has a channel to the supervisor, one end of a Unix ``SOCK_SEQPACKET`` pair. The
supervisor sends an accepted connection's descriptor down it (``SCM_RIGHTS``), one message each;
the worker says once when it is ready to serve, then sends one byte back for each connection that
closes, so the supervisor knows how many each one has open. A connection goes to the ready worker
with the fewest open, the one dealt fewer in all on a tie; a worker still starting (one just put in
place of a worker that died, say) gets none while another is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import selectors
import socket
import time
from dataclasses import dataclass

import uvicorn

log = logging.getLogger("graphlang.workers")
CLOSED = b"c"  # a worker's message: one of its connections closed
READY = b"r"  # a worker's first message: it serves from now on
DEALT = b"d"  # the supervisor's message, carrying one connection
ACCEPTS_PER_WAKE = 64  # then the channels get a turn: closes counted before more are dealt
ACCEPT_PAUSE_SECONDS = 0.1  # after an accept failed (out of descriptors, say)


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(the supervisor's end, the worker's end) of a new worker's channel."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    return ours, theirs


@dataclass(eq=False)
class _Worker:
    pid: int
    channel: socket.socket
    open: int = 0
    dealt: int = 0
    ready: bool = False


class Dealer:
    """In the supervisor: accepts from the listening socket and deals connections to the workers."""

    def __init__(self, listening: socket.socket) -> None:
        self.listening: socket.socket | None = listening
        listening.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(listening, selectors.EVENT_READ)
        self._workers: dict[int, _Worker] = {}  # by pid
        self._paused_until: float | None = None  # accepting failed: when to try again

    def add(self, pid: int, channel: socket.socket) -> None:
        worker = _Worker(pid, channel)
        self._workers[pid] = worker
        self._selector.register(channel, selectors.EVENT_READ, worker)

    def remove(self, pid: int) -> None:
        worker = self._workers.get(pid)
        if worker is not None:
            self._drop(worker)

    def inherited(self) -> None:
        """In a newly forked worker: let go of what is the supervisor's. A worker holding the listening
        socket would keep it listening after the supervisor closed it; one holding another worker's
        channel would keep that worker from seeing the supervisor go."""
        if self.listening is not None:
            self.listening.close()
        for worker in self._workers.values():
            worker.channel.close()
        self._selector.close()

    def stop_accepting(self) -> None:
        """Close the listening socket: connections are refused from now on, not left in its backlog."""
        if self.listening is not None:
            if self._paused_until is None:
                self._selector.unregister(self.listening)
            self.listening.close()
            self.listening = None

    def serve(self, timeout: float) -> None:
        """Deal what arrives within ``timeout`` seconds, and hear what the workers say."""
        if self._paused_until is not None and time.monotonic() >= self._paused_until:
            self._paused_until = None
            if self.listening is not None:
                self._selector.register(self.listening, selectors.EVENT_READ)
        for key, _events in self._selector.select(timeout):
            if key.data is None:
                self._accept()
            else:
                self._hear(key.data)

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            listening = self.listening  # a stop signal's handler may close it between two accepts
            if listening is None:
                return
            try:
                connection, _address = listening.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, say: the connection waits in the backlog
                if self.listening is not None:  # not merely closed by a stop meanwhile
                    log.warning("could not accept a connection (trying again in %s s): %s", ACCEPT_PAUSE_SECONDS, exc)
                    # The socket stays readable: without a pause every turn would fail and log again.
                    self._selector.unregister(listening)
                    self._paused_until = time.monotonic() + ACCEPT_PAUSE_SECONDS
                return
            with connection:  # the worker's copy is its own; the supervisor's closes here
                self._deal(connection)

    def _deal(self, connection: socket.socket) -> None:
        for worker in sorted(self._workers.values(), key=lambda worker: (not worker.ready, worker.open, worker.dealt)):
            try:
                socket.send_fds(worker.channel, [DEALT], [connection.fileno()])
            except OSError:  # its channel is full (a worker stuck) or gone (a worker dead): the next one
                continue
            worker.open += 1
            worker.dealt += 1
            return
        log.warning("no worker could take a connection; it was closed")

    def _hear(self, worker: _Worker) -> None:
        """What a worker said: that it is ready, that connections closed, or (by closing) that it is gone."""
        while True:
            try:
                message = worker.channel.recv(16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message = b""
            if not message:  # the worker is gone
                self._drop(worker)
                return
            if message == READY:
                worker.ready = True
            else:
                worker.open = max(0, worker.open - 1)

    def _drop(self, worker: _Worker) -> None:
        self._workers.pop(worker.pid, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(worker.channel)
        worker.channel.close()

    def close(self) -> None:
        self.stop_accepting()
        for worker in list(self._workers.values()):
            self._drop(worker)
        self._selector.close()


class DealtServer(uvicorn.Server):
    """In a worker: uvicorn serving the connections the supervisor deals down ``channel``."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._dealt_loop: asyncio.AbstractEventLoop | None = None
        self._dealt_protocol: type[asyncio.Protocol] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the lifespan, and no listening socket of its own
        self._dealt_loop = asyncio.get_running_loop()
        self._dealt_protocol = _counted(self.config.http_protocol_class, self.channel)
        self.channel.setblocking(False)
        self._dealt_loop.add_reader(self.channel.fileno(), self._take)
        with contextlib.suppress(OSError):  # the supervisor is gone: _take hears it
            self.channel.send(READY)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._dealt_loop is not None:
            self._dealt_loop.remove_reader(self.channel.fileno())
        await super().shutdown(sockets)

    def _take(self) -> None:
        assert self._dealt_loop is not None
        while True:
            try:
                message, descriptors, _flags, _address = socket.recv_fds(self.channel, 16, 8)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, descriptors = b"", []
            if not message:  # the supervisor is gone, and no connection will come: drain and exit
                self._dealt_loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            for descriptor in descriptors:
                connection = socket.socket(fileno=descriptor)
                if connection.family in (socket.AF_INET, socket.AF_INET6):
                    # What uvicorn's own listening server sets on every connection it accepts.
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._dealt_loop.create_task(self._open(connection))

    async def _open(self, connection: socket.socket) -> None:
        assert self._dealt_loop is not None
        try:
            await self._dealt_loop.connect_accepted_socket(self._new_protocol, connection, ssl=self.config.ssl)
        except OSError as exc:  # gone before it was served, or a failed TLS handshake
            log.debug("a dealt connection failed as it opened: %s", exc)
            connection.close()
            _report_closed(self.channel)

    def _new_protocol(self) -> asyncio.Protocol:
        assert self._dealt_protocol is not None
        # What uvicorn's own listening server builds each connection's protocol with.
        protocol: asyncio.Protocol = self._dealt_protocol(
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state,  # type: ignore[call-arg]
            _loop=self._dealt_loop)
        return protocol


def _counted(base: type[asyncio.Protocol], channel: socket.socket) -> type[asyncio.Protocol]:
    """``base`` telling the supervisor of each connection that closes."""

    class Counted(base):  # type: ignore[valid-type,misc]
        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            _report_closed(channel)

    return Counted


def _report_closed(channel: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the supervisor is gone, or its end full: it counts one too many
        channel.send(CLOSED)
