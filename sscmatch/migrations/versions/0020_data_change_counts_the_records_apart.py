"""data change counts the records apart

The network, the charts and the gaps are computed from countries' own records only
(institutions, capacities, needs, exchanges, themes), yet were kept under the version of every
tracked table: a proposal decided or a comment on a study tour recounted them (1.5 s at the
benchmark's scale). A second counter, ``records``, moves only with those tables.

It is a column of the same row, not a second row: on PostgreSQL the row is locked last, at
commit, and two rows could be taken in opposite orders by two transactions (a deadlock). The
PostgreSQL function bumps each counter once per transaction (``last_txid``, ``records_txid``);
on SQLite a second trigger per table and event bumps ``records``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# sscmatch.db.RECORD_TABLES at this revision.
RECORDS = ("institution", "capacity", "need", "exchange", "theme")

# ``changes`` is 0 if this trigger makes the row: the trigger of 0003 counts the same write.
SQLITE_BUMP = """
INSERT INTO data_change (id, changes, epoch, records)
VALUES (1, 0, lower(hex(randomblob(16))), 1)
ON CONFLICT (id) DO UPDATE SET records = records + 1;
"""

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION sscmatch_bump_data_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    is_record boolean := TG_TABLE_NAME IN ({records});
BEGIN
    INSERT INTO data_change (id, changes, epoch, last_txid, records, records_txid)
    VALUES (1, 1, md5(random()::text || clock_timestamp()::text), txid_current(),
            CASE WHEN is_record THEN 1 ELSE 0 END,
            CASE WHEN is_record THEN txid_current() END)
    ON CONFLICT (id) DO UPDATE
        SET changes = data_change.changes
                + (data_change.last_txid IS DISTINCT FROM EXCLUDED.last_txid)::int,
            last_txid = EXCLUDED.last_txid,
            records = data_change.records + (is_record
                AND data_change.records_txid IS DISTINCT FROM EXCLUDED.last_txid)::int,
            records_txid = CASE WHEN is_record THEN EXCLUDED.last_txid
                ELSE data_change.records_txid END
        WHERE data_change.last_txid IS DISTINCT FROM EXCLUDED.last_txid
           OR (is_record AND data_change.records_txid IS DISTINCT FROM EXCLUDED.last_txid);
    RETURN NULL;
END
$$
""".replace("{records}", ", ".join(f"'{t}'" for t in RECORDS))

# Migration 0003's function, for the downgrade.
POSTGRES_FUNCTION_0003 = """
CREATE OR REPLACE FUNCTION sscmatch_bump_data_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_change (id, changes, epoch, last_txid)
    VALUES (1, 1, md5(random()::text || clock_timestamp()::text), txid_current())
    ON CONFLICT (id) DO UPDATE
        SET changes = data_change.changes + 1, last_txid = EXCLUDED.last_txid
        WHERE data_change.last_txid IS DISTINCT FROM EXCLUDED.last_txid;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy on SQLite: the triggers of 0003 name the table).
    op.add_column(
        "data_change", sa.Column("records", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.add_column("data_change", sa.Column("records_txid", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        return
    for table in RECORDS:
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER records_change_{table}_{event} AFTER {event.upper()} "
                f'ON "{table}" BEGIN {SQLITE_BUMP} END'
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION_0003)
    else:
        for table in RECORDS:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS records_change_{table}_{event}")
    op.drop_column("data_change", "records_txid")
    op.drop_column("data_change", "records")
