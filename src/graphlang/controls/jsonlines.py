"""The JSON Lines import format: one user or one languageProficiency per line, for bulk loads.

    {"type": "user", "userPrincipalName": "adele@contoso.com", "displayName": "Adele Vance",
     "id": "<GUID, optional>", "tenantId": "<GUID, optional>"}
    {"type": "language", "userId": "<the user's id>", "id": "<GUID, optional>", "tag": "en-US",
     "spoken": "nativeOrBilingual", "createdDateTime": "2026-01-01T00:00:00.0000000Z", ...}

A user's ``id`` defaults to the one ``graphlang token --user UPN`` derives, as in seed fixtures. A
language line is a languageProficiency as Graph returns it: its settable properties are validated
exactly as POST validates them; ``id``, ``createdDateTime``, ``lastModifiedDateTime``, ``createdBy``
and ``lastModifiedBy`` are kept when given (by default: a new id, the import time, and the owning
user). ``userId`` must name a user on an earlier line. Blank lines are skipped. Every problem names
its line.
"""

from __future__ import annotations

import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import orjson

from graphlang.errors import BadRequest
from graphlang.model.enums import DEFAULT_AUDIENCES
from graphlang.model.tags import display_name_for
from graphlang.model.timestamps import ticks_from_datetime
from graphlang.model.validation import parse_changes
from graphlang.storage.store import derived_user_id

USER_COLUMNS = ("id", "tenant_id", "user_principal_name", "upn_key", "display_name", "created_ticks")
# A language row holds the columns it has a value for, in this order: the settable ones in between are
# mostly absent (NULL), and binding NULLs costs a bulk load more than leaving the columns out.
LANGUAGE_HEAD = ("id", "user_id")
SETTABLE_COLUMNS = (
    "display_name", "tag", "tag_key", "spoken", "written", "reading", "proficiency", "allowed_audiences",
    "is_searchable", "thumbnail_url", "confidence_score", "user_has_verified_accuracy", "source", "sources",
)
LANGUAGE_TAIL = ("created_by", "last_modified_by", "created_ticks", "modified_ticks", "version")
LANGUAGE_COLUMNS = LANGUAGE_HEAD + SETTABLE_COLUMNS + LANGUAGE_TAIL
USER_MEMBERS = frozenset({"type", "id", "tenantId", "userPrincipalName", "displayName"})
NUMBERS = (bool, int, float)  # equal to one another across types: True == 1 == 1.0
MEMO_TYPES = (str, *NUMBERS)
MEMO_SIZE = 100_000
RECENT_USERS = 10_000  # owners remembered for their languages' default createdBy; others are looked up

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,12}))?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)

Owner = tuple[str, str | None]  # (user principal name, display name)
OwnerLookup = Callable[[str], Owner | None]


class JsonLinesError(ValueError):
    """A line cannot be imported; the message names the line and the member at fault."""


Columns = tuple[str, ...]
Settable = tuple[Columns, tuple[Any, ...]]  # a language's settable columns with a value, and the values


# What a line holds, as a plain tuple (made once a line, millions of times, it costs a seventh of a
# class's instance): its kind ("user" or "language"); its columns (USER_COLUMNS, or those of
# LANGUAGE_COLUMNS that the language has a value for); the values, in the order of the columns; and,
# for a language whose user this reader could not check, that user's id (the caller checks it, and
# puts the user's identitySet where the values hold OWNER_PENDING), else None.
Record = tuple[str, Columns, tuple[Any, ...], str | None]


# A JSON column's value in a row. Python's sqlite3 binds a bytes value only after looking for an
# adapter for it (a tuple built, a dict lookup and two attribute lookups, every row), a bytearray
# straight away; both are stored as the same BLOB, and psycopg sends both as bytea.
Blob = bytearray
OWNER_PENDING = b"\x00owner"  # never a JSON document, so never an identitySet a line gave
# Every language has the tail columns, so they are at the same place from the end whatever it has.
CREATED_BY = LANGUAGE_TAIL.index("created_by") - len(LANGUAGE_TAIL)
MODIFIED_BY = LANGUAGE_TAIL.index("last_modified_by") - len(LANGUAGE_TAIL)


def looks_like_json_lines(first_line: bytes) -> bool:
    """Whether a file's first line is a whole JSON object with a ``type``: a snapshot document never is."""
    try:
        entry = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(entry, dict) and "type" in entry


def identity_set(user_id: str, upn: str, name: str | None) -> Blob:
    """The identitySet of a user acting on their own languages, as a seed fixture records it."""
    return Blob(orjson.dumps({"application": None, "device": None,
                              "user": {"displayName": name or upn, "id": user_id}}))


@lru_cache(maxsize=4096)
def timestamp_ticks(text: str) -> int | None:
    """A DateTimeOffset in ISO 8601 form (``2026-01-01T00:00:00.0000000Z``) as stored ticks, or None."""
    found = _TIMESTAMP.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    offset = timedelta(0)
    if zone.upper() != "Z":
        offset = (-1 if zone[0] == "-" else 1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          tzinfo=timezone(offset) if offset else UTC)
    except ValueError:
        return None
    return ticks_from_datetime(moment) + int((fraction or "")[:7].ljust(7, "0"))


class LineReader:
    """Turns lines into rows; ``owner`` finds a user defined on an earlier line that it no longer holds
    (without one, such a language comes back with its owner pending)."""

    def __init__(self, default_tenant: str, now: int, owner: OwnerLookup | None) -> None:
        self.default_tenant = default_tenant.lower()
        self.now = now
        self.owner = owner
        self._recent: OrderedDict[str, Blob] = OrderedDict()  # user id -> identitySet
        self._validated: dict[tuple[str, type, Any], dict[str, Any]] = {}
        # members and values -> the columns, and the values' types where a number is among them
        self._settables: dict[tuple[tuple[str, Any], ...], tuple[Settable, tuple[type, ...] | None]] = {}
        self._shapes: dict[Columns, Columns] = {}
        # The last user id read and what it validated to: a user's languages follow it, naming it.
        self._last_user: tuple[object, str] = (None, "")
        self._pending: str | None = None

    def read(self, number: int, line: bytes) -> Record | None:
        if not line.strip():
            return None
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise JsonLinesError(f"Line {number} is not valid JSON: {exc}.") from exc
        if not isinstance(entry, dict):
            raise JsonLinesError(f"Line {number} must be a JSON object.")
        kind = entry.get("type")
        try:
            if kind == "language":
                self._pending = None
                columns, values = self._language(entry)
                return "language", columns, values, self._pending
            if kind == "user":
                return "user", USER_COLUMNS, self._user(entry), None
        except BadRequest as exc:
            raise JsonLinesError(f"Line {number}: {exc.message}") from exc
        raise JsonLinesError(f"Line {number}: the member 'type' must be 'user' or 'language'.")

    def _user(self, entry: Mapping[str, Any]) -> tuple[Any, ...]:
        unknown = sorted(set(entry) - USER_MEMBERS)
        if unknown:
            raise BadRequest(f"a user has no member '{unknown[0]}'; the members are "
                             f"{', '.join(sorted(USER_MEMBERS))}.")
        upn = _text("userPrincipalName", entry.get("userPrincipalName"))
        if upn is None:
            raise BadRequest("the member 'userPrincipalName' is required.")
        tenant = _guid("tenantId", entry.get("tenantId")) or self.default_tenant
        given = entry.get("id")
        user_id = _guid("id", given) or derived_user_id(tenant, upn)
        self._last_user = (given, user_id)
        name = _text("displayName", entry.get("displayName"))
        self._recent[user_id] = identity_set(user_id, upn, name)
        if len(self._recent) > RECENT_USERS:
            self._recent.popitem(last=False)
        return (user_id, tenant, upn, upn.lower(), name, self.now)

    def _language(self, entry: dict[str, Any]) -> tuple[Columns, tuple[Any, ...]]:
        # What is left after the members that are not settable properties goes to validation.
        pop = entry.pop
        del entry["type"]
        user_id = self._user_id(pop("userId", None))
        owner = self._owner_identity(user_id)
        language_id = _guid("id", pop("id", None)) or str(uuid.uuid4())
        created = _ticks("createdDateTime", pop("createdDateTime", None)) or self.now
        modified = _ticks("lastModifiedDateTime", pop("lastModifiedDateTime", None)) or created
        created_by = _identity("createdBy", pop("createdBy", None), owner)
        modified_by = pop("lastModifiedBy", None)
        columns, settable = self._settable(entry)
        return columns, (language_id, user_id, *settable,
                         created_by, _identity("lastModifiedBy", modified_by, created_by), created, modified, 1)

    def _user_id(self, given: object) -> str:
        last_given, last_id = self._last_user
        if given == last_given and isinstance(given, str):
            return last_id
        user_id = _guid("userId", given)
        if user_id is None:
            raise BadRequest("the member 'userId' is required: the id of a user on an earlier line.")
        self._last_user = (given, user_id)
        return user_id

    def _settable(self, entry: Mapping[str, Any]) -> Settable:
        """The settable columns of a line's remaining members, remembered by the members' values: a bulk
        load repeats the same few tags and levels millions of times. Lines with values that cannot be
        hashed are worked out each time. True == 1 == 1.0, so what was remembered for values with a
        number among them is taken only for values of the same types (a string equals only a string)."""
        memo = self._settables
        key = tuple(entry.items())
        try:
            found = memo.get(key)
        except TypeError:  # an object or array value
            return self._settable_columns(entry)
        if found is not None and (found[1] is None or found[1] == tuple(map(type, entry.values()))):
            return found[0]
        settable = self._settable_columns(entry)
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        numbers = any(isinstance(value, NUMBERS) for value in entry.values())
        memo[key] = (settable, tuple(map(type, entry.values())) if numbers else None)
        return settable

    def _settable_columns(self, entry: Mapping[str, Any]) -> Settable:
        changes = self._changes(entry)
        if "display_name" not in changes:
            tag = changes.get("tag")
            changes["display_name"] = display_name_for(tag) if tag else None
        changes.setdefault("allowed_audiences", DEFAULT_AUDIENCES)
        present = tuple(name for name in SETTABLE_COLUMNS if changes.get(name) is not None)
        columns = LANGUAGE_HEAD + present + LANGUAGE_TAIL
        # One tuple per set of columns, so that rows are grouped by it cheaply.
        return self._shapes.setdefault(columns, columns), tuple(changes[name] for name in present)

    def _changes(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """``parse_changes``, property by property, remembering what each scalar value validated to."""
        changes: dict[str, Any] = {}
        memo = self._validated
        for name, value in entry.items():
            if not isinstance(value, MEMO_TYPES):
                changes.update(parse_changes({name: value}))
                continue
            key = (name, type(value), value)  # the type too: True == 1, but only one is a boolean
            columns = memo.get(key)
            if columns is None:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                columns = memo[key] = parse_changes({name: value})
            changes.update(columns)
        return changes

    def _owner_identity(self, user_id: str) -> Blob | bytes:
        found = self._recent.get(user_id)
        if found is not None:
            return found
        if self.owner is None:
            self._pending = user_id
            return OWNER_PENDING
        owner = self.owner(user_id)
        if owner is None:
            raise unknown_owner(user_id)
        return identity_set(user_id, *owner)


def unknown_owner(user_id: str) -> BadRequest:
    return BadRequest(f"the member 'userId' names the user '{user_id}', which no earlier line defines.")


def _text(member: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise BadRequest(f"the member '{member}' must be a non-empty string.")
    return value.strip()


def _guid(member: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or _GUID.fullmatch(value) is None:
        raise BadRequest(f"the member '{member}' must be a GUID, got {orjson.dumps(value).decode()}.")
    return value.lower()


def _ticks(member: str, value: object) -> int | None:
    if value is None:
        return None
    ticks = timestamp_ticks(value) if isinstance(value, str) else None
    if ticks is None:
        raise BadRequest(f"the member '{member}' must be a DateTimeOffset such as "
                         f"2026-01-01T00:00:00.0000000Z, got {orjson.dumps(value).decode()}.")
    return ticks


def _identity(member: str, value: object, default: Blob | bytes) -> Blob | bytes:
    if value is None:
        return default
    if not isinstance(value, dict):
        raise BadRequest(f"the member '{member}' must be an identitySet object.")
    return Blob(orjson.dumps(value))

