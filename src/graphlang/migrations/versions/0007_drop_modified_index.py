"""Drop ``ix_languages_user_modified``: ordering by lastModifiedDateTime sorts the user's rows.

Every write of a language changes its ``modified_ticks``, so this index had an entry moved at each
PATCH, as well as one added or removed at each POST and DELETE: measured in SQLite alone, batches
of 16 updates took 90 µs of CPU an update with it and 55 µs without, most of the difference in the
index pages each commit wrote to the WAL. What it served, a page in ``$orderby=lastModifiedDateTime``
order, now reads the user's rows through ``ix_languages_user_created`` and sorts them: a user has a
handful of languages, as in 0004 and 0006.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_languages_user_modified", "languages")


def downgrade() -> None:
    op.create_index("ix_languages_user_modified", "languages", ["user_id", "modified_ticks", "id"])
