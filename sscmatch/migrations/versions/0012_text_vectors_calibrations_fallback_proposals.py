"""text vectors, calibrations, fallback proposals

Issue 12: a text vector per need, capacity and exchange (``text_vector``); the factor weights
fitted on the stored history (``calibration``); and proposals for a provider's related
experience when no capacity of it fits a need, which have no capacity
(``proposal.capacity`` may be NULL). Nothing to carry across: vectors are made when first
needed, and every existing proposal has its capacity.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from sscmatch.columns import JSONDict

SQLITE_BUMP = """
INSERT INTO data_change (id, changes, epoch) VALUES (1, 1, lower(hex(randomblob(16))))
ON CONFLICT (id) DO UPDATE SET changes = changes + 1;
"""


def _proposal_capacity(nullable: bool) -> None:
    """Batch mode recreates the SQLite table, which drops its triggers: the data-change
    triggers of migration 0003 are put back (same names and body)."""
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.alter_column("capacity", existing_type=sa.VARCHAR(), nullable=nullable)
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS data_change_proposal_{event} AFTER "
                f'{event.upper()} ON "proposal" BEGIN {SQLITE_BUMP} END'
            )


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_vector",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("text_hash", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", "model"),
    )
    op.create_table(
        "calibration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("as_of", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("weights", JSONDict(), nullable=False),
        sa.Column("figures", JSONDict(), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _proposal_capacity(True)


def downgrade() -> None:
    # Fallback proposals (no capacity) did not exist before this revision: they go, with what
    # points at them.
    fallback = "SELECT id FROM proposal WHERE capacity IS NULL"
    op.execute(f"UPDATE review SET alternate_id = NULL WHERE alternate_id IN ({fallback})")
    op.execute(f"DELETE FROM review WHERE proposal_id IN ({fallback})")
    op.execute(f"UPDATE study_tour SET proposal_id = NULL WHERE proposal_id IN ({fallback})")
    op.execute("DELETE FROM proposal WHERE capacity IS NULL")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _proposal_capacity(False)
    op.drop_table("calibration")
    op.drop_table("text_vector")
