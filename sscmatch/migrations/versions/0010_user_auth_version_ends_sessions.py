"""user auth_version ends sessions

``user.auth_version`` moves when the account's sessions must end (sign-out, a new password, an
admin's reset, a change of role or deactivation); a session carries the value it signed in with
and is refused once it differs, so a copied session cookie dies with the session it was copied
from. Sessions signed in before this revision carry no value and must sign in again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch mode: recreating "user" on SQLite would drop a table that other tables' foreign
    # keys point at. SQLite adds a column with a constant default in place.
    op.add_column('user', sa.Column('auth_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('user', 'auth_version')
