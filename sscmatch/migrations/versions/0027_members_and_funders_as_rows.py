"""members and funders as rows with foreign keys

Two lists held record keys in JSON text alone: an international or regional body's member
countries (``institution.members``) and the institutions suggested or agreed to fund a study tour
(``study_tour.funders``). Nothing kept a country or an institution they named from being deleted
or re-keyed, nor a key no table holds from being written by plain SQL or an import. They become
association tables as the other lists (:mod:`sscmatch.relations`, migration 0016), with a
foreign key to what they name: ``institution_member`` (institution, country → ``country``,
position) and ``study_tour_funder`` (study tour, institution → ``institution``, position), each
with an index leading with the value (the parent's lookups) and the check on ``position`` of
0025. The JSON lists stay the records' own values in their order, and the rows are written from
them by the same write paths.

Every existing record is carried across, a value repeated in a list kept once at its first
position. A member country the ``country`` table lacks is added with its code as its name, as
0016 did (``sscmatch init-db`` names it from the vocabulary); a funder no institution has stops
the upgrade, naming the tour and the id (remove it from the tour, then upgrade again): an
institution cannot be made up, and dropping it would lose what the tour says.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# (table, record table, value column, value length, the record's list, what the value names)
LISTS = (
    ("institution_member", "institution", "country", 3, "members", "country.code"),
    ("study_tour_funder", "study_tour", "institution", 80, "funders", "institution.id"),
)


def _elements(dialect: str, column: str) -> tuple[str, str]:
    """A FROM item giving each element of ``r.<column>`` as ``j.value``, and the expression of
    its 0-based position in the list (as 0016)."""
    if dialect == "postgresql":
        elements = (
            f"json_array_elements_text(CAST(r.{column} AS json)) WITH ORDINALITY AS j(value, ord)"
        )
        return elements, "j.ord - 1"
    return f"json_each(r.{column}) AS j", "j.key"


def _unknown_funders(dialect: str) -> list[str]:
    elements, _position = _elements(dialect, "funders")
    rows = op.get_bind().execute(
        sa.text(
            f"SELECT DISTINCT r.id, j.value FROM study_tour AS r, {elements} "
            "WHERE j.value NOT IN (SELECT id FROM institution) ORDER BY r.id, j.value"
        )
    )
    return [f"study tour {tour}: funder {funder!r}" for tour, funder in rows]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    unknown = _unknown_funders(dialect)
    if unknown:
        raise RuntimeError(
            "funders no institution has; remove them from the tours, then upgrade again:\n"
            + "\n".join(unknown)
        )
    members, _position = _elements(dialect, "members")
    op.execute(
        "INSERT INTO country (code, name, region, subregion, intermediate_region) "
        f"SELECT DISTINCT j.value, j.value, '', '', '' FROM institution AS r, {members} "
        "WHERE j.value NOT IN (SELECT code FROM country)"
    )
    for table, record, value, length, column, target in LISTS:
        op.create_table(
            table,
            sa.Column(record, sa.String(length=80), nullable=False),
            sa.Column(value, sa.String(length=length), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([record], [f"{record}.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint([value], [target]),
            sa.PrimaryKeyConstraint(record, value),
            sa.CheckConstraint('"position" >= 0', name=f"ck_{table}_position"),
            sqlite_with_rowid=False,
        )
        op.create_index(f"ix_{table}_{value}", table, [value, record], unique=False)
        elements, position = _elements(dialect, column)
        op.execute(
            f"INSERT INTO {table} ({record}, {value}, position) "
            f"SELECT r.id, j.value, MIN({position}) FROM {record} AS r, {elements} "
            "GROUP BY r.id, j.value"
        )


def downgrade() -> None:
    for table, _record, value, _length, _column, _target in reversed(LISTS):
        op.drop_index(f"ix_{table}_{value}", table_name=table)
        op.drop_table(table)
