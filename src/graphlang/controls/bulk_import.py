"""Importing a JSON Lines file: read and check every line, and store the rows in one transaction.

Reading and checking lines is Python work of several microseconds a line, storing them is mostly
SQLite's; for millions of lines both would queue behind one interpreter lock. A large file is
therefore read in blocks by worker processes (forked before the database is opened), while this
process stores the blocks, in file order, as they come back. This process only finds where each
block's lines begin and end: a worker reads its block from the file itself, so the lines never pass
through a pipe. A worker cannot see what the others read, so a language whose user it has not seen
comes back with its owner pending, and is checked here against the users stored before it.
"""

from __future__ import annotations

import gc
import os
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, BinaryIO

from graphlang.controls.jsonlines import (
    CREATED_BY,
    MODIFIED_BY,
    OWNER_PENDING,
    RECENT_USERS,
    USER_COLUMNS,
    Columns,
    JsonLinesError,
    LineReader,
    identity_set,
    unknown_owner,
)
from graphlang.model.timestamps import now_ticks
from graphlang.storage.bulk import BulkLoad, replacing_people
from graphlang.storage.store import Store

BLOCK_BYTES = 6 * 1024 * 1024  # about 20,000 lines of a typical file
MAX_BLOCKS_IN_FLIGHT = 6  # read ahead of storing, within bounds: a block is a few megabytes
PARALLEL_BYTES = 32 * 1024 * 1024  # smaller files are read here: starting workers would cost more
# Storing, in this process, is what a load waits for; workers that yield the CPU to it keep up anyway.
READER_NICENESS = 10


@dataclass
class Block:
    """What a worker read from a block of lines, as plain lists: they cross the process boundary
    several times faster than objects, and are stored without touching each row again."""

    users: list[tuple[Any, ...]] = field(default_factory=list)  # in USER_COLUMNS order
    user_lines: list[int] = field(default_factory=list)
    # Languages by the columns they have a value for: each group is stored as it is.
    languages: dict[Columns, list[tuple[Any, ...]]] = field(default_factory=dict)
    language_lines: dict[Columns, list[int]] = field(default_factory=dict)
    pending: list[tuple[Columns, int, str]] = field(default_factory=list)  # (its group, index, its user's id)


@contextmanager
def line_readers() -> Iterator[ProcessPoolExecutor]:
    """Worker processes, one per CPU, started at once: call this before opening any database
    connection, so that no connection (and no thread) is ever forked."""
    workers = max(1, len(os.sched_getaffinity(0)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"),
                             initializer=_start_reader) as pool:
        for started in [pool.submit(os.getpid) for _ in range(workers)]:
            started.result()
        yield pool


def _start_reader() -> None:
    os.nice(READER_NICENESS)
    gc.disable()  # see _without_collections; a worker's blocks are all it holds


@contextmanager
def _without_collections() -> Iterator[None]:
    """No garbage collection while rows are loaded. The rows of batches and blocks waiting their turn
    make collections run every few hundred rows and go through all of them, about a quarter of the
    time taken to receive a block; rows are tuples of strings and numbers, which form no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_json_lines(store: Store, lines: Iterable[bytes], default_tenant: str) -> dict[str, int]:
    """Replace every user and language with the lines' records, in one transaction; returns the counts."""
    with _without_collections(), replacing_people(store) as load:
        owners = _Owners(load)
        reader = LineReader(default_tenant, now_ticks(), owners.find)
        for number, line in enumerate(lines, 1):
            record = reader.read(number, line)
            if record is not None:
                owners.store(number, *record)
    return _counts(load)


def load_json_lines_file(store: Store, path: Path, default_tenant: str, readers: ProcessPoolExecutor
                         ) -> dict[str, int]:
    """``load_json_lines`` for a file, which the ``readers`` read in blocks."""
    with _without_collections(), replacing_people(store) as load:
        owners = _Owners(load)
        for block in _read_in_parallel(readers, path, default_tenant, now_ticks()):
            owners.store_block(block)
    return _counts(load)


def _counts(load: BulkLoad) -> dict[str, int]:
    return {"users": load.counts["user"], "languages": load.counts["language"]}


class _Owners:
    """The users stored so far, for languages whose owner a worker could not check."""

    def __init__(self, load: BulkLoad) -> None:
        self.load = load
        self._recent: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    def store(self, number: int, kind: str, columns: Columns, values: tuple[Any, ...],
              pending_owner: str | None) -> None:
        if kind == "user":
            self._recent[values[0]] = (values[2], values[4])
            if len(self._recent) > RECENT_USERS:
                self._recent.popitem(last=False)
        elif pending_owner is not None:
            values = self._with_owner(number, pending_owner, values)
        self.load.add(kind, columns, values, number)

    def store_block(self, block: Block) -> None:
        # Owners are looked for among the users before each language: in earlier blocks (all stored,
        # the last ones remembered), or earlier in this block (a user the worker no longer held).
        for columns, index, user_id in block.pending:
            rows, line = block.languages[columns], block.language_lines[columns][index]
            owner = self._recent.get(user_id) or _earlier_in_block(block, user_id, line)
            rows[index] = self._with_owner(line, user_id, rows[index], owner)
        self.load.add_all("user", USER_COLUMNS, block.users, block.user_lines)
        for values in block.users[-RECENT_USERS:]:
            self._recent[values[0]] = (values[2], values[4])
        while len(self._recent) > RECENT_USERS:
            self._recent.popitem(last=False)
        for columns, rows in block.languages.items():
            self.load.add_all("language", columns, rows, block.language_lines[columns])

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


def _earlier_in_block(block: Block, user_id: str, line: int) -> tuple[str, str | None] | None:
    """A user on a line of the block before ``line`` (rare: a worker holds its last users in mind)."""
    for values, user_line in zip(block.users, block.user_lines, strict=True):
        if user_line > line:
            break
        if values[0] == user_id:
            return values[2], values[4]
    return None


def _read_in_parallel(readers: ProcessPoolExecutor, path: Path, default_tenant: str, now: int) -> Iterator[Block]:
    """The blocks of the file as the workers read them, in file order; a worker's error is raised."""
    in_flight: deque[Future[Block]] = deque()
    with path.open("rb") as file:
        for first, offset, size in _blocks(file):
            in_flight.append(readers.submit(_read_block, default_tenant, now, str(path), first, offset, size))
            if len(in_flight) > MAX_BLOCKS_IN_FLIGHT:
                yield in_flight.popleft().result()
    while in_flight:
        yield in_flight.popleft().result()


def _blocks(file: BinaryIO) -> Iterator[tuple[int, int, int]]:
    """A file in blocks of whole lines of about BLOCK_BYTES: (the number of its first line, where it
    begins, its length). A line longer than that is a block of its own."""
    first = 1
    offset = 0
    carried = 0  # bytes read after the last newline: the beginning of a line that goes on
    while chunk := file.read(BLOCK_BYTES):
        end = chunk.rfind(b"\n") + 1
        if not end:
            carried += len(chunk)
            continue
        size = carried + end
        yield first, offset, size
        first += chunk.count(b"\n", 0, end)  # what was carried holds no newline
        offset += size
        carried = len(chunk) - end
    if carried:
        yield first, offset, carried


_worker_reader: LineReader | None = None


def _read_block(default_tenant: str, now: int, path: str, first: int, offset: int, size: int) -> Block:
    """In a worker: read one block. Its reader lives on, so the users of its earlier blocks are known."""
    global _worker_reader
    if _worker_reader is None or _worker_reader.now != now:
        _worker_reader = LineReader(default_tenant, now, None)
    with open(path, "rb") as file:
        file.seek(offset)
        lines = file.read(size).split(b"\n")
    if not lines[-1]:
        lines.pop()  # what follows the block's last newline: nothing (but the last line of a file may have none)
    block = Block()
    read = _worker_reader.read
    # A reader gives one tuple for each set of columns: rows like the last one's join its group at once.
    last: Columns = ()
    rows: list[tuple[Any, ...]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, first):
        record = read(number, line)
        if record is None:
            continue
        kind, columns, values, pending_owner = record
        if kind == "user":
            block.users.append(values)
            block.user_lines.append(number)
            continue
        if columns is not last:
            rows = block.languages.setdefault(columns, [])
            numbers = block.language_lines.setdefault(columns, [])
            last = columns
        if pending_owner is not None:
            block.pending.append((columns, len(rows), pending_owner))
        rows.append(values)
        numbers.append(number)
    _in_id_order(block)
    return block


def _in_id_order(block: Block) -> None:
    """Each group of languages in the order of their ids: stored in that order, consecutive rows go
    to neighbouring places of the primary key's index, which the CPU's caches then still hold. The
    sort is stable, so of two rows with one id the later line is still the one refused."""
    for columns, rows in block.languages.items():
        order = sorted(range(len(rows)), key=[values[0] for values in rows].__getitem__)
        lines = block.language_lines[columns]
        block.languages[columns] = [rows[index] for index in order]
        block.language_lines[columns] = [lines[index] for index in order]
        if block.pending:
            moved = {old: new for new, old in enumerate(order)}
            block.pending = [(group, moved[index] if group == columns else index, user_id)
                             for group, index, user_id in block.pending]
