"""The schema comes from Alembic migrations, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import sscmatch.models  # noqa: F401
from sscmatch.db import init_db, make_engine


def test_migrated_schema_has_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(database_url: str) -> None:
    """A model change without a migration fails here (run alembic revision --autogenerate)."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    engine.dispose()
    assert diff == []


def test_init_db_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    init_db(engine)
    init_db(engine)
    with engine.connect() as conn:
        version = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    assert version is not None
