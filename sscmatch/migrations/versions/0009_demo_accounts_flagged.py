"""demo accounts flagged

``user.demo`` marks the accounts whose passwords are published (``sscmatch demo-users`` in demo
mode); they sign in, keep a session or use an API token only while the app runs in demo mode.
Existing demo accounts (their e-mails end with ``@demo.sscmatch``) are flagged here, so a
database prepared by ``scripts/run`` and served without demo mode lets none of them in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch mode: recreating "user" on SQLite would drop a table that other tables' foreign
    # keys point at. SQLite adds a column with a constant default in place.
    op.add_column('user', sa.Column('demo', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("""UPDATE "user" SET demo = true WHERE email LIKE '%@demo.sscmatch'"""))


def downgrade() -> None:
    op.drop_column('user', 'demo')
