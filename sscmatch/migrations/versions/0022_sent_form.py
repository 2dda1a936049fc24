"""sent form

A page's form that makes a change (a new need or capacity, a commitment, a comment, a match run,
a calibration, an import, a user) carries a one-time key; ``sent_form`` keeps the keys sent, in
the transaction of the change, so that the same form sent twice (a double click, the browser's
back and send again, two sendings at the same moment) makes its change once and the second
sending is shown what the first did (sscmatch.workflow.sent_forms).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_form",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("location", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("sent_form", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_form_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_form", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_form_at"))
    op.drop_table("sent_form")
