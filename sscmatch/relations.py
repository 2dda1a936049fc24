"""Association tables: the many-valued facts of records as rows, for SQL to filter and count.

- ``capacity_theme``, ``need_theme``, ``exchange_theme``: a theme of the record;
- ``capacity_language``, ``need_language``, ``exchange_language``, ``institution_language``: a
  working language of the record;
- ``exchange_country``: a country of an exchange in a role (provider, recipient, participant),
  with a foreign key to ``country`` as well;
- ``exchange_partner``: a partner of an exchange (an institution id or a name);
- ``institution_member``: a member country of an international or regional body, and
  ``study_tour_funder``: an institution suggested or agreed to fund a tour, each with a foreign
  key to what it names (migration 0027): a country or institution that a body or a tour names
  cannot be deleted or re-keyed from under it, and a code no table holds cannot be stored.

Each row keeps the ``position`` of its value in the record's list (the first one when a list
repeats a value), and each table has an index on the value with the record, so "records with
theme X" or "exchanges of country Y as provider" is an index range, never a scan of JSON text.
Themes and languages have no foreign key: the built-in vocabularies (``data/vocab/``) are files,
not tables (a bundle's own themes only are in ``theme``); partners may be names.

**One truth.** The record's JSON list column (``Need.themes``, ``Exchange.providers``…) is what
the record *says* (forms, the API, bundles, audit snapshots and the engine read it, in its order);
these rows are derived from it, in the same transaction, by the two ways records are written:

- the ORM: :func:`sync_flushed` runs after every flush (``sscmatch.db`` registers it) and writes
  the rows of each record inserted, or whose list changed;
- the bulk writer of bundle imports (``sscmatch.bundle.write``), which writes around the ORM:
  :func:`write_rows` for new records and :func:`update` for changed ones, with the same
  :func:`rows_of`.

Deleting a record deletes its rows (``ON DELETE CASCADE``). A restore copies them from the backup
like any table. :func:`mismatches` lists every record whose rows differ from its lists (tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    false,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes
from sqlalchemy.schema import SchemaItem
from sqlmodel import SQLModel

from sscmatch.enums import EXCHANGE_ROLES

ROLES = EXCHANGE_ROLES
"""The roles of ``exchange_country``, as the bundle's columns name them in the plural."""

CHUNK = 5_000

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Relation:
    """One list field of a record kept as rows of ``table``: ``record`` (the record table, also
    the name of the column that references it), ``field`` (the list attribute and column),
    ``value`` (the column holding each element) and, for ``exchange_country``, the ``role``."""

    table: Table
    record: str
    field: str
    value: str
    role: str | None = None


def _table(
    record: str,
    suffix: str,
    value: str,
    length: int,
    *,
    country: bool = False,
    references: str | None = None,
) -> Table:
    """The association table ``<record>_<suffix>``; ``country``: an exchange's countries by role;
    ``references``: the key the values are (``"country.code"``), a foreign key."""
    name = f"{record}_{suffix}"
    role: list[Column[Any]] = [Column("role", String(12), primary_key=True)] if country else []
    if country:
        references, length = "country.code", 3
    value_column = (
        Column(value, String(length), ForeignKey(references), primary_key=True)
        if references
        else Column(value, String(length), primary_key=True)
    )
    columns: list[SchemaItem] = [
        Column(
            record, String(80), ForeignKey(f"{record}.id", ondelete="CASCADE"), primary_key=True
        ),
        *role,
        value_column,
        Column("position", Integer, nullable=False),
    ]
    lookup = [value, "role", record] if country else [value, record]
    # WITHOUT ROWID on SQLite: the rows live in their primary key's tree, one tree less to write.
    return Table(
        name,
        SQLModel.metadata,
        *columns,
        Index(f"ix_{name}_{value}", *lookup),
        sqlite_with_rowid=False,
    )


capacity_theme = _table("capacity", "theme", "theme", 300)
capacity_language = _table("capacity", "language", "language", 80)
need_theme = _table("need", "theme", "theme", 300)
need_language = _table("need", "language", "language", 80)
exchange_theme = _table("exchange", "theme", "theme", 300)
exchange_language = _table("exchange", "language", "language", 80)
exchange_country = _table("exchange", "country", "country", 3, country=True)
exchange_partner = _table("exchange", "partner", "partner", 300)
institution_language = _table("institution", "language", "language", 80)
institution_member = _table("institution", "member", "country", 3, references="country.code")
study_tour_funder = _table("study_tour", "funder", "institution", 80, references="institution.id")

RELATIONS: dict[str, tuple[Relation, ...]] = {
    "capacity": (
        Relation(capacity_theme, "capacity", "themes", "theme"),
        Relation(capacity_language, "capacity", "languages", "language"),
    ),
    "need": (
        Relation(need_theme, "need", "themes", "theme"),
        Relation(need_language, "need", "languages", "language"),
    ),
    "exchange": (
        Relation(exchange_theme, "exchange", "themes", "theme"),
        Relation(exchange_language, "exchange", "languages", "language"),
        Relation(exchange_country, "exchange", "providers", "country", "provider"),
        Relation(exchange_country, "exchange", "recipients", "country", "recipient"),
        Relation(exchange_country, "exchange", "participants", "country", "participant"),
        Relation(exchange_partner, "exchange", "partners", "partner"),
    ),
    "institution": (
        Relation(institution_language, "institution", "languages", "language"),
        Relation(institution_member, "institution", "members", "country"),
    ),
    "study_tour": (Relation(study_tour_funder, "study_tour", "funders", "institution"),),
}
"""Per record table, its list fields kept as rows."""

TABLES: tuple[Table, ...] = tuple(
    dict.fromkeys(r.table for relations in RELATIONS.values() for r in relations)
)


def _relation(model: Any, field: str, role: str | None = None) -> Relation:
    for relation in RELATIONS[model.__tablename__]:
        if relation.field == field and (role is None or relation.role == role):
            return relation
    raise KeyError(f"{model.__tablename__}.{field} is not kept as rows")


# --------------------------------------------------------------------------- queries


def having(model: Any, field: str, values: Iterable[str]) -> ColumnElement[bool]:
    """``model``'s records whose list ``field`` holds any of ``values``, as a condition on
    ``model.id`` (an ``IN`` over the association table's index): ``having(Need, "themes",
    family)``, ``having(Exchange, "providers", [code])``."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return false()
    relation = _relation(model, field)
    table = relation.table
    found = select(table.c[relation.record]).where(table.c[relation.value].in_(wanted))
    if relation.role is not None:
        found = found.where(table.c.role == relation.role)
    return model.__table__.c.id.in_(found)  # type: ignore[no-any-return]


def with_country(
    model: Any, codes: Iterable[str], roles: Sequence[str] = ROLES
) -> ColumnElement[bool]:
    """Exchanges with one of ``codes`` in one of ``roles`` (any role by default)."""
    wanted = list(dict.fromkeys(codes))
    if not wanted or not roles:
        return false()
    found = select(exchange_country.c.exchange).where(exchange_country.c.country.in_(wanted))
    if set(roles) != set(ROLES):
        found = found.where(exchange_country.c.role.in_(list(roles)))
    return model.__table__.c.id.in_(found)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- rows


def _positions(values: Iterable[Any]) -> dict[str, int]:
    first: dict[str, int] = {}
    for i, value in enumerate(values or ()):
        first.setdefault(value, i)
    return first


def rows_of(record_table: str, records: Iterable[Mapping[str, Any]]) -> dict[Table, list[Row]]:
    """The association rows of ``records`` (mappings with ``id`` and the list fields; a field
    missing from a mapping contributes nothing), per table, as tuples in the table's column
    order (record, [role,] value, position)."""
    out: dict[Table, list[Row]] = {}
    relations = RELATIONS.get(record_table, ())
    for relation in relations:
        out.setdefault(relation.table, [])
    for relation in relations:
        rows = out[relation.table]
        add = rows.append
        field, role = relation.field, relation.role
        for values in records:
            if field not in values:
                continue
            items = values[field]
            if not items:
                continue
            record_id = values["id"]
            if len(items) == 1:  # most lists: no repeat to look for
                add((record_id, items[0], 0) if role is None else (record_id, role, items[0], 0))
                continue
            for value, position in _positions(items).items():
                add(
                    (record_id, value, position)
                    if role is None
                    else (record_id, role, value, position)
                )
    return out


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_rows(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (tuples in column order) into ``table``: ``COPY`` on PostgreSQL
    (psycopg 3), one ``executemany`` of the driver elsewhere."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        return
    if conn.dialect.paramstyle == "qmark":
        quote = conn.dialect.identifier_preparer.quote
        sql_text = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        conn.exec_driver_sql(sql_text, list(rows))
        return
    conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


def update(conn: Connection, record_table: str, records: Sequence[Mapping[str, Any]]) -> None:
    """Bring the rows of ``records`` (changed records, with the list fields they carry) to what
    their lists now say, writing only the rows that differ from those stored: a value that left a
    list loses its row, a new one gets one, a moved one its new position. A record whose lists
    did not change costs one read (a re-import that edits titles writes no row here), where
    deleting and inserting every row again maintained each index twice and, on PostgreSQL,
    checked each foreign key again. The rows stored are read, not derived from the stored
    lists, so rows out of step with their lists are put right as well."""
    if record_table not in RELATIONS or not records:
        return
    fields = {r.field for r in RELATIONS[record_table]} & set(records[0])
    ids = [r["id"] for r in records]
    for table, rows in rows_of(record_table, records).items():
        relations = [r for r in RELATIONS[record_table] if r.table is table and r.field in fields]
        if not relations:
            continue
        stored = _stored_rows(conn, relations, ids)  # key (all but position): position
        added, moved = [], []
        for row in rows:
            position = stored.pop(row[:-1], None)
            if position is None:
                added.append(row)
            elif position != row[-1]:
                moved.append(row)
        keys = [c.name for c in table.columns][:-1]
        match = and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
        if stored:  # what is left: values no longer in the lists
            gone = [dict(zip([f"k_{k}" for k in keys], key, strict=True)) for key in stored]
            for chunk in _chunks(gone):
                conn.execute(delete(table).where(match), list(chunk))
        if moved:
            new_position = table.update().where(match).values(position=bindparam("p"))
            params = [
                {**dict(zip([f"k_{k}" for k in keys], row[:-1], strict=True)), "p": row[-1]}
                for row in moved
            ]
            for chunk in _chunks(params):
                conn.execute(new_position, list(chunk))
        write_rows(conn, table, added)


def _stored_rows(
    conn: Connection, relations: Sequence[Relation], ids: Sequence[str]
) -> dict[Row, int]:
    """The stored rows of records ``ids`` in the relations' one table (of their roles only)."""
    table = relations[0].table
    found: dict[Row, int] = {}
    for wanted in id_chunks(conn, table.c[relations[0].record], ids):
        query = select(*table.columns).where(wanted)
        if relations[0].role is not None:
            query = query.where(table.c.role.in_([r.role for r in relations]))
        for row in conn.execute(query):
            found[tuple(row[:-1])] = row[-1]
    return found


def id_chunks(
    conn: Connection, column: ColumnElement[Any], ids: Sequence[str]
) -> Iterator[ColumnElement[bool]]:
    """Conditions ``column`` among ``ids``, a chunk of them each: 20,000 ids as one array
    parameter on PostgreSQL (psycopg parses thousands of placeholders slowly), 2,000 in an
    ``IN (…)`` elsewhere (well under SQLite's variable limit)."""
    if conn.dialect.name == "postgresql":
        for chunk in _chunks(ids, 20_000):
            yield column == any_(bindparam("ids", list(chunk), type_=ARRAY(String)))
    else:
        for chunk in _chunks(ids, 2_000):
            yield column.in_(chunk)


# --------------------------------------------------------------------------- the ORM path


def sync_flushed(session: OrmSession) -> None:
    """After a flush: the rows of every record inserted, and of every list field changed.

    Runs in ``after_flush``, where ``session.new`` and ``session.dirty`` and the attributes'
    history still describe what the flush wrote."""
    inserted: dict[str, list[dict[str, Any]]] = {}
    changed: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for obj in session.new:
        name = getattr(obj, "__tablename__", None)
        if name in RELATIONS:
            values = {r.field: getattr(obj, r.field) for r in RELATIONS[name]}
            inserted.setdefault(name, []).append({"id": obj.id, **values})
    for obj in session.dirty:
        name = getattr(obj, "__tablename__", None)
        if name not in RELATIONS or obj in session.deleted:
            continue
        state = attributes.instance_state(obj)
        fields = tuple(
            dict.fromkeys(
                r.field for r in RELATIONS[name] if state.attrs[r.field].history.has_changes()
            )
        )
        if fields:
            values = {f: getattr(obj, f) for f in fields}
            changed.setdefault((name, fields), []).append({"id": obj.id, **values})
    if not inserted and not changed:
        return
    conn = session.connection()
    for name, records in inserted.items():
        for table, rows in rows_of(name, records).items():
            write_rows(conn, table, rows)
    for (name, _fields), records in changed.items():
        update(conn, name, records)


# --------------------------------------------------------------------------- checks


def stored(conn: Connection, record_table: str) -> dict[str, dict[str, list[str]]]:
    """Per record id, its list fields as the association rows say (ordered by position)."""
    out: dict[str, dict[str, list[str]]] = {}
    for relation in RELATIONS[record_table]:
        table = relation.table
        query = select(table.c[relation.record], table.c[relation.value]).order_by(
            table.c[relation.record], table.c.position
        )
        if relation.role is not None:
            query = query.where(table.c.role == relation.role)
        for record_id, value in conn.execute(query):
            out.setdefault(record_id, {}).setdefault(relation.field, []).append(value)
    return out


def mismatches(conn: Connection) -> list[str]:
    """Every record whose association rows differ from its lists (``table id field``); [] when
    the rows are in step with the records."""
    problems = []
    for name, relations in RELATIONS.items():
        record_table = SQLModel.metadata.tables[name]
        fields = [r.field for r in relations]
        rows = stored(conn, name)
        seen = set()
        for row in conn.execute(select(record_table.c.id, *(record_table.c[f] for f in fields))):
            seen.add(row[0])
            have = rows.get(row[0], {})
            for field, values in zip(fields, row[1:], strict=True):
                if list(_positions(values)) != have.get(field, []):
                    problems.append(f"{name} {row[0]} {field}")
        problems.extend(f"{name} {orphan} (no record)" for orphan in set(rows) - seen)
    return sorted(problems)
