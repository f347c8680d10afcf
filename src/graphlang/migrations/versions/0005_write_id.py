"""A write id for every language: a random number the database gives a row at each write.

An item's id and write id name one content of it for ever, so a process may keep what it rendered
of an item under that pair, and a read fetches the pair alone to find it (docs/performance.md, step
45). The column's default is a new random number, so every row stored, whatever stores it, has its
own. graphlang's updates set a new one in the statement itself; a trigger gives one to any other
update that leaves it as it was (an older graphlang's during a rolling upgrade, an operator's by
hand), so that no process answers with a rendering of what the row held before.

SQLite adds a column only with a constant default, so there the table is made again and its rows
copied, each taking a default of its own. PostgreSQL evaluates a volatile default for each existing
row as it adds the column. A later migration that makes the SQLite table again (Alembic's batch
mode) drops its trigger with it, and must create it again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As graphlang.storage.schema.new_write_id compiles them, written out: a migration stays as it was.
RANDOM = {"sqlite": "random()", "postgresql": "CAST(random() * 9.2e18 AS BIGINT)"}
# An update that leaves the write id as it was gets a new one. SQLite's trigger runs after the update
# (its triggers cannot change NEW) and writes the row again; graphlang's own updates set the write id,
# so it runs for none of them.
CREATE_TRIGGER = {
    "sqlite": ["""
        CREATE TRIGGER languages_new_write_id AFTER UPDATE ON languages
        FOR EACH ROW WHEN NEW.write_id = OLD.write_id
        BEGIN UPDATE languages SET write_id = random() WHERE rowid = NEW.rowid; END"""],
    "postgresql": ["""
        CREATE FUNCTION languages_new_write_id() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.write_id := CAST(random() * 9.2e18 AS BIGINT); RETURN NEW; END $$""", """
        CREATE TRIGGER languages_new_write_id BEFORE UPDATE ON languages
        FOR EACH ROW WHEN (NEW.write_id = OLD.write_id) EXECUTE FUNCTION languages_new_write_id()"""],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER languages_new_write_id"],
    "postgresql": ["DROP TRIGGER languages_new_write_id ON languages", "DROP FUNCTION languages_new_write_id()"],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    column = sa.Column("write_id", sa.BigInteger(), nullable=False,
                       server_default=sa.text(f"({RANDOM[dialect]})"))
    if dialect == "sqlite":
        with op.batch_alter_table("languages", recreate="always") as batch:
            batch.add_column(column)
    else:
        op.add_column("languages", column)
    for statement in CREATE_TRIGGER[dialect]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("languages") as batch:
        batch.drop_column("write_id")
