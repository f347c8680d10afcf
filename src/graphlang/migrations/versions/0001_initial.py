"""Users, apps and languages.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("user_principal_name", sa.String(320), nullable=False),
        sa.Column("upn_key", sa.String(320), nullable=False),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("created_ticks", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("tenant_id", "upn_key", name="uq_users_tenant_upn"),
    )
    op.create_table(
        "apps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("secret_hash", sa.Text, nullable=True),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("created_ticks", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "languages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("tag", sa.String(100), nullable=True),
        sa.Column("tag_key", sa.String(100), nullable=True),
        sa.Column("spoken", sa.SmallInteger, nullable=True),
        sa.Column("written", sa.SmallInteger, nullable=True),
        sa.Column("reading", sa.SmallInteger, nullable=True),
        sa.Column("proficiency", sa.SmallInteger, nullable=True),
        sa.Column("allowed_audiences", sa.Integer, nullable=True),
        sa.Column("is_searchable", sa.Boolean, nullable=True),
        sa.Column("thumbnail_url", sa.Text, nullable=True),
        sa.Column("confidence_score", sa.Float, nullable=True),
        sa.Column("user_has_verified_accuracy", sa.Boolean, nullable=True),
        sa.Column("source", sa.LargeBinary, nullable=True),
        sa.Column("sources", sa.LargeBinary, nullable=True),
        sa.Column("created_by", sa.LargeBinary, nullable=True),
        sa.Column("last_modified_by", sa.LargeBinary, nullable=True),
        sa.Column("created_ticks", sa.BigInteger, nullable=False),
        sa.Column("modified_ticks", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_languages_user_created", "languages", ["user_id", "created_ticks", "id"])
    op.create_index("ix_languages_user_tag", "languages", ["user_id", "tag_key"])
    op.create_index("ix_languages_user_modified", "languages", ["user_id", "modified_ticks", "id"])


def downgrade() -> None:
    op.drop_table("languages")
    op.drop_table("apps")
    op.drop_table("users")
