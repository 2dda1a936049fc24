"""one veto per pair of countries

A veto excludes a provider → recipient pair from matching; nothing but a look before the insert
kept a pair from being vetoed twice (two secretaries at the same moment, an import, plain SQL),
and lifting a veto deletes its row: the pair stayed vetoed by the other one, while the page said
it was lifted. A unique index on (provider, recipient) now refuses the second (a second veto at
the same moment is told it exists already); it also serves what the index on ``provider``
alone served (0024), which goes.

A pair vetoed twice already stops the upgrade, naming the vetoes: which reason stands is the
secretariat's choice (lift the other one), not the migration's. The database stays at 0025.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    twice = op.get_bind().execute(
        sa.text(
            "SELECT provider, recipient, COUNT(*) FROM veto GROUP BY provider, recipient "
            "HAVING COUNT(*) > 1 ORDER BY provider, recipient"
        )
    )
    found = [f"{provider} -> {recipient}: {count} vetoes" for provider, recipient, count in twice]
    if found:
        raise RuntimeError(
            "pairs vetoed more than once; lift all but one of each, then upgrade again:\n"
            + "\n".join(found)
        )
    op.create_index("ix_veto_pair", "veto", ["provider", "recipient"], unique=True)
    op.drop_index("ix_veto_provider", table_name="veto")


def downgrade() -> None:
    op.create_index("ix_veto_provider", "veto", ["provider"])
    op.drop_index("ix_veto_pair", table_name="veto")
