"""an index on every foreign key

35 foreign keys had no index leading with their column: who made or last changed each record
(``created_by``, ``updated_by``), a record's institution, a tour's proposal, need, capacity and
countries, a veto's countries, an exchange's tour, a review's reviewer and alternate… PostgreSQL
indexes only the referenced side, so listing a record's children and deleting or re-keying the
parent (each delete checks every referencing table) read the whole child table. Each now has
``ix_<table>_<column>``, as the models declare (``index=True``). Indexes only: no row changes.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 17:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TRACKED = ("capacity", "commitment", "exchange", "institution", "need", "proposal", "study_tour")
COLUMNS = (
    *((table, column) for table in TRACKED for column in ("created_by", "updated_by")),
    ("audit_event", "user_id"),
    ("calibration", "created_by"),
    ("capacity", "institution"),
    ("commitment", "owner_institution"),
    ("commitment_update", "user_id"),
    ("exchange", "study_tour"),
    ("job", "created_by"),
    ("match_run", "created_by"),
    ("need", "institution"),
    ("proposal_comment", "author_id"),
    ("review", "alternate_id"),
    ("review", "reviewer_id"),
    ("study_tour", "capacity"),
    ("study_tour", "host_country"),
    ("study_tour", "need"),
    ("study_tour", "proposal_id"),
    ("study_tour", "visiting_country"),
    ("user", "country"),
    ("veto", "created_by"),
    ("veto", "provider"),
    ("veto", "recipient"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
