"""Alembic environment: the engine comes from the caller (``sscmatch.db.init_db``)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import sscmatch.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from sscmatch.db import make_engine

        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no engine given and no sqlalchemy.url configured")
        engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode changes a column by copying the table, dropping the old one and renaming
            # the copy; with foreign keys enforced, dropping a table that other rows reference
            # (a capacity's proposals) fails. SQLite honours this pragma only outside a
            # transaction, so it is set before the migration's transaction, and the references
            # are checked before it commits.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `sscmatch init-db`")
run_migrations_online()
