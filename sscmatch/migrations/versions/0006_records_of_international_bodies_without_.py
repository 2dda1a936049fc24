"""records of international bodies without a country; institution members

A capacity, need or commitment held by an international or regional body (the ILO, the Regional
Initiative…) no longer carries the body's seat as its country: ``country`` / ``owner_country``
become nullable, and an institution lists its ``members`` (countries). On SQLite, making a column
nullable recreates the table (foreign keys are checked after the migration, see env.py), which
drops its triggers: the data-change triggers of migration 0003 are put back on the three tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:23.029462
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sscmatch.columns

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (table, column) made nullable; their SQLite tables are recreated by batch mode.
NULLABLE = (("capacity", "country"), ("need", "country"), ("commitment", "owner_country"))

SQLITE_BUMP = """
INSERT INTO data_change (id, changes, epoch) VALUES (1, 1, lower(hex(randomblob(16))))
ON CONFLICT (id) DO UPDATE SET changes = changes + 1;
"""


def _restore_sqlite_triggers() -> None:
    """The row triggers of migration 0003 on the recreated tables (same names and body)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, _ in NULLABLE:
        for event in ("insert", "update", "delete"):
            op.execute(
                f'CREATE TRIGGER IF NOT EXISTS data_change_{table}_{event} AFTER {event.upper()} '
                f'ON "{table}" BEGIN {SQLITE_BUMP} END'
            )


def _set_nullable(nullable: bool) -> None:
    for table, column in NULLABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.VARCHAR(), nullable=nullable)
    _restore_sqlite_triggers()


def upgrade() -> None:
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'members', sscmatch.columns.JSONList(), nullable=False, server_default='[]'
            )
        )
    _set_nullable(True)


# Before this revision a body's record carried the body's seat as its country: going back, it does.
SEAT = {
    "capacity": "UPDATE capacity SET country = (SELECT i.country FROM institution i "
    "WHERE i.id = capacity.institution) WHERE country IS NULL",
    "need": "UPDATE need SET country = (SELECT i.country FROM institution i "
    "WHERE i.id = need.institution) WHERE country IS NULL",
    "commitment": "UPDATE commitment SET owner_country = (SELECT i.country FROM institution i "
    "WHERE i.id = commitment.owner_institution) WHERE owner_country IS NULL",
}


def downgrade() -> None:
    for statement in SEAT.values():
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        # The updates queued deferred data-change triggers; ALTER TABLE refuses to run while
        # any are pending, so fire them now.
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _set_nullable(False)
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_column('members')
