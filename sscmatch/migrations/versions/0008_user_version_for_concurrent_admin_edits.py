"""user version for concurrent admin edits

Users join the rows whose ``version`` is SQLAlchemy's ``version_id_col`` (sscmatch.db): two admins
editing one account at once can no longer both succeed with the later silently winning (the edit
form used to compare a digest of the fields in Python, then write). Existing users start at 1.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch mode: recreating "user" on SQLite would drop a table that other tables' foreign
    # keys point at. SQLite adds a column with a constant default in place.
    op.add_column('user', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    op.drop_column('user', 'version')
