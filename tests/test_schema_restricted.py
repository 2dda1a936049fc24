"""Every value the domain restricts is refused by the database itself, on SQLite and PostgreSQL,
so that a write going around the use cases (plain SQL, the bulk writer of imports, a migration)
cannot store it either; and every value the domain allows is let through.

The walk is over the migrated schema's columns, not over a list of constraints: every column of
every table named like an enumeration (``status``, ``role``, ``modality``, ``maturity``,
``priority``, ``direction``, ``constituency``), every language column, every partial date's
precision and day, every number (counts, positions, versions, a score). The values expected come
from where the domain declares them (:mod:`sscmatch.enums`, the vocabulary's languages, the
years of :mod:`sscmatch.dates`), not from the constraints under test. One row per table is
written with plain SQL, then each column is set, by an UPDATE in a savepoint, to values it must
refuse and values it must take."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, LargeBinary, Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from sscmatch import enums
from sscmatch.columns import JSONDict, JSONList
from sscmatch.dates import MAX_YEAR, MIN_YEAR
from sscmatch.db import make_engine
from sscmatch.vocab import INTERFACE_LANGUAGES, load_vocabulary

ENUMERATED = {
    ("capacity", "status"): enums.CAPACITY_STATUSES,
    ("capacity", "maturity"): enums.MATURITIES,
    ("need", "status"): enums.NEED_STATUSES,
    ("need", "priority"): enums.PRIORITIES,
    ("exchange", "modality"): enums.MODALITIES,
    ("exchange", "direction"): enums.DIRECTIONS,
    ("proposal", "status"): enums.PROPOSAL_STATUSES,
    ("study_tour", "status"): enums.TOUR_STATUSES,
    ("study_tour", "modality"): enums.TOUR_MODALITIES,
    ("commitment", "status"): enums.COMMITMENT_STATUSES,
    ("commitment_update", "status"): enums.COMMITMENT_STATUSES,
    ("institution", "constituency"): enums.CONSTITUENCIES,
    ("user", "role"): enums.ROLES,
    ("user", "constituency"): enums.CONSTITUENCIES,
    ("user", "language"): ("", *INTERFACE_LANGUAGES),  # "": each browser's language
    ("exchange_country", "role"): enums.EXCHANGE_ROLES,
}
ENUMERATION_NAMES = {"status", "role", "modality", "maturity", "priority", "direction"}
ENUMERATION_NAMES |= {"constituency", "language"}
# Named like an enumeration, not one of the domain's: the states of the service's own background
# work, written by its workers alone (sscmatch.workflow.jobs, matchruns, calibrations).
BOOKKEEPING = {("job", "status"), ("match_run", "status"), ("calibration", "status")}
AT_LEAST_ONE = {"version", "rank", "top_k", "window", "max_attempts"}
NOT_VALUES = ("nonsense", "", "Draft")


def _first_value(table: Table, column: Any, built: dict[str, dict[str, Any]]) -> Any:
    """A value the column takes: the parent row's key, the enumeration's first value, or one of
    the column's type."""
    for fk in column.foreign_keys:
        return built[fk.column.table.name][fk.column.name]
    if (table.name, column.name) in ENUMERATED:
        return ENUMERATED[table.name, column.name][-1]
    kind = column.type
    if column.name == "language":
        return "es"
    if column.name.endswith("_precision"):
        return "day"
    if isinstance(kind, JSONList):
        return []
    if isinstance(kind, JSONDict):
        return {}
    if isinstance(kind, TypeDecorator):  # timezone-aware moments, strings of any length
        kind = kind.impl
    if isinstance(kind, Date):
        return date(2000, 1, 1)
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float):
        return 0.5
    if isinstance(kind, LargeBinary):
        return b"x"
    return f"{table.name[:3]}-1"


def _one_row_each(conn: Connection) -> dict[str, dict[str, Any]]:
    """A row of every table (the one there already, e.g. a country), parents first."""
    built: dict[str, dict[str, Any]] = {}
    for table in SQLModel.metadata.sorted_tables:
        there = conn.execute(select(table).limit(1)).mappings().first()
        if there is None:
            row = {c.name: _first_value(table, c, built) for c in table.columns}
            conn.execute(table.insert().values(row))
            there = conn.execute(select(table).limit(1)).mappings().one()
        built[table.name] = dict(there)
    return built


def _takes(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> bool:
    """Does the database let ``values`` into ``table``'s row ``key``? (Nothing is kept.)"""
    where = [table.c[name] == value for name, value in key.items()]
    step = conn.begin_nested()
    try:
        conn.execute(table.update().where(*where).values(values))
    except IntegrityError:
        step.rollback()
        return False
    step.rollback()
    return True


def _trials(table: Table) -> Iterator[tuple[dict[str, Any], bool]]:
    """(values to write, whether the domain allows them) for each restricted column of
    ``table``; a column the walk cannot place is an error."""
    for column in table.columns:
        name = column.name
        if column.primary_key and name not in ENUMERATION_NAMES:  # ids (a link's role is not)
            continue
        if (table.name, name) in BOOKKEEPING or column.foreign_keys:
            continue
        if (table.name, name) in ENUMERATED:
            allowed = ENUMERATED[table.name, name]
            yield from (({name: v}, True) for v in allowed)
            yield from (({name: v}, False) for v in NOT_VALUES if v not in allowed)
        elif name in ENUMERATION_NAMES and name != "language":
            raise AssertionError(f"{table.name}.{name}: which values does the domain allow?")
        elif name == "language":
            yield from (({name: v}, True) for v in ("es", "fil"))
            yield from (({name: v}, False) for v in ("ES", "e", "spanish", "e1", "", "es "))
        elif name.endswith("_precision"):
            day = name.removesuffix("_precision") + "_date"
            yield from (({name: v}, True) for v in enums.DATE_PRECISIONS)
            yield from (({name: v}, False) for v in ("week", "", "Day"))
            yield {name: None}, False  # a day without its precision
            yield {day: None}, False  # a precision without its day
            if column.nullable:
                yield {name: None, day: None}, True
        elif isinstance(column.type, Date):
            yield from (({name: d}, True) for d in (date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)))
            yield {name: date(MIN_YEAR - 1, 12, 31)}, False
            yield {name: date(MAX_YEAR + 1, 1, 1)}, False
        elif isinstance(column.type, Float):
            yield from (({name: v}, True) for v in (0.0, 1.0))
            yield from (({name: v}, False) for v in (-0.01, 1.01))
        elif isinstance(column.type, Integer):
            least = 1 if name in AT_LEAST_ONE else 0
            yield {name: least}, True
            yield {name: least - 1}, False


@pytest.fixture
def conn(database_url: str) -> Iterator[Connection]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        walk = connection.begin()
        yield connection
        walk.rollback()  # nothing of the walk stays
    engine.dispose()


def test_the_database_refuses_what_the_domain_refuses(conn: Connection) -> None:
    built = _one_row_each(conn)
    wrong, tried = [], 0
    for table in SQLModel.metadata.sorted_tables:
        key = {c.name: built[table.name][c.name] for c in table.primary_key.columns}
        for values, allowed in _trials(table):
            tried += 1
            if _takes(conn, table, key, values) != allowed:
                said = "refused" if allowed else "stored"
                wrong.append(f"{table.name} {values}: {said}")
    assert tried > 250
    assert wrong == []


def test_every_language_of_the_vocabulary_is_taken(conn: Connection) -> None:
    """The languages of the vocabulary (7,900 ISO 639 keys) all fit the rule on language codes."""
    built = _one_row_each(conn)
    codes = sorted(load_vocabulary().languages)
    assert len(codes) > 7000
    for table in SQLModel.metadata.sorted_tables:
        if "language" not in table.c or table.name == "user":
            continue
        record = next(c.name for c in table.primary_key.columns if c.name != "language")
        rows = [
            {record: built[table.name][record], "language": code, "position": i}
            for i, code in enumerate(codes)
            if code != built[table.name]["language"]
        ]
        conn.execute(table.insert(), rows)
