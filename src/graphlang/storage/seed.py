"""Loading a seed fixture: users, applications and their languages, in one transaction.

Loading is idempotent: users and applications are matched by id, languages by ``id`` and otherwise
by tag (as the upsert route matches them), so a fixture loaded twice leaves one copy of each item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from graphlang.model.timestamps import now_ticks
from graphlang.storage.schema import apps, languages, users
from graphlang.storage.store import EVERY_UPDATE, Store, new_language, oldest_with_tag


@dataclass(frozen=True)
class SeedLanguage:
    language_id: str | None
    changes: Mapping[str, Any]  # columns, as validation produces them


@dataclass(frozen=True)
class SeedUser:
    id: str
    tenant_id: str
    user_principal_name: str
    display_name: str | None
    actor: bytes  # the identitySet recorded as createdBy/lastModifiedBy of the user's seeded languages
    languages: Sequence[SeedLanguage] = ()


@dataclass(frozen=True)
class SeedApp:
    id: str
    tenant_id: str
    display_name: str | None
    roles: str
    secret_hash: str | None = None


@dataclass(frozen=True)
class Fixture:
    users: Sequence[SeedUser] = ()
    apps: Sequence[SeedApp] = ()


@dataclass
class SeedCounts:
    users: int = 0
    apps: int = 0
    languages: int = 0
    created: int = 0  # languages among them that were new

    def to_json(self) -> dict[str, int]:
        return {"users": self.users, "apps": self.apps, "languages": self.languages,
                "languagesCreated": self.created}


class SeedConflict(ValueError):
    """The fixture contradicts the stored data (a UPN or language id that belongs to someone else)."""


def load_fixture(store: Store, fixture: Fixture) -> SeedCounts:
    counts = SeedCounts()
    with store.writing() as conn:
        for user in fixture.users:
            _put_user(conn, user)
            counts.users += 1
        for app in fixture.apps:
            _put_app(conn, app)
            counts.apps += 1
        for user in fixture.users:
            for language in user.languages:
                counts.created += _put_language(conn, user, language)
                counts.languages += 1
    return counts


def _put_user(conn: Connection, user: SeedUser) -> None:
    upn_key = user.user_principal_name.lower()
    holder = conn.execute(select(users.c.id).where(users.c.tenant_id == user.tenant_id,
                                                   users.c.upn_key == upn_key)).scalar_one_or_none()
    if holder is not None and holder != user.id:
        raise SeedConflict(f"The user principal name '{user.user_principal_name}' belongs to the user "
                           f"'{holder}', not '{user.id}'.")
    values = {"tenant_id": user.tenant_id, "user_principal_name": user.user_principal_name,
              "upn_key": upn_key, "display_name": user.display_name}
    changed = conn.execute(update(users).where(users.c.id == user.id).values(**values)).rowcount
    if not changed:
        conn.execute(insert(users).values(id=user.id, created_ticks=now_ticks(), **values))


def _put_app(conn: Connection, app: SeedApp) -> None:
    values = {"tenant_id": app.tenant_id, "display_name": app.display_name, "roles": app.roles,
              "secret_hash": app.secret_hash}
    if not conn.execute(update(apps).where(apps.c.id == app.id).values(**values)).rowcount:
        conn.execute(insert(apps).values(id=app.id, created_ticks=now_ticks(), **values))


def _put_language(conn: Connection, user: SeedUser, language: SeedLanguage) -> int:
    """Update the matching language or create it; returns 1 when it was created."""
    existing = _matching(conn, user, language)
    if existing is not None:
        conn.execute(update(languages).where(languages.c.id == existing).values(
            **language.changes, last_modified_by=user.actor, modified_ticks=now_ticks(), **EVERY_UPDATE))
        return 0
    conn.execute(insert(languages).values(**new_language(user.id, language.changes, user.actor,
                                                         language.language_id)))
    return 1


def _matching(conn: Connection, user: SeedUser, language: SeedLanguage) -> str | None:
    if language.language_id is not None:
        owner = conn.execute(select(languages.c.user_id).where(languages.c.id == language.language_id)
                             ).scalar_one_or_none()
        if owner is not None and owner != user.id:
            raise SeedConflict(f"The language id '{language.language_id}' belongs to another user than "
                               f"'{user.user_principal_name}'.")
        return language.language_id if owner is not None else None
    tag_key = language.changes.get("tag_key")
    return None if tag_key is None else oldest_with_tag(conn, user.id, tag_key)
