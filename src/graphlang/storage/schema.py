"""The tables: the single source of truth for both databases and for the Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

metadata = MetaData()


class new_write_id(FunctionElement[int]):
    """A random 63-bit number, drawn by the database for each row it is evaluated for.

    Random rather than counted: every instance draws its own without sharing a counter, and one item's
    two writes draw the same number with a chance of one in 2**52 (PostgreSQL's ``random()`` has 52
    bits; SQLite's has 64)."""

    type = BigInteger()
    inherit_cache = True


@compiles(new_write_id)
def _sqlite_random(_element: new_write_id, _compiler: SQLCompiler, **_kw: object) -> str:
    return "random()"


@compiles(new_write_id, "postgresql")
def _postgres_random(_element: new_write_id, _compiler: SQLCompiler, **_kw: object) -> str:
    return "CAST(random() * 9.2e18 AS BIGINT)"  # below 2**63, so the cast never overflows



def ordinal(text_type: String) -> String:
    """A string type that PostgreSQL compares by code point (collation "C"), as SQLite always does."""
    collated = type(text_type)(collation="C") if text_type.length is None else type(text_type)(
        text_type.length, collation="C")
    return text_type.with_variant(collated, "postgresql")

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),  # lower-case GUID, the token's oid
    Column("tenant_id", String(36), nullable=False),
    Column("user_principal_name", String(320), nullable=False),
    Column("upn_key", String(320), nullable=False),  # lower-cased, for case-insensitive lookup
    Column("display_name", Text, nullable=True),
    Column("created_ticks", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "upn_key", name="uq_users_tenant_upn"),
)

apps = Table(
    "apps",
    metadata,
    Column("id", String(36), primary_key=True),  # the application (client) id
    Column("tenant_id", String(36), nullable=False),
    Column("display_name", Text, nullable=True),
    Column("secret_hash", Text, nullable=True),
    Column("roles", Text, nullable=False, default=""),  # space-separated app roles it may be granted
    Column("created_ticks", BigInteger, nullable=False),
)

languages = Table(
    "languages",
    metadata,
    Column("id", ordinal(String(36)), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", ordinal(Text()), nullable=True),
    Column("tag", ordinal(String(100)), nullable=True),
    Column("tag_key", String(100), nullable=True),  # lower-cased canonical tag, for upsert matching
    Column("spoken", SmallInteger, nullable=True),
    Column("written", SmallInteger, nullable=True),
    Column("reading", SmallInteger, nullable=True),
    Column("proficiency", SmallInteger, nullable=True),
    Column("allowed_audiences", Integer, nullable=True),
    Column("is_searchable", Boolean, nullable=True),
    Column("thumbnail_url", ordinal(Text()), nullable=True),
    Column("confidence_score", Float, nullable=True),
    Column("user_has_verified_accuracy", Boolean, nullable=True),
    Column("source", LargeBinary, nullable=True),  # JSON
    Column("sources", LargeBinary, nullable=True),  # JSON
    Column("created_by", LargeBinary, nullable=True),  # JSON identitySet
    Column("last_modified_by", LargeBinary, nullable=True),  # JSON identitySet
    Column("created_ticks", BigInteger, nullable=False),
    Column("modified_ticks", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    # New at every write of the row (the database's default for a row stored, and each UPDATE sets
    # one): with the id it names one content of the item, under which a process keeps its rendering
    # (model/renderings.py). No response shows it, and snapshots do not carry it.
    Column("write_id", BigInteger, nullable=False, server_default=new_write_id(), info={"exported": False}),
    # The default order (createdDateTime, id) within one user's collection, for keyset paging.
    Index("ix_languages_user_created", "user_id", "created_ticks", "id"),
    # No index per $filter property, nor on tag_key or modified_ticks: a user's collection is a few
    # rows, so a filtered page, an upsert looking for a tag and a page in lastModifiedDateTime order
    # read them through ix_languages_user_created (migration 0004 dropped the ones 0003 added, 0006
    # the one on (user_id, tag_key), and 0007 the one on (user_id, modified_ticks, id), which every
    # write moved).
)

# The emulator's token-signing keys, for instances that share nothing but the database.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("name", String(64), primary_key=True),  # "emulator": the one key every instance signs with
    Column("private_key_pem", Text, nullable=False),
    Column("created_ticks", BigInteger, nullable=False),
)
