"""The store: every read and write of users and languages, each in one database transaction.

Methods are synchronous and are called from worker threads, or on the event loop (the reads and, in
a group commit, the writes of a SQLite file). Concurrency is settled by the database, never by
process memory: SQLite writers hold the write lock from BEGIN IMMEDIATE, PostgreSQL writers lock the
owning user's row, and conditional updates compare the row version in the UPDATE itself.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Integer, and_, bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import Select

from graphlang.errors import EntityTagMismatch, GraphError, LanguageNotFound
from graphlang.model.enums import DEFAULT_AUDIENCES
from graphlang.model.renderings import RENDERINGS, Key, Rendering
from graphlang.model.tags import display_name_for
from graphlang.model.timestamps import now_ticks
from graphlang.storage.engine import WRITE_OPTION
from graphlang.storage.owners import Owner, OwnerChanged
from graphlang.storage.prepared import DirectConnections, Prepared, StoredRows
from graphlang.storage.schema import apps, languages, new_write_id, signing_keys, users

Row = Mapping[Any, Any]
USER_NAMESPACE = uuid.UUID("6f1c2e56-2d1b-4c1e-9a57-7a1f0c8e4b21")


def derived_user_id(tenant_id: str, upn: str) -> str:
    """A stable object id for a user first seen by UPN, so every tool derives the same one."""
    return str(uuid.uuid5(USER_NAMESPACE, f"{tenant_id.lower()}/{upn.lower()}"))


@dataclass(frozen=True, slots=True)
class ListPlan:
    """A compiled list query: filters, a total order and a page window, all run in the database."""

    where: Sequence[ColumnElement[bool]] = ()
    order_by: Sequence[ColumnElement[Any]] = (languages.c.created_ticks.asc(), languages.c.id.asc())
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Precondition:
    """An If-Match condition: the item's (id, version) must be one of ``tags``; None means ``*``
    (the item must merely exist)."""

    tags: tuple[tuple[str, int], ...] | None


@dataclass(frozen=True, slots=True)
class DeltaUpsert:
    """One entry of a delta payload: update the item with this id, else with the tag, else create."""

    language_id: str | None
    changes: Mapping[str, Any]
    precondition: Precondition | None = None


@dataclass(frozen=True, slots=True)
class DeltaRemoval:
    language_id: str
    precondition: Precondition | None = None


DeltaEntry = DeltaUpsert | DeltaRemoval


# The hottest reads, as prepared statements. ``audiences`` holds the allowedAudiences bits any of
# which admits the reader (NULL: the reader sees every item); an item whose audience is NULL admits
# nobody but its owner.
_AUDIENCES = bindparam("audiences", type_=Integer)
_READABLE = or_(_AUDIENCES.is_(None), languages.c.allowed_audiences.op("&")(_AUDIENCES) != 0)
_KEY: BindParameter[str] = bindparam("key")


@dataclass(frozen=True, slots=True)
class UserLookup:
    """A statement that finds a user of one tenant, in two forms: the user named by object id, and by
    (lower-cased) user principal name.

    One statement with ``id = :key OR upn_key = :key`` made SQLite probe both indexes and merge what
    they found on every read; one form probes one index (docs/performance.md, step 39)."""

    by_id: Prepared
    by_upn: Prepared

    @classmethod
    def of(cls, statement: Callable[[ColumnElement[bool]], Select[Any]]) -> UserLookup:
        in_tenant = users.c.tenant_id == bindparam("tenant_id")
        return cls(Prepared(statement(and_(in_tenant, users.c.id == _KEY))),
                   Prepared(statement(and_(in_tenant, users.c.upn_key == _KEY))))

    def in_order(self, key: str) -> tuple[Prepared, Prepared]:
        """Both forms, the one ``key`` most likely names first: a user principal name has an '@', an
        object id (a GUID) has none. The other form runs only when the first finds nobody, so a key
        either could name is still found."""
        return (self.by_upn, self.by_id) if "@" in key else (self.by_id, self.by_upn)


FIND_USER = UserLookup.of(lambda named: select(users).where(named))
# The columns of an item that a read answers with: all but the owner's id and the tag's matching key,
# which no response shows (two values fewer to fetch and convert for every item read).
_SERVED = tuple(column for column in languages.c if column.key not in ("user_id", "tag_key"))
# An item's key: what names one content of it, under which its rendering is kept (model/renderings.py).
_KEY_COLUMNS = (languages.c.id, languages.c.write_id)
# The owner, found as FIND_USER finds it, and the key of one item of theirs the reader sees (NULLs when
# there is none): a GET of another user's item in one statement, and a second only for an item this
# process has not rendered.
_OWNER = tuple((f"owner_{column.name}", column)  # labelled apart from the languages columns
               for column in (users.c.id, users.c.tenant_id, users.c.user_principal_name, users.c.display_name))
_OWNER_KEYS = tuple(column.name for _label, column in _OWNER)  # the first columns of each row, in order
_FIRST_KEY = len(_OWNER)  # then the item's key
FIND_USER_WITH_LANGUAGE = UserLookup.of(
    lambda named: select(*(column.label(label) for label, column in _OWNER), *_KEY_COLUMNS)
    .select_from(users.outerjoin(languages, and_(languages.c.user_id == users.c.id,
                                                 languages.c.id == bindparam("language_id"), _READABLE)))
    .where(named))
_ONE_ITEM = (languages.c.user_id == bindparam("user_id"), languages.c.id == bindparam("language_id"), _READABLE)
READ_LANGUAGE = Prepared(select(*_SERVED).where(*_ONE_ITEM))
READ_LANGUAGE_KEY = Prepared(select(*_KEY_COLUMNS).where(*_ONE_ITEM))


def _first_page(*columns: ColumnElement[Any]) -> Prepared:
    return Prepared(select(*columns).where(languages.c.user_id == bindparam("user_id"), _READABLE)
                    .order_by(languages.c.created_ticks, languages.c.id).limit(bindparam("limit", type_=Integer)))


FIRST_PAGE = _first_page(*_SERVED)
FIRST_PAGE_KEYS = _first_page(*_KEY_COLUMNS)


F = TypeVar("F", bound=Callable[..., Any])
_LONG_WRITES: set[Callable[..., Any]] = set()  # the functions marked with ``runs_long``


def runs_long(write: F) -> F:
    """Mark a write that may run many statements: group commit runs it on its writer thread rather
    than on the event loop, whose other requests go on meanwhile."""
    _LONG_WRITES.add(write)
    return write


def is_long(write: Callable[..., Any]) -> bool:
    """Whether ``write``, a function or a method bound to its object, was marked with ``runs_long``."""
    # Looked up by the function, not as an attribute: a bound method without it would raise and catch
    # an AttributeError, for every write.
    return getattr(write, "__func__", write) in _LONG_WRITES


def _version_binds(precondition: Precondition | None, language_id: str) -> tuple[int | None, dict[str, int]]:
    """How many versions an If-Match condition accepts for this item (None: any version will do),
    and their values as the bind parameters of ``_this_item``."""
    if precondition is None or precondition.tags is None:
        return None, {}
    versions = [version for tag_id, version in precondition.tags if tag_id == language_id]
    return len(versions), {f"w_version_{index}": version for index, version in enumerate(versions)}


# Writes of one item, prepared once per shape: the columns a PATCH sets, how many versions an
# If-Match names (none: any version; zero: no tag of this item, so nothing matches), and whether the
# statement checks a remembered owner.
# Every column a new row is given, but those the database gives it (its write id).
_COLUMNS = tuple(column.name for column in languages.columns if column.server_default is None)
_INSERT_BINDS = tuple((f"v_{name}", name) for name in _COLUMNS)  # formatted once, not on every insert
INSERT_LANGUAGE = Prepared(insert(languages).values({name: bindparam(bind) for bind, name in _INSERT_BINDS})
                           .returning(*languages.columns))


# What every UPDATE of a language sets besides its changes: a new version (its ETag) and a new write id
# (the key of its rendering, model/renderings.py). Migration 0005's trigger would give an update that
# left the write id a new one too, but on SQLite by writing the row a second time.
EVERY_UPDATE: Mapping[str, ColumnElement[Any]] = {"version": languages.c.version + 1, "write_id": new_write_id()}


# A remembered owner (storage/owners.py), checked by the write's own statement: the users table still
# holds the user in the tenant and under the user principal name the lookup found them by.
_OWNER_HOLDS = select(users.c.id).where(users.c.id == bindparam("w_user_id"),
                                        users.c.tenant_id == bindparam("w_tenant"),
                                        users.c.upn_key == bindparam("w_upn_key")).exists()


def _this_item(versions: int | None, checks_owner: bool) -> list[ColumnElement[bool]]:
    condition = [languages.c.user_id == bindparam("w_user_id"), languages.c.id == bindparam("w_id")]
    if versions == 0:
        condition.append(false())  # an If-Match naming no version of this item matches nothing
    elif versions is not None:
        condition.append(languages.c.version.in_([bindparam(f"w_version_{index}") for index in range(versions)]))
    if checks_owner:
        condition.append(_OWNER_HOLDS)
    return condition


def _owner_binds(owner: Owner | None) -> dict[str, str]:
    return {} if owner is None else {"w_tenant": owner.tenant_id, "w_upn_key": owner.upn_key}


@lru_cache(maxsize=512)
def _update_statement(columns: tuple[str, ...], versions: int | None, checks_owner: bool) -> Prepared:
    return Prepared(
        update(languages).where(*_this_item(versions, checks_owner))
        .values({**{name: bindparam(f"v_{name}") for name in columns}, "last_modified_by": bindparam("w_actor"),
                 "modified_ticks": bindparam("w_ticks"), **EVERY_UPDATE})
        .returning(*languages.columns))


@lru_cache(maxsize=64)
def _delete_statement(versions: int | None, checks_owner: bool) -> Prepared:
    return Prepared(delete(languages).where(*_this_item(versions, checks_owner)).returning(languages.c.id))


def new_language(user_id: str, changes: Mapping[str, Any], actor: bytes, language_id: str | None = None
                 ) -> dict[str, Any]:
    """The row of a new language: the defaults, the client's changes, then what the server manages.

    ``displayName`` is filled from the tag only when the client left it out; an explicit null stays.
    """
    ticks = now_ticks()
    values: dict[str, Any] = {
        "allowed_audiences": DEFAULT_AUDIENCES,
        **changes,
        "id": language_id or str(uuid.uuid4()),
        "user_id": user_id,
        "created_by": actor,
        "last_modified_by": actor,
        "created_ticks": ticks,
        "modified_ticks": ticks,
        "version": 1,
    }
    if "display_name" not in changes and values.get("tag"):
        values["display_name"] = display_name_for(values["tag"])
    return values


def oldest_with_tag(conn: Connection, user_id: str, tag_key: str) -> str | None:
    """The id of the user's first-created language with this (canonical, lower-cased) tag."""
    found = conn.execute(
        select(languages.c.id)
        .where(languages.c.user_id == user_id, languages.c.tag_key == tag_key)
        .order_by(languages.c.created_ticks, languages.c.id)
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else str(found)


def _in_tenant(user: Row, tenant_id: str) -> Row:
    if user["tenant_id"] != tenant_id.lower():
        raise ValueError(f"the object id '{user['id']}' is a different user in the directory")
    return user


def _require_batch_transaction(conn: Connection) -> None:
    """SQLite rolls a whole transaction back on some errors (a full disk, an I/O error), taking the
    batch's earlier writes with it: then the batch fails, and no later write runs on its own."""
    driver = conn.connection.driver_connection
    if driver is None or not driver.in_transaction:
        raise conn.dialect.loaded_dbapi.OperationalError(
            "The database rolled back the transaction of this write's batch; nothing of it is stored.")


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self.direct = DirectConnections(engine)
        self._batch = threading.local()

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    @contextmanager
    def writing(self, *, one_statement: bool = False) -> Iterator[Connection]:
        """A write transaction, or in a group commit's batch a savepoint of the batch's transaction.
        A write of ``one_statement`` (it changes the database with one statement, and fails, if at all,
        only in that statement or when it changed nothing) needs no savepoint: SQLite undoes a failing
        statement by itself, and the batch's transaction goes on."""
        shared = getattr(self._batch, "conn", None)
        if shared is None:
            with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
                yield conn
            return
        _require_batch_transaction(shared)  # never run outside it, where a write would commit at once
        if one_statement:
            yield shared
            return
        # A group commit's batch: this write is one savepoint of its transaction, issued on the DBAPI
        # connection (SQLAlchemy's own costs more than the write it wraps), here rather than in a
        # context manager of its own, which would cost as much again.
        cursor = shared.connection.cursor()
        cursor.execute("SAVEPOINT graphlang_write")
        try:
            yield shared
        except BaseException:
            cursor.execute("ROLLBACK TO SAVEPOINT graphlang_write")
            cursor.execute("RELEASE SAVEPOINT graphlang_write")
            raise
        else:
            cursor.execute("RELEASE SAVEPOINT graphlang_write")
        finally:
            cursor.close()

    @contextmanager
    def batched(self, conn: Connection) -> Iterator[None]:
        """On this thread, ``writing`` runs in savepoints of ``conn``'s transaction (group commit). Raises
        when the block ends without that transaction, so that none of its writes is answered as stored."""
        self._batch.conn = conn
        try:
            yield
        finally:
            self._batch.conn = None
        _require_batch_transaction(conn)

    def _lock_user(self, conn: Connection, user_id: str) -> None:
        if self.is_postgres:
            conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())

    # -- users ----------------------------------------------------------------------------------

    def find_user(self, tenant_id: str, ref: str) -> Row | None:
        found = self._find(FIND_USER, {"tenant_id": tenant_id, "key": ref.strip().lower()})
        return None if found is None else found[0]

    def find_user_with_language(self, tenant_id: str, ref: str, language_id: str, audiences: int | None
                                ) -> tuple[Row, Rendering | None] | None:
        """``find_user`` and, when the user exists, ``rendered_language`` of theirs (None when the reader
        does not see it): one statement when this process has rendered the item before."""
        language_id = language_id.lower()
        found = self._find(FIND_USER_WITH_LANGUAGE, {"tenant_id": tenant_id, "key": ref.strip().lower(),
                                                     "language_id": language_id, "audiences": audiences})
        if found is None:
            return None
        # Straight from the driver's row: the owner's columns and the item's key need no converting.
        row = found.raw[0]
        user = dict(zip(_OWNER_KEYS, row, strict=False))  # the row goes on with the item's key
        if row[_FIRST_KEY] is None:
            return user, None
        return user, self._rendering(row[_FIRST_KEY:], user["id"], language_id, audiences)

    def _find(self, lookup: UserLookup, values: dict[str, Any]) -> StoredRows | None:
        for prepared in lookup.in_order(values["key"]):
            found = self.direct.stored(prepared, values)
            if found:
                return found
        return None

    def get_user(self, user_id: str) -> Row | None:
        with self.reading() as conn:
            return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()

    def ensure_user(self, tenant_id: str, user_id: str, upn: str, display_name: str | None) -> Row:
        """The user with this id, created when missing. Raises ValueError if the UPN is taken, or if the id
        is a user of another tenant: an object id never makes one tenant's caller another tenant's user."""
        user_id = user_id.lower()
        existing = self.get_user(user_id)
        if existing is not None:
            return _in_tenant(existing, tenant_id)
        values = {
            "id": user_id,
            "tenant_id": tenant_id,
            "user_principal_name": upn,
            "upn_key": upn.lower(),
            "display_name": display_name,
            "created_ticks": now_ticks(),
        }
        try:
            with self.writing() as conn:
                conn.execute(insert(users).values(**values))
        except IntegrityError as exc:
            raced = self.get_user(user_id)
            if raced is None:
                raise ValueError(f"the user principal name '{upn}' belongs to another user") from exc
            return _in_tenant(raced, tenant_id)
        return values

    def list_users(self, tenant_id: str | None = None) -> list[Row]:
        query = select(users).order_by(users.c.tenant_id, users.c.upn_key)
        if tenant_id is not None:
            query = query.where(users.c.tenant_id == tenant_id)
        with self.reading() as conn:
            return list(conn.execute(query).mappings())

    # -- apps -----------------------------------------------------------------------------------

    def get_app(self, app_id: str) -> Row | None:
        with self.reading() as conn:
            return conn.execute(select(apps).where(apps.c.id == app_id.lower())).mappings().first()

    def add_app(self, app_id: str, tenant_id: str, display_name: str | None, secret_hash: str | None,
                roles: str) -> Row:
        values = {"id": app_id.lower(), "tenant_id": tenant_id, "display_name": display_name,
                  "secret_hash": secret_hash, "roles": roles, "created_ticks": now_ticks()}
        with self.writing() as conn:
            conn.execute(delete(apps).where(apps.c.id == values["id"]))
            conn.execute(insert(apps).values(**values))
        return values

    def list_apps(self) -> list[Row]:
        with self.reading() as conn:
            return list(conn.execute(select(apps).order_by(apps.c.id)).mappings())

    # -- languages: reads -----------------------------------------------------------------------

    def read_language(self, user_id: str, language_id: str, audiences: int | None) -> Row:
        """The item, if the reader sees it: ``audiences`` are the bits admitting the reader, None for all."""
        row = self.direct.one(READ_LANGUAGE, {"user_id": user_id, "language_id": language_id.lower(),
                                              "audiences": audiences})
        if row is None:
            raise LanguageNotFound(language_id)
        return row

    def rendered_language(self, user_id: str, language_id: str, audiences: int | None) -> Rendering:
        """``read_language``'s item rendered: its columns are read only when this process has not
        rendered it before."""
        values = {"user_id": user_id, "language_id": language_id.lower(), "audiences": audiences}
        keys = self.direct.stored(READ_LANGUAGE_KEY, values).raw
        rendering = self._rendering(keys[0], user_id, language_id, audiences) if keys else None
        if rendering is None:
            raise LanguageNotFound(language_id)
        return rendering

    def _rendering(self, key: Key, user_id: str, language_id: str, audiences: int | None
                   ) -> Rendering | None:
        """The rendering kept under an item's key, else the item read whole and rendered (None when it
        is gone since its key was read)."""
        found = RENDERINGS.get(key)
        if found is None:
            item = self.direct.one(READ_LANGUAGE, {"user_id": user_id, "language_id": language_id.lower(),
                                                   "audiences": audiences})
            found = None if item is None else RENDERINGS.of(item)
        return found

    def first_page(self, user_id: str, audiences: int | None, limit: int) -> StoredRows:
        """The first ``limit`` items the reader sees, in the default order (createdDateTime, id)."""
        return self.direct.stored(FIRST_PAGE, {"user_id": user_id, "audiences": audiences, "limit": limit})

    def rendered_first_page(self, user_id: str, audiences: int | None, limit: int) -> list[Rendering] | StoredRows:
        """``first_page`` rendered, when it holds fewer than ``limit`` items (nothing follows it) and this
        process has rendered every one of them before; otherwise ``first_page`` itself."""
        values = {"user_id": user_id, "audiences": audiences, "limit": limit}
        keys = self.direct.stored(FIRST_PAGE_KEYS, values).raw
        if len(keys) < limit:
            found = RENDERINGS.all_of(keys)
            if found is not None:
                return found
        return self.direct.stored(FIRST_PAGE, values)

    def list_languages(self, user_id: str, plan: ListPlan) -> list[Row]:
        query = (
            select(languages)
            .where(languages.c.user_id == user_id, *plan.where)
            .order_by(*plan.order_by)
            .offset(plan.offset or None)
            .limit(plan.limit)
        )
        with self.reading() as conn:
            return list(conn.execute(query).mappings())

    def count_languages(self, user_id: str, where: Sequence[ColumnElement[bool]] = ()) -> int:
        query = select(func.count()).select_from(languages).where(languages.c.user_id == user_id, *where)
        with self.reading() as conn:
            return int(conn.execute(query).scalar_one())

    # -- languages: writes ----------------------------------------------------------------------

    def create_language(self, user_id: str, changes: Mapping[str, Any], actor: bytes) -> Row:
        with self.writing(one_statement=True) as conn:
            self._lock_user(conn, user_id)
            return self._insert(conn, user_id, changes, actor)

    # ``owner``, where given, is a remembered lookup of the user (storage/owners.py): the write applies
    # only while it still holds, and raises OwnerChanged, having changed nothing, when it does not.

    def update_language(self, user_id: str, language_id: str, changes: Mapping[str, Any], actor: bytes,
                        precondition: Precondition | None = None, owner: Owner | None = None) -> Row:
        with self.writing(one_statement=True) as conn:
            self._lock_user(conn, user_id)
            return self._update(conn, user_id, language_id.lower(), changes, actor, precondition, owner)

    def delete_language(self, user_id: str, language_id: str, precondition: Precondition | None = None,
                        owner: Owner | None = None) -> None:
        with self.writing(one_statement=True) as conn:
            self._lock_user(conn, user_id)
            self._delete(conn, user_id, language_id.lower(), precondition, owner)

    def _delete(self, conn: Connection, user_id: str, language_id: str, precondition: Precondition | None,
                owner: Owner | None = None) -> None:
        versions, version_values = _version_binds(precondition, language_id)
        values = {"w_user_id": user_id, "w_id": language_id, **version_values, **_owner_binds(owner)}
        if not self.direct.within(conn, _delete_statement(versions, owner is not None), values):
            self._explain_miss(conn, user_id, language_id, owner)

    def upsert_language(self, user_id: str, language_id: str | None, changes: Mapping[str, Any],
                        actor: bytes, precondition: Precondition | None = None) -> tuple[Row, bool]:
        """Update the user's language with this id, else with the same tag, else create one.

        Returns the row and whether it was created. The user's row lock (PostgreSQL) or the write
        lock (SQLite) makes concurrent upserts of one tag produce exactly one item. With a
        precondition the item must already exist and match it.
        """
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            return self._upsert(conn, user_id, language_id, changes, actor, precondition)

    def _upsert(self, conn: Connection, user_id: str, language_id: str | None, changes: Mapping[str, Any],
                actor: bytes, precondition: Precondition | None) -> tuple[Row, bool]:
        existing = self._match(conn, user_id, language_id, changes.get("tag_key"))
        if existing is not None:
            return self._update(conn, user_id, existing, changes, actor, precondition), False
        if precondition is not None:
            raise EntityTagMismatch("If-Match requires an existing languageProficiency, and none has "
                                    "this id or tag.")
        return self._insert(conn, user_id, changes, actor), True

    @runs_long
    def apply_language_delta(self, user_id: str, entries: Sequence[DeltaEntry], actor: bytes
                             ) -> list[Row | None]:
        """Apply every entry in order in one transaction: all of them, or (on any error) none.

        Returns, per entry, the upserted row, or None for a removal.
        """
        results: list[Row | None] = []
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            for index, entry in enumerate(entries):
                try:
                    if isinstance(entry, DeltaRemoval):
                        self._delete(conn, user_id, entry.language_id.lower(), entry.precondition)
                        results.append(None)
                    else:
                        row, _created = self._upsert(conn, user_id, entry.language_id, entry.changes, actor,
                                                     entry.precondition)
                        results.append(row)
                except GraphError as error:
                    error.message = f"value[{index}]: {error.message} Nothing was changed."
                    raise
        return results

    def _match(self, conn: Connection, user_id: str, language_id: str | None, tag_key: str | None
               ) -> str | None:
        mine = languages.c.user_id == user_id
        if language_id is not None:
            found = conn.execute(
                select(languages.c.id).where(mine, languages.c.id == language_id.lower())
            ).scalar_one_or_none()
            if found is not None:
                return str(found)
        return None if tag_key is None else oldest_with_tag(conn, user_id, tag_key)

    def _insert(self, conn: Connection, user_id: str, changes: Mapping[str, Any], actor: bytes) -> Row:
        values = new_language(user_id, changes, actor)
        return self.direct.within(conn, INSERT_LANGUAGE, {bind: values.get(name) for bind, name in _INSERT_BINDS})[0]

    def _update(self, conn: Connection, user_id: str, language_id: str, changes: Mapping[str, Any],
                actor: bytes, precondition: Precondition | None, owner: Owner | None = None) -> Row:
        versions, version_values = _version_binds(precondition, language_id)
        values = {"w_user_id": user_id, "w_id": language_id, "w_actor": actor, "w_ticks": now_ticks(),
                  **version_values, **_owner_binds(owner),
                  **{f"v_{name}": value for name, value in changes.items()}}
        rows = self.direct.within(conn, _update_statement(tuple(changes), versions, owner is not None), values)
        if not rows:
            self._explain_miss(conn, user_id, language_id, owner)
        return rows[0]

    def _explain_miss(self, conn: Connection, user_id: str, language_id: str, owner: Owner | None) -> None:
        if owner is not None and not conn.execute(
                select(_OWNER_HOLDS).params(w_user_id=user_id, **_owner_binds(owner))).scalar_one():
            raise OwnerChanged(user_id)
        exists = conn.execute(
            select(languages.c.id).where(languages.c.user_id == user_id, languages.c.id == language_id)
        ).first()
        if exists is None:
            raise LanguageNotFound(language_id)
        raise EntityTagMismatch(
            f"The If-Match condition does not match the current ETag of the languageProficiency with "
            f"id '{language_id}'; it was changed by another request. Read it again and retry."
        )

    # -- signing keys ---------------------------------------------------------------------------

    def signing_key_pem(self, name: str, create: Callable[[], bytes]) -> bytes:
        """The named key; the first instance to ask stores one, and every instance reads that one."""
        query = select(signing_keys.c.private_key_pem).where(signing_keys.c.name == name)
        with self.reading() as conn:
            found = conn.execute(query).scalar_one_or_none()
        if found is None:
            try:
                with self.writing() as conn:
                    conn.execute(insert(signing_keys).values(name=name, private_key_pem=create().decode(),
                                                             created_ticks=now_ticks()))
            except IntegrityError:
                pass  # another instance stored its key first: use that one
            with self.reading() as conn:
                found = conn.execute(query).scalar_one()
        return str(found).encode()

    # -- whole-store operations -----------------------------------------------------------------

    def reset(self) -> None:
        with self.writing() as conn:
            conn.execute(delete(languages))
            conn.execute(delete(users))
            conn.execute(delete(apps))

    def reset_user(self, user_id: str) -> int:
        """Remove one user's languages (the user stays in the directory); returns how many."""
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            return int(conn.execute(delete(languages).where(languages.c.user_id == user_id)).rowcount)

    def ping(self) -> None:
        with self.reading() as conn:
            conn.exec_driver_sql("SELECT 1")
