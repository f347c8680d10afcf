"""Everything a running graphlang holds: settings, the store, keys and the authenticator.

Built once by ``create_services``; handlers reach it through the request context.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from graphlang.auth.authenticate import Authenticator
from graphlang.auth.keys import SigningKey, from_pem, load_or_create, new_private_pem
from graphlang.config import Settings
from graphlang.errors import ServiceUnavailable
from graphlang.storage import migrate
from graphlang.storage.engine import is_memory_sqlite, is_sqlite, make_engine
from graphlang.storage.group_commit import GroupCommit
from graphlang.storage.owners import Owners
from graphlang.storage.store import Store

T = TypeVar("T")
RETRY_AFTER_SECONDS = "5"
DATABASE_KEY_NAME = "emulator"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: Store
    key: SigningKey
    authenticator: Authenticator
    limiter: CapacityLimiter
    admin_token: str
    owners: Owners = field(default_factory=Owners)
    extensions: dict[str, Any] = field(default_factory=dict)
    group_commit: GroupCommit | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call on a worker thread; an unreachable database becomes a 503."""
        with _database_errors(self.engine):
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs),
                                                  limiter=self.limiter)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """A read of a few rows through the store's prepared statements: with a SQLite file, run right
        here on the event loop (a read in WAL mode never waits for a writer, and takes less time than
        a hand-off to a worker thread), else as ``run``."""
        if not self.store.direct.hold():
            return await self.run(fn, *args)
        try:  # rather than _database_errors: a generator context manager costs more than the read
            return fn(*args)
        except Exception as exc:
            unavailable = _unavailable_for(exc, self.engine)
            if unavailable is None:
                raise
            raise unavailable from exc

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """A store write that reads and writes only through ``store.writing()``: with a SQLite file, it
        joins the next group commit; elsewhere it runs as ``run``. It returns once committed."""
        if self.group_commit is None:
            return await self.run(fn, *args)
        try:  # as in ``read``, rather than _database_errors
            return await self.group_commit.run(fn, *args)
        except Exception as exc:
            unavailable = _unavailable_for(exc, self.engine)
            if unavailable is None:
                raise
            raise unavailable from exc

    def close(self) -> None:
        if self.group_commit is not None:
            self.group_commit.close()
        self.store.direct.release()
        self.engine.dispose()


@contextmanager
def _database_errors(engine: Engine) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        unavailable = _unavailable_for(exc, engine)
        if unavailable is None:
            raise
        raise unavailable from exc


def _unavailable_for(exc: Exception, engine: Engine) -> ServiceUnavailable | None:
    """The 503 that answers ``exc`` when it means the database cannot be reached, else None."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return _unavailable()
    if isinstance(exc, DBAPIError):
        return _unavailable() if exc.connection_invalidated else None
    if isinstance(exc, engine.dialect.loaded_dbapi.OperationalError):
        # The pool's pre-ping lets the driver's own error through unwrapped when the driver has not
        # yet marked a connection the server is terminating as broken (psycopg, during a shutdown).
        return _unavailable()
    return None


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The service is temporarily unavailable: its database cannot be reached. Retry later.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def signing_key_path(settings: Settings) -> str:
    return str(settings.signing_key_file or settings.data_dir / "signing-key.pem")


def key_in_database(settings: Settings) -> bool:
    """Without a configured key file, PostgreSQL keeps the key: instances on several machines share
    nothing else. SQLite means one machine, whose data directory holds the key file."""
    return settings.signing_key_file is None and not is_sqlite(settings.resolved_database_url)


def load_signing_key(settings: Settings, store: Store) -> SigningKey:
    if key_in_database(settings):
        return from_pem(store.signing_key_pem(DATABASE_KEY_NAME, new_private_pem), "the database's signing key")
    return load_or_create(Path(signing_key_path(settings)))


def offline_signing_key(settings: Settings) -> SigningKey:
    """The key ``serve`` signs with, for offline commands such as ``graphlang token``."""
    if not key_in_database(settings):
        return load_or_create(Path(signing_key_path(settings)))
    services = create_services(settings)
    try:
        return services.key
    finally:
        services.close()


def derived_admin_token(key: SigningKey) -> str:
    """The admin token when none is configured: derived from the signing key, so that every worker and
    instance sharing the key agrees on it, and only those who hold the key can know it."""
    der = key.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    digest = hmac.new(der, b"graphlang admin token", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def create_services(settings: Settings, *, auto_migrate: bool | None = None) -> Services:
    url = settings.resolved_database_url
    engine = make_engine(url, pool_size=settings.pool_size, max_overflow=settings.pool_max_overflow,
                         pool_timeout=settings.pool_timeout_seconds,
                         sqlite_synchronous=settings.sqlite_synchronous)
    migrate_now = is_sqlite(url) if auto_migrate is None else auto_migrate
    store = Store(engine)
    try:
        if migrate_now:
            migrate.upgrade(engine)
        elif not migrate.is_current(engine):
            migrate.require_known(engine)
            raise RuntimeError(
                f"the database schema is at revision {migrate.current_revision(engine)!r}, not "
                f"{migrate.head_revision()!r}; run 'graphlang db upgrade' first"
            )
        key = load_signing_key(settings, store)
    except OperationalError as exc:
        engine.dispose()
        raise RuntimeError(f"cannot reach the database: {exc.orig or exc}") from exc
    except BaseException:
        engine.dispose()
        raise
    workers = 1 if is_memory_sqlite(url) else max(4, settings.pool_size)
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        key=key,
        authenticator=Authenticator(settings, key),
        limiter=CapacityLimiter(workers),
        admin_token=settings.admin_token or derived_admin_token(key),
        group_commit=_group_commit(settings, store),
    )


def _group_commit(settings: Settings, store: Store) -> GroupCommit | None:
    url = settings.resolved_database_url
    if not settings.group_commit or not is_sqlite(url) or is_memory_sqlite(url):
        return None
    database = make_url(url).database
    assert database is not None
    return GroupCommit(store, Path(f"{database}.write-lock"))


