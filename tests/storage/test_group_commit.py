"""Group commit on a SQLite file: concurrent writes share a transaction, and each is answered only
once that transaction is committed; a failing write fails alone, a failing commit fails them all."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.errors import LanguageNotFound
from graphlang.services import Services, create_services
from graphlang.storage.group_commit import GroupCommit
from graphlang.storage.schema import languages
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
    busy, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        busy.set()
        release.wait(10)

    first = committer.submit(hold_the_writer)
    assert busy.wait(10)
    futures = [committer.submit(write) for write in writes]
    release.set()
    first.result(10)
    return futures


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


def test_a_failing_write_rolls_back_alone(on_file: Services) -> None:
    assert on_file.group_commit is not None
    missing = "00000000-0000-4000-8000-000000000001"

    def update_missing() -> Any:
        return on_file.store.update_language(OWNER, missing, {"spoken": 1}, ACTOR)

    first, failing, last = in_one_batch(on_file.group_commit,
                                        [create(on_file, "de-DE"), update_missing, create(on_file, "fr-FR")])
    assert first.result(10)["tag"] == "de-DE"
    with pytest.raises(LanguageNotFound):
        failing.result(10)
    assert last.result(10)["tag"] == "fr-FR"
    assert stored_tags(on_file) == ["de-DE", "fr-FR"]


def test_a_failed_commit_fails_every_write_of_the_batch_and_stores_none(on_file: Services) -> None:
    assert on_file.group_commit is not None

    def orphan_checked_at_commit() -> None:
        with on_file.store.writing() as conn:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            conn.execute(insert(languages).values(
                id="00000000-0000-4000-8000-000000000002", user_id="00000000-0000-4000-8000-00000000dead",
                created_ticks=1, modified_ticks=1, version=1))

    futures = in_one_batch(on_file.group_commit,
                           [create(on_file, "de-DE"), orphan_checked_at_commit, create(on_file, "fr-FR")])
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
