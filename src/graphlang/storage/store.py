"""The store: every read and write of users and languages, each in one database transaction.

Methods are synchronous and are called from worker threads. Concurrency is settled by the database,
never by process memory: SQLite writers hold the write lock from BEGIN IMMEDIATE, PostgreSQL writers
lock the owning user's row, and conditional updates compare the row version in the UPDATE itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from graphlang.errors import LanguageNotFound, PreconditionFailed
from graphlang.model.enums import DEFAULT_AUDIENCES
from graphlang.model.tags import display_name_for
from graphlang.model.timestamps import now_ticks
from graphlang.storage.engine import WRITE_OPTION
from graphlang.storage.schema import apps, languages, users

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
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Precondition:
    """An If-Match condition: ``version`` None means ``*`` (the item must merely exist)."""

    version: int | None


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            yield conn

    def _lock_user(self, conn: Connection, user_id: str) -> None:
        if self.is_postgres:
            conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())

    # -- users ----------------------------------------------------------------------------------

    def find_user(self, tenant_id: str, ref: str) -> Row | None:
        key = ref.strip().lower()
        query = select(users).where(
            users.c.tenant_id == tenant_id, (users.c.id == key) | (users.c.upn_key == key)
        )
        with self.reading() as conn:
            return conn.execute(query).mappings().first()

    def get_user(self, user_id: str) -> Row | None:
        with self.reading() as conn:
            return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()

    def ensure_user(self, tenant_id: str, user_id: str, upn: str, display_name: str | None) -> Row:
        """The user with this id, created when missing. Raises ValueError if the UPN is taken."""
        user_id = user_id.lower()
        existing = self.get_user(user_id)
        if existing is not None:
            return existing
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
            return raced
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

    def get_language(self, user_id: str, language_id: str, where: Sequence[ColumnElement[bool]] = ()) -> Row:
        query = select(languages).where(
            languages.c.user_id == user_id, languages.c.id == language_id.lower(), *where
        )
        with self.reading() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise LanguageNotFound(language_id)
        return row

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
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            return self._insert(conn, user_id, changes, actor)

    def update_language(self, user_id: str, language_id: str, changes: Mapping[str, Any], actor: bytes,
                        precondition: Precondition | None = None) -> Row:
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            return self._update(conn, user_id, language_id.lower(), changes, actor, precondition)

    def delete_language(self, user_id: str, language_id: str, precondition: Precondition | None = None
                        ) -> None:
        language_id = language_id.lower()
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            condition = [languages.c.user_id == user_id, languages.c.id == language_id]
            if precondition is not None and precondition.version is not None:
                condition.append(languages.c.version == precondition.version)
            if conn.execute(delete(languages).where(*condition)).rowcount == 0:
                self._explain_miss(conn, user_id, language_id)

    def upsert_language(self, user_id: str, language_id: str | None, changes: Mapping[str, Any],
                        actor: bytes) -> tuple[Row, bool]:
        """Update the user's language with this id, else with the same tag, else create one.

        Returns the row and whether it was created. The user's row lock (PostgreSQL) or the write
        lock (SQLite) makes concurrent upserts of one tag produce exactly one item.
        """
        with self.writing() as conn:
            self._lock_user(conn, user_id)
            existing = self._match(conn, user_id, language_id, changes.get("tag_key"))
            if existing is None:
                return self._insert(conn, user_id, changes, actor), True
            return self._update(conn, user_id, existing, changes, actor, None), False

    def _match(self, conn: Connection, user_id: str, language_id: str | None, tag_key: str | None
               ) -> str | None:
        mine = languages.c.user_id == user_id
        if language_id is not None:
            found = conn.execute(
                select(languages.c.id).where(mine, languages.c.id == language_id.lower())
            ).scalar_one_or_none()
            if found is not None:
                return str(found)
        if tag_key is None:
            return None
        found = conn.execute(
            select(languages.c.id)
            .where(mine, languages.c.tag_key == tag_key)
            .order_by(languages.c.created_ticks, languages.c.id)
            .limit(1)
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def _insert(self, conn: Connection, user_id: str, changes: Mapping[str, Any], actor: bytes) -> Row:
        ticks = now_ticks()
        values: dict[str, Any] = {
            "allowed_audiences": DEFAULT_AUDIENCES,
            **changes,
            "id": str(uuid.uuid4()),
            "user_id": user_id,
            "created_by": actor,
            "last_modified_by": actor,
            "created_ticks": ticks,
            "modified_ticks": ticks,
            "version": 1,
        }
        if "display_name" not in changes and values.get("tag"):
            values["display_name"] = display_name_for(values["tag"])
        return conn.execute(insert(languages).values(**values).returning(languages)).mappings().one()

    def _update(self, conn: Connection, user_id: str, language_id: str, changes: Mapping[str, Any],
                actor: bytes, precondition: Precondition | None) -> Row:
        condition = [languages.c.user_id == user_id, languages.c.id == language_id]
        if precondition is not None and precondition.version is not None:
            condition.append(languages.c.version == precondition.version)
        statement = (
            update(languages)
            .where(*condition)
            .values(**changes, last_modified_by=actor, modified_ticks=now_ticks(),
                    version=languages.c.version + 1)
            .returning(languages)
        )
        row = conn.execute(statement).mappings().first()
        if row is None:
            self._explain_miss(conn, user_id, language_id)
        assert row is not None
        return row

    def _explain_miss(self, conn: Connection, user_id: str, language_id: str) -> None:
        exists = conn.execute(
            select(languages.c.id).where(languages.c.user_id == user_id, languages.c.id == language_id)
        ).first()
        if exists is None:
            raise LanguageNotFound(language_id)
        raise PreconditionFailed(
            "The If-Match header does not match the item's current ETag; it was changed by another "
            "request.",
            code="PreconditionFailed",
        )

    # -- whole-store operations -----------------------------------------------------------------

    def reset(self) -> None:
        with self.writing() as conn:
            conn.execute(delete(languages))
            conn.execute(delete(users))
            conn.execute(delete(apps))

    def ping(self) -> None:
        with self.reading() as conn:
            conn.exec_driver_sql("SELECT 1")
