"""review effects, proposal comments, notices

Issue 14: a decision keeps what it changed (``review.effects``) and when it was reverted
(``review.reverted_at``), so that the secretariat can revert it exactly; remarks on a proposal
(``proposal_comment``); what arrived for a user, shown in the app and sent in the daily digest
(``notice``). Nothing to carry across: decisions made before this revision have no effects
recorded (they cannot be reverted; the page says so), and nobody has comments or notices yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:05:18
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from sscmatch.columns import JSONDict

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("params", JSONDict(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("emailed_on", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notice_created_at", "notice", ["created_at"], unique=False)
    op.create_index("ix_notice_user_read", "notice", ["user_id", "read_at"], unique=False)
    op.create_table(
        "proposal_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_proposal_comment_proposal_id", "proposal_comment", ["proposal_id"], unique=False
    )
    # Plain ADD COLUMN (no batch copy of the table on SQLite).
    op.add_column("review", sa.Column("effects", JSONDict(), nullable=True))
    op.add_column(
        "review", sa.Column("reverted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("reverted_at")
        batch_op.drop_column("effects")
    op.drop_index("ix_proposal_comment_proposal_id", table_name="proposal_comment")
    op.drop_table("proposal_comment")
    op.drop_index("ix_notice_user_read", table_name="notice")
    op.drop_index("ix_notice_created_at", table_name="notice")
    op.drop_table("notice")
