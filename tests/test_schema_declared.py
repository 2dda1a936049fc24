"""The schema the migrations build is the one the models declare, table by table, on SQLite and
PostgreSQL, including what ``tests/test_migrations.py``'s comparison leaves out: each column's
default kept by the database (what a row written by plain SQL, an import or a restore gets), and
the check constraints, by name (``tests/test_schema_restricted.py`` tries what each one lets
through). A difference means a row written around the models is not the row the models
describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect
from sqlmodel import SQLModel

import sscmatch.models  # noqa: F401  (the tables)
from sscmatch.db import make_engine


def test_column_defaults_are_the_declared_ones(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    # modify_default ops come wrapped in a list of one per column
    found = [op[0] if isinstance(op, list) else op for op in diff]
    assert [f"{o[0]} {o[2]}.{o[3]}" if o[0] == "modify_default" else o for o in found] == []


def test_check_constraints_are_the_declared_ones(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        built = {
            (table, check["name"])
            for table in found.get_table_names()
            if table in SQLModel.metadata.tables
            for check in found.get_check_constraints(table)
        }
    finally:
        engine.dispose()
    declared = {
        (table.name, str(constraint.name))
        for table in SQLModel.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert sorted(built - declared) == []  # in the database, unknown to the models
    assert sorted(declared - built) == []  # declared, never built by a migration
