"""Counts of records kept while the records are unchanged: ``count(*)`` of a statement, asked on
every visit of the home page and of each list (its total), scans thousands of rows at full scale
when the viewer's visibility is in the condition (a focal point sees the published records and
their own country's drafts: 13 ms for 50,000 capacities on SQLite).

:func:`kept_count` keeps each count in the process cache ``counts`` under the version of the
records (:func:`sscmatch.db.data_key`) and the statement itself, its SQL and its parameters:
whatever narrows it (filters, the viewer's visibility) is in the key, so two viewers share a
count only when they ask the same question. A statement reading a table whose changes do not move
the data version (say the users, or the countries of a region) is counted each time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.util import find_tables
from sqlmodel import Session

from sscmatch import relations
from sscmatch.caches import Cache
from sscmatch.db import CHANGE_TRACKED_TABLES, data_key

_COUNTS: Cache[int] = Cache("counts", size=4096)
# The association rows of a list field change with their record's row (which moves the version).
_KEPT_TABLES = frozenset(CHANGE_TRACKED_TABLES) | {t.name for t in relations.TABLES}


def kept_count(session: Session, query: Any) -> int:
    """``count(*)`` of the rows of ``query`` (a select), kept per data version and statement."""
    statement = select(func.count()).select_from(query.subquery())
    key = _kept_key(session, statement)
    return _COUNTS.get_or_make(key, lambda: int(session.execute(statement).scalar_one()))


def _kept_key(session: Session, statement: Any) -> tuple[Any, ...] | None:
    """The data version and ``statement``; None (keep nothing) while uncommitted writes are in
    ``session`` or when the statement reads a table that does not move the version."""
    version = data_key(session)
    key = None if version is None else _statement_key(session, statement)
    return None if version is None or key is None else (*version, *key)


_IDS: Cache[tuple[Any, ...]] = Cache("kept ids", size=1024)


def kept_ids(session: Session, query: Any) -> list[Any]:
    """The values of ``query`` (a select of one column, ids, bounded by its LIMIT), kept as
    :func:`kept_count` keeps a count: per data version and statement. For a short list whose
    condition no index serves (the needs submitted for endorsement: every draft read, 6 ms at
    full scale, for each visit of the secretariat's home page); the caller reads the records
    by id, so what it shows is the records as they are."""
    key = _kept_key(session, query)
    return list(_IDS.get_or_make(key, lambda: tuple(session.execute(query).scalars().all())))


def _statement_key(session: Session, statement: Any) -> tuple[Any, ...] | None:
    """What tells ``statement`` from any other: the key SQLAlchemy's own cache of compiled
    statements gives its shape, with its bound values (a tenth of the cost of compiling it, 1.4
    ms, which every list and the home page paid for each count); its SQL and parameters when
    SQLAlchemy cannot key it. None when it reads a table whose changes do not move the data
    version (never kept)."""
    shape = statement._generate_cache_key()
    if shape is None:
        if not _only_kept_tables(statement):
            return None
        compiled = statement.compile(dialect=session.get_bind().dialect)
        return (str(compiled), repr(sorted(compiled.params.items())))
    if not _SHAPES.get_or_make(shape.key, lambda: _only_kept_tables(statement)):
        return None
    values = tuple(
        tuple(v) if isinstance(v := b.effective_value, list) else v for b in shape.bindparams
    )
    try:
        hash(values)
    except TypeError:  # a value no key can hold: counted each time
        return None
    return (shape.key, values)


_SHAPES: Cache[bool] = Cache("count shapes", size=1024)
"""Whether a statement's shape reads only tables whose changes move the data version."""


def _only_kept_tables(statement: Any) -> bool:
    tables = find_tables(statement, check_columns=True)  # in subqueries too
    named = [t for t in tables if t is not None]  # a bare count(*) column has no table
    return bool(named) and all(t.name in _KEPT_TABLES for t in named)
