"""Drop the per-filter indexes of 0003: a filtered page reads the user's rows in the default order.

A user has a handful of languages, so a filtered page seeks ``ix_languages_user_created`` to one
user's collection and checks the filter on those few rows. The four indexes bought little for that
and cost every write, the database's size and a bulk import's time (each about as large as the
table's other indexes).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FILTER_INDEXES = (
    ("ix_languages_user_tag_created", "tag"),
    ("ix_languages_user_spoken_created", "spoken"),
    ("ix_languages_user_written_created", "written"),
    ("ix_languages_user_reading_created", "reading"),
)


def upgrade() -> None:
    for index, _column in FILTER_INDEXES:
        op.drop_index(index, "languages")


def downgrade() -> None:
    for index, column in FILTER_INDEXES:
        op.create_index(index, "languages", ["user_id", column, "created_ticks", "id"])
