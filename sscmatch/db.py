"""Engine, sessions and schema migrations.

The engine lives on the app (``app.extensions["sscmatch.engine"]``); a request gets one session,
closed on teardown. Only the edge (views, CLI commands) commits. ``init_db`` creates or upgrades the
schema with Alembic, so a deployed database is migrated in place without losing data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

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


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine) -> None:
    """Create the schema in an empty database or upgrade an existing one to the newest revision."""
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for a command: commits when the block succeeds, rolls back when it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


CHANGE_TRACKED_TABLES = (
    "institution",
    "capacity",
    "need",
    "exchange",
    "proposal",
    "study_tour",
    "commitment",
    "commitment_update",
)
"""Tables whose every committed change moves :func:`change_version` (triggers of migration 0003)."""


def database_key(session: Session) -> str:
    """Which database ``session`` talks to, for process-wide caches that must not mix two."""
    bind = session.get_bind()
    return str(bind.engine.url) if hasattr(bind, "engine") else str(id(bind))


def change_version(session: Session) -> tuple[int, str] | None:
    """``(changes, epoch)``: moves with every committed insert, update or delete of a row of
    :data:`CHANGE_TRACKED_TABLES`, by anyone (see :class:`sscmatch.models.DataChange`). For
    caches of what is computed from those tables: one primary-key read, whatever their size
    (counting 200,000 exchanges on every page took longer than drawing the page).

    ``None`` when ``session`` has written and not committed yet: it sees data no committed
    version describes, so nothing it computes may be cached (or served from a cache)."""
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
            "SELECT (SELECT changes FROM data_change WHERE id = 1), "
            f"(SELECT epoch FROM data_change WHERE id = 1), {wrote}"
        )
    ).one()
    if found[2]:
        return None
    return (int(found[0] or 0), str(found[1] or ""))
