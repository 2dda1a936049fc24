"""Engine, sessions and schema migrations.

The engine lives on the app (``app.extensions["sscmatch.engine"]``); a request gets one session,
closed on teardown. Only the edge (views, CLI commands) commits. ``init_db`` creates or upgrades the
schema with Alembic, so a deployed database is migrated in place without losing data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, func, select
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


def table_version(session: Session, models: Sequence[Any]) -> tuple[Any, ...]:
    """A value that moves whenever a row of ``models`` is added, deleted or edited: per table,
    the number of rows, the latest ``updated_at`` and the sum of the edit ``version`` counters
    (which catch an edit whose clock did not move forward). For caches of things computed from
    those tables; one statement of scalar subqueries, so one round trip."""
    parts = []
    for model in models:
        parts.append(select(func.count()).select_from(model).scalar_subquery())
        parts.append(select(func.max(model.updated_at)).scalar_subquery())
        parts.append(select(func.sum(model.version)).scalar_subquery())
    row = session.connection().execute(select(*parts)).one()
    return tuple(str(v) if i % 3 == 1 else int(v or 0) for i, v in enumerate(row))
