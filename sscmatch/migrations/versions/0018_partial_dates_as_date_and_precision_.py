"""partial dates as a date column and a precision column

Issue 17, item 1. The nine partial dates of records (``2014``, ``2014-03``, ``2014-03-12``:
``exchange.start``/``end``, ``study_tour.start``/``end``, ``commitment.due``,
``capacity.available_from``/``available_to``, ``need.desired_from``/``desired_to``) were text;
each becomes a real ``date`` column ``<name>_date`` (the first day of the period, what queries
filter and sort by: a year filter is a date range, an index range) and ``<name>_precision``
(``year``, ``month`` or ``day``), read as one :class:`sscmatch.dates.PartialDate`, whose text is
exactly the old value (so bundles and audit snapshots do not change).

Every existing record is carried across: the text of each is parsed and written to its two
columns, then the text column goes. A text that is not a partial date (none is: every write path
validated it) stops the migration with the record named, rather than losing the value. The
downgrade writes the text back from the two columns.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 17:45:00
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

from sscmatch.dates import PartialDate

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# (table, the partial dates it holds); exchange.start is required and indexed.
PERIODS = (
    ("capacity", ("available_from", "available_to")),
    ("need", ("desired_from", "desired_to")),
    ("exchange", ("start", "end")),
    ("study_tour", ("start", "end")),
    ("commitment", ("due",)),
)
REQUIRED = {("exchange", "start")}
CHUNK = 5_000
SQLITE_BUMP = """
INSERT INTO data_change (id, changes, epoch) VALUES (1, 1, lower(hex(randomblob(16))))
ON CONFLICT (id) DO UPDATE SET changes = changes + 1;
"""


def _restore_sqlite_triggers(table: str) -> None:
    """Batch mode recreates a SQLite table without its triggers: the row triggers of migration
    0003 (same names and body) go back on it."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for event in ("insert", "update", "delete"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS data_change_{table}_{event} AFTER {event.upper()} "
            f'ON "{table}" BEGIN {SQLITE_BUMP} END'
        )


def _new_columns(name: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(f"{name}_date", sa.Date(), nullable=True),
        sa.Column(f"{name}_precision", sa.String(length=5), nullable=True),
    ]


def _convert(table: str, parse: Any, read: list[str]) -> None:
    """Rewrite every row of ``table``: ``parse(row)`` gives the values of its new columns."""
    conn = op.get_bind()
    source = sa.table(table, sa.column("id"), *(_typed(c) for c in read))
    rows = conn.execute(sa.select(*source.c)).mappings().all()
    if not rows:
        return
    values = [parse(row) for row in rows]
    target = sa.table(table, sa.column("id"), *(sa.column(k) for k in values[0] if k != "id"))
    update = (
        sa.update(target)
        .where(target.c.id == sa.bindparam("_id"))
        .values({k: sa.bindparam(k) for k in values[0] if k != "id"})
    )
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        conn.execute(
            update, [{**{k: v for k, v in p.items() if k != "id"}, "_id": p["id"]} for p in chunk]
        )
    if conn.dialect.name == "postgresql":
        # The updates queued the deferred data-change triggers of 0003; PostgreSQL alters no
        # table with pending trigger events, so they fire now (then are deferred again).
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        conn.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")


def _typed(name: str) -> sa.ColumnClause[Any]:
    return sa.column(name, sa.Date()) if name.endswith("_date") else sa.column(name)


def _periods(table: str, names: tuple[str, ...]) -> Any:
    def parse(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"id": row["id"]}
        for name in names:
            text = row[name]
            try:
                value = PartialDate.coerce(text)
            except ValueError as exc:  # the parser's reason: a form, a real day, a year bound
                raise RuntimeError(
                    f"{table} {row['id']!r}: {name} {text!r} is not a partial date "
                    f"(YYYY, YYYY-MM or YYYY-MM-DD, years 1900-2100: {exc}); correct it, then "
                    "upgrade again"
                ) from None
            out[f"{name}_date"] = None if value is None else value.first
            out[f"{name}_precision"] = None if value is None else value.precision
        return out

    return parse


def _texts(names: tuple[str, ...]) -> Any:
    def text(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"id": row["id"]}
        for name in names:
            first: date | None = row[f"{name}_date"]
            value = PartialDate.of(first, row[f"{name}_precision"])
            out[name] = None if value is None else str(value)
        return out

    return text


def _check_every_date() -> None:
    """Every stored date parsed before any table changes: one the rule refuses stops the upgrade
    with its record while the schema is still 0017's (SQLite changes tables outside the
    migration's transaction, so a refusal met halfway left columns that a second try met)."""
    for table, names in PERIODS:
        columns = ", ".join(f'"{name}"' for name in names)
        rows = op.get_bind().execute(sa.text(f'SELECT id, {columns} FROM "{table}"'))
        parse = _periods(table, names)
        for row in rows.mappings():
            parse(row)


def upgrade() -> None:
    _check_every_date()
    for table, names in PERIODS:
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                for column in _new_columns(name):
                    batch_op.add_column(column)
        _convert(table, _periods(table, names), list(names))
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                if (table, name) in REQUIRED:
                    batch_op.alter_column(f"{name}_date", existing_type=sa.Date(), nullable=False)
                    batch_op.alter_column(
                        f"{name}_precision", existing_type=sa.String(length=5), nullable=False
                    )
                    batch_op.drop_index(f"ix_{table}_{name}")
                    batch_op.create_index(f"ix_{table}_{name}_date", [f"{name}_date"])
                batch_op.drop_column(name)
        _restore_sqlite_triggers(table)


def downgrade() -> None:
    for table, names in reversed(PERIODS):
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                batch_op.add_column(sa.Column(name, sa.VARCHAR(), nullable=True))
        read = [f"{name}_{part}" for name in names for part in ("date", "precision")]
        _convert(table, _texts(names), read)
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                if (table, name) in REQUIRED:
                    batch_op.alter_column(name, existing_type=sa.VARCHAR(), nullable=False)
                    batch_op.drop_index(f"ix_{table}_{name}_date")
                    batch_op.create_index(f"ix_{table}_{name}", [name])
                batch_op.drop_column(f"{name}_date")
                batch_op.drop_column(f"{name}_precision")
        _restore_sqlite_triggers(table)
