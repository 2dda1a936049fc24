"""audit event note code

What the service says of a change (an acceptance without the provider's confirmation, a pair
vetoed, an alternate chosen, a decision reverted, a proposal superseded by another's acceptance)
was written into ``audit_event.note`` in English, in front of the reviewer's own words. It is now
a message code with its parameters in ``note_code`` (JSON text), said in the reader's language
when shown, and ``note`` keeps the person's words as typed. Rows written before are left as they
are: the pages recognise the notes of their known shapes (``sscmatch.workflow.proposals.notes``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sscmatch.columns

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_code", sscmatch.columns.JSONDict(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("note_code")
