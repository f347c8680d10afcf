"""Code-point order for strings on PostgreSQL, and indexes for the common filters in the default order.

PostgreSQL compares text in the database's collation (often a locale's dictionary order), SQLite in
code-point order. The ``C`` collation gives PostgreSQL the same order, so ``$orderby``, ``gt``/``lt``
and keyset paging agree between the two databases; ``lower``/``upper`` then map ASCII letters only,
as SQLite's do.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FILTER_INDEXES = (
    ("ix_languages_user_tag_created", "tag"),
    ("ix_languages_user_spoken_created", "spoken"),
    ("ix_languages_user_written_created", "written"),
    ("ix_languages_user_reading_created", "reading"),
)


def _string_columns(collation: str | None) -> tuple[tuple[str, sa.String], ...]:
    return (("id", sa.String(36, collation=collation)), ("display_name", sa.Text(collation=collation)),
            ("tag", sa.String(100, collation=collation)), ("thumbnail_url", sa.Text(collation=collation)))


def _set_collation(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for (name, collated), (_name, plain) in zip(_string_columns(collation), _string_columns(None), strict=True):
        op.alter_column("languages", name, type_=collated, existing_type=plain)


def upgrade() -> None:
    _set_collation("C")
    for index, column in FILTER_INDEXES:
        op.create_index(index, "languages", ["user_id", column, "created_ticks", "id"])


def downgrade() -> None:
    for index, _column in FILTER_INDEXES:
        op.drop_index(index, "languages")
    _set_collation(None)
