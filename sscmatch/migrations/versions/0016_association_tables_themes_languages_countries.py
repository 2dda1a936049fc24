"""association tables: themes, languages, the countries of an exchange by role

Issue 17, item 1. The many-valued facts of records become rows with foreign keys and indexes,
so that lists filter in SQL instead of by ``LIKE '%"x"%'`` over JSON text
(:mod:`sscmatch.relations`): ``capacity_theme``, ``capacity_language``, ``need_theme``,
``need_language``, ``exchange_theme``, ``exchange_language``, ``exchange_country`` (role
provider, recipient or participant; a foreign key to ``country``), ``exchange_partner`` (an
institution id or a name) and ``institution_language``.

Every existing record is carried across: the rows are filled from the records' lists by one
``INSERT … SELECT`` per table over ``json_each`` (SQLite) or ``json_array_elements_text``
(PostgreSQL), a value repeated in a list kept once at its first position. A country code an
exchange names that the ``country`` table lacks (none does in data the bundle validator let in)
is added with its code as its name rather than lost; ``sscmatch init-db`` names it from the
vocabulary.

Why the JSON list columns stay: they are the record's own values in its order, which the
bundle format (``;``-lists in CSV, arrays in JSON), the API's bodies, the audit snapshots and
the engine's encoder read and write as they are; the association rows are derived from them in
the same transaction by the one write path (the ORM's ``after_flush`` and the bundle's bulk
writer), so there is one truth and nothing filters on JSON text.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# (table, record table, value column, value length, the record's list column, role)
LISTS = (
    ("capacity_theme", "capacity", "theme", 300, "themes", None),
    ("capacity_language", "capacity", "language", 80, "languages", None),
    ("need_theme", "need", "theme", 300, "themes", None),
    ("need_language", "need", "language", 80, "languages", None),
    ("exchange_theme", "exchange", "theme", 300, "themes", None),
    ("exchange_language", "exchange", "language", 80, "languages", None),
    ("exchange_country", "exchange", "country", 3, "providers", "provider"),
    ("exchange_country", "exchange", "country", 3, "recipients", "recipient"),
    ("exchange_country", "exchange", "country", 3, "participants", "participant"),
    ("exchange_partner", "exchange", "partner", 300, "partners", None),
    ("institution_language", "institution", "language", 80, "languages", None),
)


def _create(table: str, record: str, value: str, length: int) -> None:
    country = table == "exchange_country"
    columns: list[sa.Column] = [  # type: ignore[type-arg]
        sa.Column(record, sa.String(length=80), nullable=False),
    ]
    if country:
        columns.append(sa.Column("role", sa.String(length=12), nullable=False))
    columns += [
        sa.Column(value, sa.String(length=length), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint([record], [f"{record}.id"], ondelete="CASCADE"),
    ]
    if country:
        columns.append(sa.ForeignKeyConstraint(["country"], ["country.code"]))
        columns.append(sa.PrimaryKeyConstraint(record, "role", value))
    else:
        columns.append(sa.PrimaryKeyConstraint(record, value))
    op.create_table(table, *columns, sqlite_with_rowid=False)
    lookup = [value, "role", record] if country else [value, record]
    op.create_index(f"ix_{table}_{value}", table, lookup, unique=False)


def _elements(dialect: str, column: str) -> tuple[str, str]:
    """A FROM item giving each element of ``r.<column>`` as ``j.value``, and the expression of
    its 0-based position in the list."""
    if dialect == "postgresql":
        elements = (
            f"json_array_elements_text(CAST(r.{column} AS json)) WITH ORDINALITY AS j(value, ord)"
        )
        return elements, "j.ord - 1"
    return f"json_each(r.{column}) AS j", "j.key"


def _fill(dialect: str) -> None:
    # Countries an exchange names but the country table lacks: added, not lost.
    for column in ("providers", "recipients", "participants"):
        elements, _position = _elements(dialect, column)
        op.execute(
            "INSERT INTO country (code, name, region, subregion, intermediate_region) "
            f"SELECT DISTINCT j.value, j.value, '', '', '' FROM exchange AS r, {elements} "
            "WHERE j.value NOT IN (SELECT code FROM country)"
        )
    for table, record, value, _length, column, role in LISTS:
        elements, position = _elements(dialect, column)
        role_column = ", role" if role else ""
        role_value = f", '{role}'" if role else ""
        op.execute(
            f"INSERT INTO {table} ({record}{role_column}, {value}, position) "
            f"SELECT r.id{role_value}, j.value, MIN({position}) FROM {record} AS r, {elements} "
            "GROUP BY r.id, j.value"
        )


def upgrade() -> None:
    created = set()
    for table, record, value, length, _column, _role in LISTS:
        if table not in created:
            _create(table, record, value, length)
            created.add(table)
    _fill(op.get_bind().dialect.name)


def downgrade() -> None:
    for table, _record, value in dict.fromkeys((t[0], t[1], t[2]) for t in LISTS):
        op.drop_index(f"ix_{table}_{value}", table_name=table)
        op.drop_table(table)
