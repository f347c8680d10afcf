"""Everything the emulator controls hold for one running app, and the operations that span them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from graphlang.config import Settings
from graphlang.controls.buckets import BucketStore, MemoryBuckets, RedisBuckets
from graphlang.controls.documents import read_document
from graphlang.controls.faults import FaultBook, rules_in
from graphlang.controls.fixtures import parse_fixture
from graphlang.controls.journal import Journal
from graphlang.controls.throttle import Throttle, ThrottlePolicy
from graphlang.errors import BadRequest
from graphlang.services import Services
from graphlang.storage.seed import Fixture, SeedCounts, load_fixture

T = TypeVar("T")


def bucket_store(settings: Settings) -> BucketStore:
    """Redis when the deployment has one (every instance then shares the buckets), else this process."""
    return RedisBuckets(settings.redis_url) if settings.redis_url else MemoryBuckets()


def _from_file(reader: Callable[[Settings], T], settings: Settings) -> T:
    """A configured file's content; a problem in it stops the service with its message."""
    try:
        return reader(settings)
    except BadRequest as exc:
        raise ValueError(exc.message) from exc


def configured_faults(settings: Settings) -> list[Any]:
    path = settings.faults_file
    return [] if path is None else rules_in(read_document(path, "faults file"))


def configured_fixture(settings: Settings) -> Fixture | None:
    if settings.seed_file is None:
        return None
    return parse_fixture(read_document(settings.seed_file, "seed file"), settings.tenant)


def load_configured_seed(services: Services) -> SeedCounts | None:
    """Load the seed file at start, once, before any worker serves."""
    fixture = _from_file(configured_fixture, services.settings)
    return None if fixture is None else load_fixture(services.store, fixture)


@dataclass
class Controls:
    services: Services
    journal: Journal
    faults: FaultBook
    throttle: Throttle

    @classmethod
    def create(cls, services: Services) -> Controls:
        settings = services.settings
        controls = cls(services, Journal(settings.journal_size), FaultBook(),
                       Throttle(ThrottlePolicy.from_settings(settings), bucket_store(settings)))
        _from_file(lambda configured: controls.faults.replace_all(configured_faults(configured)), settings)
        return controls

    def forget_caches(self) -> None:
        """Drop what this process remembers about stored data, after the data was replaced."""
        self.services.owners.clear()
        self.services.authenticator.cache.clear()

    async def reset(self, reseed: bool) -> SeedCounts | None:
        """Back to the state at start: no data (then the seed), the configured fault rules and
        throttling settings, full buckets, an empty journal."""
        fixture = configured_fixture(self.services.settings) if reseed else None
        rules = configured_faults(self.services.settings)
        await self.services.run(self.services.store.reset)
        self.forget_caches()
        self.faults.replace_all(rules)
        self.throttle.policy = ThrottlePolicy.from_settings(self.services.settings)
        await self.throttle.buckets.clear()
        self.journal.clear()
        if fixture is None:
            return None
        return await self.services.run(load_fixture, self.services.store, fixture)

    async def reset_user(self, user_id: str, reseed: bool) -> tuple[int, SeedCounts | None]:
        """Remove one user's languages, then load that user's part of the seed."""
        fixture = configured_fixture(self.services.settings) if reseed else None
        removed = await self.services.run(self.services.store.reset_user, user_id)
        if fixture is None:
            return removed, None
        mine = replace(fixture, users=[user for user in fixture.users if user.id == user_id], apps=[])
        return removed, await self.services.run(load_fixture, self.services.store, mine)
