"""exchange date note

How an exchange's dates were read from its sources ("No date is given; the reporting year is
used.", "The June 2013 date comes from the photo caption.") was written into its description,
the text the matcher compares: provenance made unrelated exchanges alike and sat far from the
dates on the page. It now has a field of its own, ``exchange.date_note`` (optional text, as
``outcomes``). Rows stored before keep their descriptions as they are; importing the knowledge
base again moves its notes (data/exchanges.csv carries them in ``date_note``).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 15:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("date_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_column("date_note")
