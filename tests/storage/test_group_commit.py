"""Group commit on a SQLite file: concurrent writes share a transaction, and each is answered only
once that transaction is committed; a failing write fails alone, a failing commit fails them all."""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert
from sqlalchemy.pool import QueuePool

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.errors import LanguageNotFound, ServiceUnavailable
from graphlang.services import Services, create_services
from graphlang.storage import group_commit
from graphlang.storage.engine import WRITE_OPTION
from graphlang.storage.group_commit import GroupCommit
from graphlang.storage.owners import Owner, OwnerChanged
from graphlang.storage.schema import languages
from graphlang.storage.store import runs_long
from tests.factories import Tokens

OWNER = "5f0c8a4e-1b2c-4d3e-8f4a-5b6c7d8e9f00"
ACTOR = b'{"application":null,"device":null,"user":null}'


@pytest.fixture
def on_file(settings: Settings, tmp_path: Path) -> Iterator[Services]:
    built = create_services(replace(settings, database_url=f"sqlite:///{tmp_path / 'gc.db'}"),
                            auto_migrate=True)
    built.store.ensure_user(built.settings.tenant, OWNER, "owner@contoso.com", None)
    yield built
    built.close()


@pytest.fixture
def commits(on_file: Services) -> list[int]:
    """How many rows each commit made durable (one entry per COMMIT)."""
    counted: list[int] = []
    event.listen(on_file.engine, "commit", lambda conn: counted.append(1))
    return counted


def stored_tags(services: Services) -> list[str]:
    """What another connection sees: only committed data."""
    database = services.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as other:
        return sorted(row[0] for row in other.execute("SELECT tag FROM languages"))


def create(services: Services, tag: str) -> Callable[[], Any]:
    return lambda: services.store.create_language(OWNER, {"tag": tag, "tag_key": tag.lower()}, ACTOR)


def in_one_batch(committer: GroupCommit, writes: list[Callable[[], Any]]) -> list[Future[Any]]:
    """Submit ``writes`` while the writer is busy with another, so that they form the next batch."""
    with writer_held(committer):
        return [committer.submit(write) for write in writes]


@contextmanager
def writer_held(committer: GroupCommit) -> Iterator[None]:
    """Keep the writer thread busy with a write until the block ends: writes queued meanwhile wait
    for it, and form the next batch together."""
    busy, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        busy.set()
        release.wait(10)

    held = committer.submit(hold_the_writer)
    assert busy.wait(10)
    try:
        yield
    finally:
        release.set()
        held.result(10)


def test_concurrent_writes_share_one_commit_and_are_answered_after_it(on_file: Services,
                                                                      commits: list[int]) -> None:
    assert on_file.group_commit is not None
    seen_when_answered: list[list[str]] = []
    futures = in_one_batch(on_file.group_commit, [create(on_file, tag) for tag in ("de-DE", "en-US", "fr-FR")])
    for future in futures:
        future.add_done_callback(lambda _f: seen_when_answered.append(stored_tags(on_file)))
    rows = [future.result(10) for future in futures]
    assert [row["tag"] for row in rows] == ["de-DE", "en-US", "fr-FR"]
    assert len(commits) == 2  # the batch that held the writer, then all three writes together
    assert all(seen == ["de-DE", "en-US", "fr-FR"] for seen in seen_when_answered)


def fails_alone_in_its_batch(services: Services, failing_write: Callable[[], Any], error: type[BaseException],
                             match: str | None = None) -> None:
    """``failing_write``, between two creates in one batch, raises ``error`` and leaves both stored."""
    assert services.group_commit is not None
    before = stored_tags(services)
    first, failing, last = in_one_batch(services.group_commit,
                                        [create(services, "de-DE"), failing_write, create(services, "fr-FR")])
    assert first.result(10)["tag"] == "de-DE"
    with pytest.raises(error, match=match):
        failing.result(10)
    assert last.result(10)["tag"] == "fr-FR"
    assert stored_tags(services) == sorted([*before, "de-DE", "fr-FR"])


def test_a_failing_write_rolls_back_alone(on_file: Services) -> None:
    missing = "00000000-0000-4000-8000-000000000001"
    fails_alone_in_its_batch(on_file, lambda: on_file.store.update_language(OWNER, missing, {"spoken": 1}, ACTOR),
                             LanguageNotFound)


def test_a_one_statement_write_whose_statement_fails_is_undone_alone_in_its_batch(on_file: Services) -> None:
    """No savepoint of its own: SQLite undoes the failing statement, and the batch goes on."""
    nobody = "00000000-0000-4000-8000-00000000dead"
    fails_alone_in_its_batch(
        on_file, lambda: on_file.store.create_language(nobody, {"tag": "it-IT", "tag_key": "it-it"}, ACTOR),
        Exception, "FOREIGN KEY")


def test_a_write_whose_remembered_owner_changed_changes_nothing_and_its_batch_commits(on_file: Services) -> None:
    item = on_file.store.create_language(OWNER, {"tag": "sv-SE", "tag_key": "sv-se"}, ACTOR)
    moved = Owner(OWNER, "b2b2b2b2-0000-4000-8000-000000000002", "owner@contoso.com", "owner@contoso.com", None)
    fails_alone_in_its_batch(
        on_file, lambda: on_file.store.update_language(OWNER, item["id"], {"tag": "da-DK", "tag_key": "da-dk"},
                                                       ACTOR, None, moved),
        OwnerChanged)
    assert stored_tags(on_file) == ["de-DE", "fr-FR", "sv-SE"]  # the item kept its tag


def test_when_the_database_rolls_back_a_batchs_transaction_no_write_of_the_batch_is_answered_as_stored(
        on_file: Services) -> None:
    """SQLite rolls back the whole transaction on some errors (a full disk, an I/O error): the writes
    before the failing one are gone with it, and those after it must not run outside it."""
    assert on_file.group_commit is not None

    def fails_rolling_back_the_transaction() -> None:
        with on_file.store.writing(one_statement=True) as conn:
            conn.connection.driver_connection.execute("ROLLBACK")  # as SQLite does on SQLITE_FULL
            raise sqlite3.OperationalError("database or disk is full")

    writes = [create(on_file, "de-DE"), fails_rolling_back_the_transaction, create(on_file, "fr-FR")]
    for future in in_one_batch(on_file.group_commit, writes):  # from threads
        with pytest.raises(sqlite3.OperationalError):
            future.result(10)
    assert stored_tags(on_file) == []

    async def from_a_loop() -> list[Any]:
        with writer_held(committer):
            batch = asyncio.gather(*(committer.run(write) for write in writes), return_exceptions=True)
            await asyncio.sleep(0)  # all three wait for the writer
        return await asyncio.wait_for(batch, 10)

    committer = on_file.group_commit
    assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in asyncio.run(from_a_loop()))
    assert stored_tags(on_file) == []
    assert on_file.group_commit.submit(create(on_file, "it-IT")).result(10)["tag"] == "it-IT"
    assert stored_tags(on_file) == ["it-IT"]


def test_one_statement_writes_in_a_batch_take_no_savepoint(on_file: Services) -> None:
    assert on_file.group_commit is not None
    statements: list[str] = []

    def trace_the_writer() -> None:
        with on_file.store.writing() as conn:
            conn.connection.driver_connection.set_trace_callback(statements.append)

    on_file.group_commit.submit(trace_the_writer).result(10)
    statements.clear()  # that write's own end
    language = on_file.group_commit.submit(create(on_file, "de-DE")).result(10)["id"]
    on_file.group_commit.submit(on_file.store.update_language, OWNER, language, {"spoken": 1}, ACTOR).result(10)
    on_file.group_commit.submit(on_file.store.delete_language, OWNER, language).result(10)
    kinds = {statement.split()[0] for statement in statements}
    assert {"INSERT", "UPDATE", "DELETE", "COMMIT"} <= kinds
    assert not kinds & {"SAVEPOINT", "RELEASE"}


def fails_at_commit(services: Services) -> Callable[[], None]:
    """A write that succeeds alone and fails its whole transaction at COMMIT: a language of a user
    who does not exist, with the foreign key checked only then."""
    def write() -> None:
        with services.store.writing() as conn:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            conn.execute(insert(languages).values(
                id="00000000-0000-4000-8000-000000000002", user_id="00000000-0000-4000-8000-00000000dead",
                created_ticks=1, modified_ticks=1, version=1))

    return write


def test_a_failed_commit_fails_every_write_of_the_batch_and_stores_none(on_file: Services) -> None:
    assert on_file.group_commit is not None

    futures = in_one_batch(on_file.group_commit,
                           [create(on_file, "de-DE"), fails_at_commit(on_file), create(on_file, "fr-FR")])
    for future in futures:
        with pytest.raises(Exception, match="FOREIGN KEY"):
            future.result(10)
    assert stored_tags(on_file) == []


def test_concurrent_requests_are_all_stored(on_file: Services) -> None:
    headers = Tokens(on_file).headers(upn="poster@contoso.com")
    tags = [f"en-{region}" for region in ("GB", "US", "AU", "CA", "IE", "NZ", "ZA", "IN", "SG", "PH")]

    async def post_all() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(on_file.settings, on_file))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answers = await asyncio.gather(*(client.post("/beta/me/profile/languages", headers=headers,
                                                         json={"tag": tag}) for tag in tags))
        return [answer.status_code for answer in answers]

    assert asyncio.run(post_all()) == [201] * len(tags)
    assert stored_tags(on_file) == sorted(tags)


def test_an_event_loops_writes_run_on_that_loop_in_one_transaction_of_the_writer(on_file: Services,
                                                                                 commits: list[int]) -> None:
    committer = on_file.group_commit
    assert committer is not None
    seen: list[tuple[int, bool]] = []

    def write() -> None:
        with on_file.store.writing() as conn:
            seen.append((threading.get_ident(), conn.in_transaction()))

    async def write_three() -> int:
        with writer_held(committer):
            writes = asyncio.gather(*(committer.run(write) for _ in range(3)))
            await asyncio.sleep(0)  # all three wait for the writer
        await writes
        return threading.get_ident()

    loop_thread = asyncio.run(write_three())
    assert seen == [(loop_thread, True)] * 3
    assert len(commits) == 2  # the write that held the writer, then the three together


def test_a_write_marked_as_running_long_runs_on_the_writer_thread(on_file: Services) -> None:
    committer = on_file.group_commit
    assert committer is not None
    threads: list[str] = []

    @runs_long
    def long_write() -> None:
        with on_file.store.writing():
            threads.append(threading.current_thread().name)

    asyncio.run(committer.run(long_write))
    assert threads == ["graphlang-group-commit"]


@pytest.mark.parametrize("call", ["write", "read"])
def test_a_database_that_cannot_be_reached_makes_a_grouped_write_or_a_direct_read_503(on_file: Services,
                                                                                     call: str) -> None:
    def connection_lost() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(ServiceUnavailable) as raised:
        asyncio.run(getattr(on_file, call)(connection_lost))
    assert raised.value.headers["Retry-After"] == "5"


def test_any_other_error_of_a_grouped_write_or_a_direct_read_is_raised_as_it_was(on_file: Services) -> None:
    def not_found() -> None:
        raise LanguageNotFound("x")

    for call in (on_file.write, on_file.read):
        with pytest.raises(LanguageNotFound):
            asyncio.run(call(not_found))


def test_a_loop_that_does_not_run_its_writes_in_time_lets_other_writers_in_and_writes_later(
        on_file: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    committer = on_file.group_commit
    assert committer is not None
    monkeypatch.setattr(group_commit, "LOOP_TURN_SECONDS", 0.2)

    def lock_is_free() -> bool:
        with committer.lock_file.open("ab") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other, fcntl.LOCK_UN)
            return True

    def wait_until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline
            time.sleep(0.01)

    async def scenario() -> list[Any]:
        with writer_held(committer):
            writes = asyncio.gather(*(committer.run(create(on_file, tag)) for tag in ("de-DE", "fr-FR")))
            await asyncio.sleep(0)  # both wait for the writer
        # The writer now takes the lock, begins, and hands the transaction to this loop, which is held
        # up by something else (these sleeps block it): the writer waits in vain, rolls back and lets
        # go of the lock. Once the loop is free again, the writes go into the next transaction.
        wait_until(lambda: "did not run its writes" in caplog.text)
        wait_until(lock_is_free)
        return await asyncio.wait_for(writes, 10)

    assert [row["tag"] for row in asyncio.run(scenario())] == ["de-DE", "fr-FR"]
    assert stored_tags(on_file) == ["de-DE", "fr-FR"]
    assert "did not run its writes" in caplog.text


def test_the_writer_keeps_one_connection_of_its_own_from_batch_to_batch(on_file: Services) -> None:
    committer = on_file.group_commit
    assert committer is not None
    connections: list[object] = []

    def write() -> None:
        with on_file.store.writing() as conn:
            connections.append(conn.connection.driver_connection)

    committer.submit(write).result(10)
    committer.submit(write).result(10)
    assert connections[0] is connections[1]
    pool = on_file.engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0  # what metrics report of the pool: connections in use, and only those


def test_after_a_failed_commit_the_next_batch_commits(on_file: Services) -> None:
    committer = on_file.group_commit
    assert committer is not None

    with pytest.raises(Exception, match="FOREIGN KEY"):
        committer.submit(fails_at_commit(on_file)).result(10)
    assert asyncio.run(committer.run(create(on_file, "fr-FR")))["tag"] == "fr-FR"
    assert stored_tags(on_file) == ["fr-FR"]


@pytest.fixture
def begins(on_file: Services) -> list[str]:
    """The thread that began each write transaction (``BEGIN IMMEDIATE``) of the database."""
    seen: list[str] = []

    def began(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            seen.append(threading.current_thread().name)

    event.listen(on_file.engine, "begin", began)
    return seen


def inserts_then_raises(services: Services, error: BaseException) -> Callable[[], None]:
    """A write that stores an item and then fails, within one ``store.writing()``."""
    def write() -> None:
        with services.store.writing() as conn:
            conn.execute(insert(languages).values(id="00000000-0000-4000-8000-000000000003", user_id=OWNER,
                                                  tag="de-DE", created_ticks=1, modified_ticks=1, version=1))
            raise error

    return write


def alone(committer: GroupCommit) -> GroupCommit:
    committer.alone = lambda: True  # as the application says of a request with no other in flight
    return committer


def test_a_write_alone_commits_on_its_own_loop_before_it_returns(on_file: Services, begins: list[str],
                                                                 commits: list[int]) -> None:
    assert on_file.group_commit is not None
    committer = alone(on_file.group_commit)

    async def write() -> tuple[str, list[str]]:
        row = await committer.run(create(on_file, "de-DE"))
        return row["tag"], stored_tags(on_file)

    assert asyncio.run(write()) == ("de-DE", ["de-DE"])  # durable, as another connection sees, on return
    assert begins == [threading.current_thread().name]  # no hand-over to the writer thread
    assert len(commits) == 1


def test_a_write_that_is_not_alone_goes_to_the_writer_thread(on_file: Services, begins: list[str]) -> None:
    assert on_file.group_commit is not None
    assert asyncio.run(on_file.group_commit.run(create(on_file, "de-DE")))["tag"] == "de-DE"
    assert begins == ["graphlang-group-commit"]


def test_a_failing_write_alone_rolls_back_and_raises(on_file: Services) -> None:
    assert on_file.group_commit is not None
    committer = alone(on_file.group_commit)

    with pytest.raises(LanguageNotFound):
        asyncio.run(committer.run(inserts_then_raises(on_file, LanguageNotFound("a language"))))
    assert stored_tags(on_file) == []
    assert asyncio.run(committer.run(create(on_file, "fr-FR")))["tag"] == "fr-FR"
    assert stored_tags(on_file) == ["fr-FR"]


def test_a_failed_commit_alone_stores_nothing_and_the_next_write_commits(on_file: Services) -> None:
    assert on_file.group_commit is not None
    committer = alone(on_file.group_commit)
    with pytest.raises(Exception, match="FOREIGN KEY"):
        asyncio.run(committer.run(fails_at_commit(on_file)))
    assert asyncio.run(committer.run(create(on_file, "fr-FR")))["tag"] == "fr-FR"
    assert stored_tags(on_file) == ["fr-FR"]


def test_a_write_alone_waits_for_another_processs_writer_off_the_loop(on_file: Services,
                                                                       begins: list[str]) -> None:
    """Another process holds the writers' lock file: the write waits for it on the writer thread, and
    the event loop goes on meanwhile (here: to let the other process go)."""
    assert on_file.group_commit is not None
    committer = alone(on_file.group_commit)

    async def scenario(other: Any) -> str:
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, fcntl.flock, other, fcntl.LOCK_UN)
        row = await asyncio.wait_for(committer.run(create(on_file, "de-DE")), 10)
        return str(row["tag"])

    with committer.lock_file.open("ab") as other:
        fcntl.flock(other, fcntl.LOCK_EX)  # a separate open file: as another process's lock
        assert asyncio.run(scenario(other)) == "de-DE"
    assert begins == ["graphlang-group-commit"]
    assert stored_tags(on_file) == ["de-DE"]


def test_a_write_alone_never_waits_on_the_loop_for_a_writer_outside_group_commit(on_file: Services) -> None:
    """A connection that took SQLite's write lock without the lock file (``graphlang import`` into a
    served database, say): the write waits for it on the writer thread, not on the event loop."""
    assert on_file.group_commit is not None
    committer = alone(on_file.group_commit)
    database = on_file.engine.url.database
    assert database is not None
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    async def scenario() -> str:
        asyncio.get_running_loop().call_later(0.2, other.execute, "COMMIT")  # runs only if the loop is free
        row = await asyncio.wait_for(committer.run(create(on_file, "de-DE")), 10)
        return str(row["tag"])

    started = time.monotonic()
    try:
        assert asyncio.run(scenario()) == "de-DE"
    finally:
        other.close()
    assert time.monotonic() - started < 5  # not SQLite's 30 s busy timeout, spent blocking the loop
    assert stored_tags(on_file) == ["de-DE"]


def test_a_request_alone_commits_its_write_on_its_own_loop(on_file: Services, begins: list[str]) -> None:
    headers = Tokens(on_file).headers(upn="poster@contoso.com")

    async def post() -> int:
        transport = httpx.ASGITransport(app=create_app(on_file.settings, on_file))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await client.get("/beta/me/profile/languages", headers=headers)  # the caller's user exists
            begins.clear()
            answer = await client.post("/beta/me/profile/languages", headers=headers, json={"tag": "en-GB"})
        return answer.status_code

    assert asyncio.run(post()) == 201
    assert begins == [threading.current_thread().name]
    assert stored_tags(on_file) == ["en-GB"]


class Interrupted(BaseException):
    """Not an Exception: as KeyboardInterrupt or SystemExit would come through a write."""


def test_a_write_alone_that_is_interrupted_leaves_no_transaction_behind(on_file: Services) -> None:
    assert on_file.group_commit is not None
    committer = alone(on_file.group_commit)

    with pytest.raises(Interrupted):
        asyncio.run(committer.run(inserts_then_raises(on_file, Interrupted())))
    database = on_file.engine.url.database
    assert database is not None
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # SQLite's write lock is free at once
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert stored_tags(on_file) == []
    assert asyncio.run(committer.run(create(on_file, "fr-FR")))["tag"] == "fr-FR"
