"""sign-in throttle counters shared by workers; lockout columns leave user

Failed sign-ins were counted on the user row (read, add one, write back in Python), so parallel
attempts on several workers counted fewer failures than were tried, and only existing accounts
were ever locked (which told who has an account). The counters move to ``sign_in_throttle``, one
row per e-mail (existing or not), client address or device, moved by one atomic SQL statement
(see ``sscmatch.workflow.throttle``). Running lockouts are not carried over: they last minutes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:01:09.194411
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_throttle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_throttle_window_start'), ['window_start'], unique=False)

    # Not batch mode: recreating "user" on SQLite would drop a table that other tables' foreign
    # keys point at (refused while foreign keys are on). SQLite (3.35+) drops a column in place.
    op.drop_column('user', 'locked_until')
    op.drop_column('user', 'failed_logins')


def downgrade() -> None:
    op.add_column('user', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('user', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_throttle_window_start'))

    op.drop_table('sign_in_throttle')
