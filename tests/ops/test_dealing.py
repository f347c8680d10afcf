"""The supervisor deals each connection to the worker with the fewest open (ops/dealing.py)."""

from __future__ import annotations

import errno
import http.client
import signal
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from graphlang.ops.dealing import CLOSED, READY, Dealer, channel_pair
from tests.e2e.process import GraphlangServer, running_graphlang
from tests.ops.support import LANGUAGES, mint_token, serving_pids, wait_for, worker_pids

# -- the dealer alone, with channels standing in for workers --------------------------------------


@contextmanager
def dealer_with_two_workers(ready: tuple[str, ...] = ("a", "b")
                            ) -> Iterator[tuple[Dealer, int, dict[str, socket.socket]]]:
    """A dealer on a listening socket of its own, its port, and the workers' ends of two channels,
    those named in ``ready`` having said they are ready."""
    listening = socket.create_server(("127.0.0.1", 0))
    dealer = Dealer(listening)
    ends: dict[str, socket.socket] = {}
    for pid, name in ((101, "a"), (102, "b")):
        ours, theirs = channel_pair()
        theirs.setblocking(False)
        dealer.add(pid, ours)
        ends[name] = theirs
        if name in ready:
            theirs.send(READY)
    dealer.serve(0.05)
    try:
        yield dealer, listening.getsockname()[1], ends
    finally:
        dealer.close()
        for end in ends.values():
            end.close()


def connect(stack: ExitStack, port: int, count: int) -> list[socket.socket]:
    return [stack.enter_context(socket.create_connection(("127.0.0.1", port))) for _ in range(count)]


def deal_all(dealer: Dealer, ends: dict[str, socket.socket], expected: int) -> Counter[str]:
    """Let the dealer run until ``expected`` connections were dealt; how many each worker got."""
    got: Counter[str] = Counter()

    def taken() -> bool:
        dealer.serve(0.05)
        for name, end in ends.items():
            while True:
                try:
                    message, descriptors, _flags, _address = socket.recv_fds(end, 16, 8)
                except BlockingIOError:
                    break
                assert message and len(descriptors) == 1
                socket.socket(fileno=descriptors[0]).close()
                got[name] += 1
        return sum(got.values()) == expected

    wait_for(taken, f"{expected} connections dealt", seconds=10)
    return got


def test_connections_opened_together_are_dealt_evenly() -> None:
    with dealer_with_two_workers() as (dealer, port, ends), ExitStack() as stack:
        connect(stack, port, 8)
        assert deal_all(dealer, ends, 8) == {"a": 4, "b": 4}


def test_a_connection_goes_to_the_worker_with_the_fewest_open() -> None:
    with dealer_with_two_workers() as (dealer, port, ends), ExitStack() as stack:
        connect(stack, port, 4)
        deal_all(dealer, ends, 4)
        ends["a"].send(CLOSED)
        ends["a"].send(CLOSED)  # a has 0 open, b 2
        dealer.serve(0.05)

        connect(stack, port, 2)
        assert deal_all(dealer, ends, 2) == {"a": 2}


def test_a_worker_still_starting_gets_nothing_while_another_is_ready() -> None:
    with dealer_with_two_workers(ready=("a",)) as (dealer, port, ends), ExitStack() as stack:
        connect(stack, port, 4)
        assert deal_all(dealer, ends, 4) == {"a": 4}

        ends["b"].send(READY)
        dealer.serve(0.05)
        connect(stack, port, 4)
        assert deal_all(dealer, ends, 4) == {"b": 4}


def test_a_worker_whose_channel_is_gone_gets_nothing_more() -> None:
    with dealer_with_two_workers() as (dealer, port, ends), ExitStack() as stack:
        ends.pop("b").close()
        connect(stack, port, 4)
        assert deal_all(dealer, ends, 4) == {"a": 4}


class FailingListener(socket.socket):
    """A listening socket whose next ``failures`` accepts fail as they do when descriptors run out."""

    failures = 0
    attempts = 0

    def accept(self) -> tuple[socket.socket, Any]:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


def test_after_a_failed_accept_it_pauses_then_accepts_again() -> None:
    listening = FailingListener()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    listening.failures = 1
    dealer = Dealer(listening)
    ours, theirs = channel_pair()
    theirs.setblocking(False)
    dealer.add(101, ours)
    try:
        with socket.create_connection(("127.0.0.1", listening.getsockname()[1])):
            dealer.serve(0.5)
            assert listening.attempts == 1
            dealer.serve(0.05)  # paused: the waiting connection is not tried again at once
            assert listening.attempts == 1

            assert deal_all(dealer, {"a": theirs}, 1) == {"a": 1}  # and after the pause, it is
            assert listening.attempts == 3  # the one that failed, the one that took, the one that found none
    finally:
        dealer.close()
        theirs.close()


def test_once_it_stops_accepting_connections_are_refused() -> None:
    with dealer_with_two_workers() as (dealer, port, _ends):
        dealer.stop_accepting()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)


# -- serve --workers 2 ----------------------------------------------------------------------------


def port_of(server: GraphlangServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def serving_worker(server: GraphlangServer, client_port: int) -> int | None:
    """The pid of the worker holding the server's end of the connection from ``client_port`` (from
    /proc), None when no worker holds it (any more)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == port_of(server) and remote_port == client_port:
            inodes.add(fields[9])
    for pid in worker_pids(server):
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = descriptor.readlink()
            except OSError:  # closed meanwhile
                continue
            if str(target).removeprefix("socket:[").removesuffix("]") in inodes:
                return pid
    return None


def client_port(connection: http.client.HTTPConnection) -> int:
    assert connection.sock is not None
    port: int = connection.sock.getsockname()[1]
    return port


def open_and_answered(server: GraphlangServer, token: str, count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections opened together, then each answered once."""
    connections = [http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=15) for _ in range(count)]
    for connection in connections:
        connection.connect()
    for connection in connections:
        connection.request("GET", LANGUAGES, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    return connections


def both_ready(server: GraphlangServer, token: str) -> None:
    """Wait until both workers have answered (a worker still starting is given no connection), and
    until the connections that took have closed, so that none of them counts as open any more."""
    ports: list[int] = []

    def both_answered() -> bool:
        connection = open_and_answered(server, token, 1)[0]
        ports.append(client_port(connection))
        connection.close()
        return len(worker_pids(server)) == 2 and worker_pids(server) <= serving_pids(server)

    wait_for(both_answered, "both workers answering")
    wait_for(lambda: all(serving_worker(server, port) is None for port in ports), "those connections closed")


@pytest.mark.standalone
def test_keep_alive_connections_opened_together_are_split_evenly_over_the_workers(tmp_path: Path) -> None:
    with running_graphlang(tmp_path, extra_args=["--workers", "2"]) as server:
        token = mint_token(server)
        both_ready(server, token)
        connections = open_and_answered(server, token, 8)
        try:
            owner = {connection: serving_worker(server, client_port(connection)) for connection in connections}
            assert sorted(Counter(owner.values()).values()) == [4, 4]

            # The worker two of whose connections closed gets the next two.
            first = owner[connections[0]]
            closing = [connection for connection in connections if owner[connection] == first][:2]
            ports = [client_port(connection) for connection in closing]
            for connection in closing:
                connection.close()
                connections.remove(connection)
            wait_for(lambda: all(serving_worker(server, port) is None for port in ports), "the two closed")
            more = open_and_answered(server, token, 2)
            connections += more
            assert {serving_worker(server, client_port(connection)) for connection in more} == {first}
        finally:
            for connection in connections:
                connection.close()


@pytest.mark.standalone
def test_workers_whose_supervisor_is_gone_finish_what_they_have_and_exit(tmp_path: Path) -> None:
    with running_graphlang(tmp_path, extra_args=["--workers", "2"]) as server:
        wait_for(lambda: len(worker_pids(server)) == 2, "two workers running")
        workers = worker_pids(server)
        server.process.send_signal(signal.SIGKILL)  # no new connection can reach them now
        server.process.wait(timeout=10)
        wait_for(lambda: not any(running(pid) for pid in workers), "the workers exited")


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process: an exited worker whose parent is gone may linger as a zombie
    until whatever adopted it reaps it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
