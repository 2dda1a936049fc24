"""data change counter tracks vetoes and themes

The matching corpus is built from the tracked tables and from two more: ``veto`` (pairs the
secretariat ruled out) and ``theme`` (themes added beside the vocabulary's). A prepared corpus
is now kept between requests under the change version (``matchruns.prepared``), so a change of
either must move the version too: the same triggers as migration 0003 on both tables (the
PostgreSQL function of 0003 is reused).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 21:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

TRACKED = ("veto", "theme")

SQLITE_BUMP = """
INSERT INTO data_change (id, changes, epoch) VALUES (1, 1, lower(hex(randomblob(16))))
ON CONFLICT (id) DO UPDATE SET changes = changes + 1;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRACKED:
            op.execute(
                f'CREATE CONSTRAINT TRIGGER data_change_{table} '
                f'AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION sscmatch_bump_data_change()"
            )
            op.execute(
                f'CREATE TRIGGER data_change_truncate_{table} AFTER TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION sscmatch_bump_data_change()"
            )
        return
    for table in TRACKED:
        for event in ("insert", "update", "delete"):
            op.execute(
                f'CREATE TRIGGER data_change_{table}_{event} AFTER {event.upper()} ON "{table}" '
                f"BEGIN {SQLITE_BUMP} END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRACKED:
            op.execute(f'DROP TRIGGER IF EXISTS data_change_{table} ON "{table}"')
            op.execute(f'DROP TRIGGER IF EXISTS data_change_truncate_{table} ON "{table}"')
        return
    for table in TRACKED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS data_change_{table}_{event}")
