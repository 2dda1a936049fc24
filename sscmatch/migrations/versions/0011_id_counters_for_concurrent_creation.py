"""id counters for concurrent creation

New records' readable ids (N-2026-0004, T-2026-0012, T-2026-0012-k03) were "the highest in use +
1", read then inserted, so two creations at the same moment chose the same id and the second
failed with a 500. Each id stem now has a counter row moved by one atomic UPDATE
(sscmatch.workflow.ids). Counters start from the ids already in use when first needed, so nothing
is filled in here.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'id_counter',
        sa.Column('stem', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('last', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('stem'),
    )


def downgrade() -> None:
    op.drop_table('id_counter')
