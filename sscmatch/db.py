"""Engine, sessions, optimistic versioning and schema migrations.

The engine lives on the app (``app.extensions["sscmatch.engine"]``); a request gets one session,
closed on teardown. Only the edge (views, CLI commands) commits. ``init_db`` creates or upgrades the
schema with Alembic, so a deployed database is migrated in place without losing data.

**Versions.** Every row people edit carries ``version``, mapped as SQLAlchemy's
``version_id_col`` (:mod:`sscmatch.models`): each UPDATE of such a row says
``… WHERE id = :id AND version = :read`` and sets the next version, so of two writers who read
the same version exactly one changes the row; the other's flush matches no row. That is the one
mechanism for every entity; the rest of this module only feeds it:

- :func:`expect_version` ties an edit to the version its editor started from (a form's hidden
  field, an API body's ``version``), refusing a stale one at once (the flush refuses one that
  goes stale later);
- a ``before_flush`` listener gives every changed row its next version, also for changes no
  editor asked for (accepting a proposal marks its need matched);
- :class:`StaleVersion` is the one conflict error (the edge answers 409), raised by
  :func:`expect_version`, and by :class:`VersionedSession` when a flush finds the row changed
  meanwhile.

An ``after_flush`` listener keeps the association tables of :mod:`sscmatch.relations` in step
with the records' lists.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlmodel
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import create_engine

from sscmatch import relations

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Route ``postgresql://`` and ``postgres://`` URLs to psycopg 3 (SQLAlchemy's default is 2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _write_lock_before_savepoint)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers go on while one writer works.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _write_lock_before_savepoint(conn: Any, _name: str) -> None:
    """A savepoint that opens the transaction (a preview of a decision, a bulk decision) takes
    SQLite's write lock first (``BEGIN IMMEDIATE``, waiting for another writer as long as
    ``busy_timeout``). SQLite starts a savepoint's transaction deferred: its reads fix a
    snapshot, and its first write then fails at once with "database is locked" if another
    connection committed meanwhile (SQLITE_BUSY_SNAPSHOT: waiting cannot help it), which the
    pages answered as a database out of reach (503) and lost the reason typed. Plain writes are
    not concerned: the driver begins their transaction at the first write, before any read."""
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine) -> None:
    """Create the schema in an empty database or upgrade an existing one to the newest revision."""
    command.upgrade(alembic_config(engine), "head")


# --------------------------------------------------------------------------- versions


class StaleVersion(StaleDataError):
    """The record changed since its editor read it: the one conflict of every edit (HTTP 409).

    ``entity`` is the table (``study_tour``); ``record_id``, ``expected`` (the version the editor
    started from) and ``current`` are known when the stale version was seen before writing, and
    None when the write itself found the row changed meanwhile."""

    def __init__(
        self,
        entity: str | None,
        record_id: Any = None,
        expected: int | None = None,
        current: int | None = None,
    ) -> None:
        self.entity, self.record_id = entity, record_id
        self.expected, self.current = expected, current
        what = (entity or "record").replace("_", " ")
        if record_id is not None:
            what = f"{what} {record_id}"
        versions = (
            f" (you edited version {expected}, it is now version {current})"
            if expected is not None and current is not None
            else ""
        )
        super().__init__(
            f"{what} was changed by someone else meanwhile{versions}; reload it and apply your "
            "change again"
        )


class BadVersion(ValueError):
    """The ``version`` an edit carries is missing or not a whole number (HTTP 400)."""


def parse_version(value: Any) -> int:
    """The version an editor sent (a form's text or a JSON number), or :class:`BadVersion`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadVersion("version is required (the version you read, for conflict checks)")
    if isinstance(value, bool):
        raise BadVersion("version must be a whole number")
    if isinstance(value, int):
        return value
    text_value = str(value).strip()
    if not (text_value.isascii() and text_value.isdigit()) or len(text_value) > 9:
        raise BadVersion("version must be a whole number")
    return int(text_value)


def expect_version(record: Any, expected: Any, *, required: bool = True) -> None:
    """Tie the change about to be made to ``record`` to the version its editor started from.

    A stale ``expected`` raises :class:`StaleVersion` now. Otherwise nothing more is needed: the
    row was read at ``expected``, and the flush writes the change ``WHERE version = expected``
    (``version_id_col``), so an edit committed by someone else in between makes this one fail
    there, with :class:`StaleVersion` too. ``required=False`` takes ``None`` as "the version just
    read" (a change made on what the caller sees now; the race is still caught at the flush)."""
    if expected is None and not required:
        return
    seen = parse_version(expected)
    state = inspect(record)
    read = _read_version(state)
    if seen != read:
        raise StaleVersion(state.mapper.local_table.name, _identity(state), seen, read)


def _read_version(state: Any) -> int:
    """The version the row had when it was read (before any change in this session)."""
    history = state.attrs.version.history
    original = history.deleted or history.unchanged
    return int(original[0]) if original else int(state.obj().version)


def _held_version(state: Any) -> int | None:
    """:func:`_read_version` from what the session holds, without loading: None when the row's
    version is not loaded (expired by a commit). Read at the start of a flush, where a load
    would autoflush into the same flush, for ever (a RecursionError: a row expired by a
    commit, then changed)."""
    if "version" in state.committed_state:
        original = state.committed_state["version"]
    else:
        original = state.dict.get("version")
    return None if original is None or original is NO_VALUE else int(original)


def _identity(state: Any) -> Any:
    key = state.identity
    return key[0] if key and len(key) == 1 else key


def _changed_columns(state: Any) -> set[str]:
    return {name for name in state.committed_state if state.attrs[name].history.has_changes()}


@event.listens_for(OrmSession, "before_flush")
def _move_versions(session: OrmSession, _flush: UOWTransaction, _objects: Any) -> None:
    """Every changed row of a versioned table is written with its next version (unless the
    change set one itself, as an import does), whoever changed it and why."""
    for record in session.dirty:
        state = inspect(record)
        if state.mapper.version_id_col is None or state.key is None:
            continue
        changed = _changed_columns(state)
        if not changed or "version" in changed:
            continue
        if not changed - getattr(type(record), "__unversioned_fields__", frozenset()):
            continue  # bookkeeping no editor changes (a user's last sign-in): no new version
        record.version = _read_version(state) + 1


@event.listens_for(OrmSession, "after_flush")
def _sync_relations(session: OrmSession, _flush: UOWTransaction) -> None:
    """The association rows of what the flush wrote (themes, languages, the countries of an
    exchange by role: :mod:`sscmatch.relations`), in the same transaction, whoever wrote it."""
    relations.sync_flushed(session)


class DuplicateRecord(Exception):
    """A new record's key (its id, a user's e-mail) was taken by another request at the same
    moment: the database's unique index refused the second insert (HTTP 409, never a 500)."""

    def __init__(self, entity: str | None) -> None:
        self.entity = entity
        what = (entity or "record").replace("_", " ")
        super().__init__(
            f"a {what} with the same id was created at the same moment by someone else; "
            "nothing was saved (send it again: a new id will be chosen if you gave none)"
        )


_STALE_TABLE = re.compile(r"on table '([^']+)'")


def upsert(session: OrmSession) -> type[sqlite.Insert] | type[postgresql.Insert]:
    """The session's dialect's ``INSERT`` (``sqlite.insert`` or ``postgresql.insert``), the one
    that takes ``ON CONFLICT``: a row that two writers may create at once (a counter, a derived
    row) is written in one statement that the second writer turns into an update or nothing,
    where an insert after a read would fail its unique key on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.Insert
    return sqlite.Insert


_INSERT_TABLE = re.compile(r'^\s*INSERT INTO "?(\w+)"?', re.IGNORECASE)


def is_duplicate_key(exc: IntegrityError) -> bool:
    """A unique index refused the row (not a foreign key, NOT NULL or CHECK problem)."""
    code = getattr(exc.orig, "sqlstate", None)  # psycopg
    if code is not None:
        return bool(code == "23505")
    return "UNIQUE constraint failed" in str(exc.orig)  # sqlite3


TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
"""PostgreSQL's codes of errors that pass: the transaction lost to another (40001 serialization
failure, 40P01 deadlock: run again, it succeeds) or the server went away for a moment (57P01
shut down by an administrator, 57P02 crashed, 57P03 starting up); and all of class 08, the
connection lost (:func:`is_transient`)."""
SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # "database is locked", "database table is locked"


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error it was raised from) is a database error that passes, so
    that the same work, run again a moment later in a new transaction, would succeed: SQLite
    busy or locked by another writer; on PostgreSQL a serialization failure, a deadlock, the
    server restarting, or the connection lost. The one rule the job worker retries by; a bad
    statement, a constraint refusing a row or a bug is not transient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and (
            current.connection_invalidated or _transient_driver_error(current)
        ):
            return True
        current = current.__cause__
    return False


def _transient_driver_error(exc: DBAPIError) -> bool:
    orig: Any = exc.orig
    if hasattr(orig, "sqlstate"):  # psycopg
        code = orig.sqlstate
        if code is None:  # raised by the client itself: the connection failed or was lost
            return isinstance(exc, OperationalError)
        return code in TRANSIENT_SQLSTATES or str(code).startswith("08")
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)  # extended codes: the low byte is the kind
        if code is not None:
            return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
        return "is locked" in str(orig)
    return False


class VersionedSession(sqlmodel.Session):
    """The application's session: a flush that finds a versioned row changed meanwhile raises
    :class:`StaleVersion` (the domain's conflict) instead of SQLAlchemy's ``StaleDataError``, and
    an insert that a unique index refuses raises :class:`DuplicateRecord`."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        # the versioned rows about to be written, with the version each was read at: the one
        # a write finds changed meanwhile is then named, as a check before writing names it
        read = [
            (state, _held_version(state))
            for state in map(inspect, self.dirty)
            if state.mapper.version_id_col is not None and state.key is not None
        ]
        try:
            super().flush(objects)
        except StaleVersion:
            raise
        except StaleDataError as exc:
            found = _STALE_TABLE.search(str(exc))
            table = found.group(1) if found else None
            mine = [
                (state, version)
                for state, version in read
                if state.mapper.local_table.name == table
            ]
            if len(mine) == 1:
                state, version = mine[0]
                raise StaleVersion(table, _identity(state), version) from exc
            raise StaleVersion(table) from exc
        except IntegrityError as exc:
            inserted = _INSERT_TABLE.match(exc.statement or "")
            if inserted is None or not is_duplicate_key(exc):
                raise
            raise DuplicateRecord(inserted.group(1)) from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[VersionedSession]:
    """A session for a command: commits when the block succeeds, rolls back when it raises."""
    session = VersionedSession(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def refresh_statistics(engine: Engine) -> None:
    """``ANALYZE``: let the query planner see the tables as a bulk write (an import, a match
    run's proposals) left them. SQLite keeps no statistics until asked, and without them it
    guesses: at full scale it read a focal point's proposals to answer (provider or recipient
    their country, 3 of 51,807) through the status index, every proposed row, 270 ms a visit of
    the home page, where the provider's index takes 0.1 ms. About a second on SQLite at full
    scale; PostgreSQL's autovacuum would come to it later, this is at once.

    On PostgreSQL only this app's tables (:func:`statistics_statement`): a bare ``ANALYZE`` reads
    every table of the database, other schemas' and other applications' included, and waits
    on their locks."""
    with engine.begin() as conn:
        conn.execute(text(statistics_statement(engine.dialect.name)))


def statistics_statement(dialect: str) -> str:
    """The ``ANALYZE`` of :func:`refresh_statistics`: the whole file on SQLite (it is this app's
    database), the tables of the models (in the connection's schema) elsewhere."""
    if dialect == "sqlite":
        return "ANALYZE"
    names = ", ".join(f'"{t.name}"' for t in sqlmodel.SQLModel.metadata.sorted_tables)
    return f"ANALYZE {names}"


CHANGE_TRACKED_TABLES = (
    "institution",
    "capacity",
    "need",
    "exchange",
    "proposal",
    "study_tour",
    "commitment",
    "commitment_update",
    "veto",
    "theme",
)
"""Tables whose every committed change moves :func:`change_version` (triggers of migrations 0003
and 0019: vetoes and themes are read by the matching corpus kept between requests)."""

RECORD_TABLES = ("institution", "capacity", "need", "exchange", "theme")
"""Countries' own records: what moves :func:`records_version` (migration 0020), for what is
computed from them alone (the network, the charts, the gaps). A subset of
:data:`CHANGE_TRACKED_TABLES`."""


def database_key(session: sqlmodel.Session) -> str:
    """Which database ``session`` talks to, for process-wide caches that must not mix two."""
    bind = session.get_bind()
    return str(bind.engine.url) if hasattr(bind, "engine") else str(id(bind))


def data_key(session: sqlmodel.Session) -> tuple[str, tuple[int, str]] | None:
    """``(database, change version)``: the key of what a process cache (:mod:`sscmatch.caches`)
    computes from the records; ``None`` while ``session`` has uncommitted writes (keep nothing)."""
    changes = change_version(session)
    return None if changes is None else (database_key(session), changes)


def change_version(session: sqlmodel.Session) -> tuple[int, str] | None:
    """``(changes, epoch)``: moves with every committed insert, update or delete of a row of
    :data:`CHANGE_TRACKED_TABLES`, by anyone (see :class:`sscmatch.models.DataChange`). For
    caches of what is computed from those tables: one primary-key read, whatever their size
    (counting 200,000 exchanges on every page took longer than drawing the page).

    ``None`` when ``session`` has written and not committed yet: it sees data no committed
    version describes, so nothing it computes may be cached (or served from a cache)."""
    return _counter(session, "changes")


def records_version(session: sqlmodel.Session) -> tuple[int, str] | None:
    """``(records, epoch)``: as :func:`change_version`, for :data:`RECORD_TABLES` only. What is
    kept under it must read no other tracked table (``tests/test_records_version.py`` checks the
    analytics' statements)."""
    return _counter(session, "records")


def _counter(
    session: sqlmodel.Session, column: Literal["changes", "records"]
) -> tuple[int, str] | None:
    if session.new or session.dirty or session.deleted:
        return None
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # A transaction gets an id at its first write: none means nothing uncommitted here.
        wrote = "txid_current_if_assigned() IS NOT NULL"
    else:
        # SQLite (pysqlite) opens a transaction at the first write, not at reads.
        raw = connection.connection.dbapi_connection
        wrote = "1" if getattr(raw, "in_transaction", False) else "0"
    found = connection.execute(
        text(
            f"SELECT (SELECT {column} FROM data_change WHERE id = 1), "
            f"(SELECT epoch FROM data_change WHERE id = 1), {wrote}"
        )
    ).one()
    if found[2]:
        return None
    return (int(found[0] or 0), str(found[1] or ""))
