"""Importing a JSON Lines file: read and check every line, and store the rows in one transaction.

Reading and checking lines is Python work of several microseconds a line, storing them is mostly
SQLite's; for millions of lines both would queue behind one interpreter lock. A large file is
therefore read in blocks by worker processes (forked before the database is opened), while this
process stores the blocks, in file order, as they come back. A worker cannot see what the others
read, so a language whose user it has not seen comes back with its owner pending, and is checked
here against the users stored before it.
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from graphlang.controls.jsonlines import (
    CREATED_BY,
    LANGUAGE_COLUMNS,
    MODIFIED_BY,
    OWNER_PENDING,
    RECENT_USERS,
    USER_COLUMNS,
    JsonLinesError,
    LineReader,
    identity_set,
    unknown_owner,
)
from graphlang.model.timestamps import now_ticks
from graphlang.storage.bulk import BulkLoad, replacing_people
from graphlang.storage.store import Store

BLOCK_LINES = 20_000
MAX_BLOCKS_IN_FLIGHT = 6  # read ahead of storing, within bounds: a block is a few megabytes
PARALLEL_BYTES = 32 * 1024 * 1024  # smaller files are read here: starting workers would cost more


@dataclass
class Block:
    """What a worker read from a block of lines, as plain lists: they cross the process boundary
    several times faster than objects, and are stored without touching each row again."""

    users: list[tuple[Any, ...]] = field(default_factory=list)
    user_lines: list[int] = field(default_factory=list)
    languages: list[tuple[Any, ...]] = field(default_factory=list)
    language_lines: list[int] = field(default_factory=list)
    pending: list[tuple[int, str]] = field(default_factory=list)  # (index in languages, its user's id)


@contextmanager
def line_readers() -> Iterator[ProcessPoolExecutor]:
    """Worker processes, one per CPU, started at once: call this before opening any database
    connection, so that no connection (and no thread) is ever forked."""
    workers = max(1, len(os.sched_getaffinity(0)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        for started in [pool.submit(os.getpid) for _ in range(workers)]:
            started.result()
        yield pool


def load_json_lines(store: Store, lines: Iterable[bytes], default_tenant: str,
                    readers: ProcessPoolExecutor | None = None) -> dict[str, int]:
    """Replace every user and language with the lines' records, in one transaction; returns the counts."""
    now = now_ticks()
    with replacing_people(store, {"user": USER_COLUMNS, "language": LANGUAGE_COLUMNS}) as load:
        owners = _Owners(load)
        if readers is None:
            reader = LineReader(default_tenant, now, owners.find)
            for number, line in enumerate(lines, 1):
                record = reader.read(number, line)
                if record is not None:
                    owners.store(number, record.kind, record.values, record.pending_owner)
        else:
            for block in _read_in_parallel(readers, lines, default_tenant, now):
                owners.store_block(block)
    return {"users": load.counts["user"], "languages": load.counts["language"]}


class _Owners:
    """The users stored so far, for languages whose owner a worker could not check."""

    def __init__(self, load: BulkLoad) -> None:
        self.load = load
        self._recent: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    def store(self, number: int, kind: str, values: tuple[Any, ...], pending_owner: str | None) -> None:
        if kind == "user":
            self._recent[values[0]] = (values[2], values[4])
            if len(self._recent) > RECENT_USERS:
                self._recent.popitem(last=False)
        elif pending_owner is not None:
            values = self._with_owner(number, pending_owner, values)
        self.load.add(kind, values, number)

    def store_block(self, block: Block) -> None:
        if block.pending:
            # Owners are looked for among the users before each language: earlier in this block, or
            # in earlier blocks (which are all stored, and this block's users not yet).
            in_block = {values[0]: (line, values[2], values[4])
                        for values, line in zip(block.users, block.user_lines, strict=True)}
            for index, user_id in block.pending:
                line = block.language_lines[index]
                found = in_block.get(user_id)
                owner = found[1:] if found is not None and found[0] < line else None
                block.languages[index] = self._with_owner(line, user_id, block.languages[index], owner)
        self.load.add_all("user", block.users, block.user_lines)
        for values in block.users[-RECENT_USERS:]:
            self._recent[values[0]] = (values[2], values[4])
        while len(self._recent) > RECENT_USERS:
            self._recent.popitem(last=False)
        self.load.add_all("language", block.languages, block.language_lines)

    def find(self, user_id: str) -> tuple[str, str | None] | None:
        return self._recent.get(user_id) or self.load.owner(user_id)

    def _with_owner(self, number: int, user_id: str, values: tuple[Any, ...],
                    owner: tuple[str, str | None] | None = None) -> tuple[Any, ...]:
        owner = owner or self.find(user_id)
        if owner is None:
            raise JsonLinesError(f"Line {number}: {unknown_owner(user_id).message}")
        identity = identity_set(user_id, *owner)
        filled = list(values)
        for index in (CREATED_BY, MODIFIED_BY):
            if filled[index] == OWNER_PENDING:
                filled[index] = identity
        return tuple(filled)


def _read_in_parallel(readers: ProcessPoolExecutor, lines: Iterable[bytes], default_tenant: str, now: int
                      ) -> Iterator[Block]:
    """The blocks of ``lines`` as the workers read them, in file order; a worker's error is raised."""
    source = iter(lines)
    in_flight: deque[Future[Block]] = deque()
    first = 1
    while chunk := list(itertools.islice(source, BLOCK_LINES)):
        in_flight.append(readers.submit(_read_block, default_tenant, now, first, chunk))
        first += len(chunk)
        if len(in_flight) > MAX_BLOCKS_IN_FLIGHT:
            yield in_flight.popleft().result()
    while in_flight:
        yield in_flight.popleft().result()


_worker_reader: LineReader | None = None


def _read_block(default_tenant: str, now: int, first: int, chunk: list[bytes]) -> Block:
    """In a worker: read one block. Its reader lives on, so the users of its earlier blocks are known."""
    global _worker_reader
    if _worker_reader is None or _worker_reader.now != now:
        _worker_reader = LineReader(default_tenant, now, None)
    block = Block()
    for number, line in enumerate(chunk, first):
        record = _worker_reader.read(number, line)
        if record is None:
            continue
        if record.kind == "user":
            block.users.append(record.values)
            block.user_lines.append(number)
        else:
            if record.pending_owner is not None:
                block.pending.append((len(block.languages), record.pending_owner))
            block.languages.append(record.values)
            block.language_lines.append(number)
    return block
