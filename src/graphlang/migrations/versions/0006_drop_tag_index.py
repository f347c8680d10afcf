"""Drop ``ix_languages_user_tag``: an upsert finds a tag among the user's rows in the default order.

An upsert (the seed route's PATCH, a delta entry without an id, a seed fixture) looks for the
user's first-created language with a tag. ``ix_languages_user_created`` holds one user's rows in
that very order, so the lookup seeks it to the user and stops at the first row with the tag: a user
has a handful of languages, as in 0004. SQLite's planner already took that index for the lookup,
not the one on (user_id, tag_key), which only cost every insert and delete, 300 MB of a database of
5 million languages, and a third of a bulk import's index builds.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_languages_user_tag", "languages")


def downgrade() -> None:
    op.create_index("ix_languages_user_tag", "languages", ["user_id", "tag_key"])
