"""Everything a running graphlang holds: settings, the store, keys and the authenticator.

Built once by ``create_services``; handlers reach it through the request context.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from graphlang.auth.authenticate import Authenticator
from graphlang.auth.keys import SigningKey, load_or_create
from graphlang.config import Settings
from graphlang.errors import ServiceUnavailable
from graphlang.storage import migrate
from graphlang.storage.engine import is_memory_sqlite, is_sqlite, make_engine
from graphlang.storage.store import Store

T = TypeVar("T")
RETRY_AFTER_SECONDS = "5"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: Store
    key: SigningKey
    authenticator: Authenticator
    limiter: CapacityLimiter
    admin_token: str
    known_users: set[str] = field(default_factory=set)
    extensions: dict[str, Any] = field(default_factory=dict)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call on a worker thread; an unreachable database becomes a 503."""
        try:
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs),
                                                  limiter=self.limiter)
        except (OperationalError, PoolTimeout) as exc:
            raise _unavailable() from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise _unavailable() from exc
            raise

    def close(self) -> None:
        self.engine.dispose()


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The service is temporarily unavailable: its database cannot be reached. Retry later.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def signing_key_path(settings: Settings) -> str:
    return str(settings.signing_key_file or settings.data_dir / "signing-key.pem")


def create_services(settings: Settings, *, auto_migrate: bool | None = None) -> Services:
    url = settings.resolved_database_url
    engine = make_engine(url, pool_size=settings.pool_size, sqlite_synchronous=settings.sqlite_synchronous)
    migrate_now = is_sqlite(url) if auto_migrate is None else auto_migrate
    if migrate_now:
        migrate.upgrade(engine)
    elif not migrate.is_current(engine):
        engine.dispose()
        raise RuntimeError(
            f"the database schema is at revision {migrate.current_revision(engine)!r}, not "
            f"{migrate.head_revision()!r}; run 'graphlang db upgrade' first"
        )
    key = load_or_create(Path(signing_key_path(settings)))
    workers = 1 if is_memory_sqlite(url) else max(4, settings.pool_size)
    return Services(
        settings=settings,
        engine=engine,
        store=Store(engine),
        key=key,
        authenticator=Authenticator(settings, key),
        limiter=CapacityLimiter(workers),
        admin_token=settings.admin_token or secrets.token_urlsafe(24),
    )


