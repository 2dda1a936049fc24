"""The planner's statistics: a bulk write (``sscmatch import``, a match run) ends with
``ANALYZE`` (:func:`sscmatch.db.refresh_statistics`), so the database chooses its indexes from
what the tables hold (SQLite keeps no statistics until asked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


def _rows_known(engine: Engine, table: str) -> float:
    """How many rows the planner believes ``table`` holds (0 when it has no statistics)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_stat1'"))
            if found.first() is None:
                return 0
            stat = conn.execute(
                text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"),
                {"t": table},
            ).first()
            return float(stat[0].split()[0]) if stat else 0
        reltuples = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        ).scalar_one()
        return max(float(reltuples), 0)


def test_an_import_leaves_the_planner_statistics(app: Flask, runner: Any) -> None:
    engine = app.extensions["sscmatch.engine"]
    if engine.dialect.name == "postgresql":
        # The test schema is emptied row by row between tests (tests/conftest.py), which leaves
        # the planner what an earlier test's ANALYZE told it: start from statistics of none.
        with engine.begin() as conn:
            conn.execute(text("ANALYZE need"))
    assert _rows_known(engine, "need") == 0  # nothing analysed of what the import will bring
    result = runner.invoke(args=["import", str(ROOT / "data")])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        needs = conn.execute(text("SELECT count(*) FROM need")).scalar_one()
    assert needs > 0 and _rows_known(engine, "need") == needs


def test_postgresql_analyses_only_this_apps_tables() -> None:
    """A bare ANALYZE reads every table of the database (other schemas', other applications')
    and waits on their locks; SQLite's file is the app's own."""
    import sqlmodel

    from sscmatch import models  # noqa: F401  (registers every table)
    from sscmatch.db import statistics_statement

    assert statistics_statement("sqlite") == "ANALYZE"
    statement = statistics_statement("postgresql")
    named = {name.strip().strip('"') for name in statement.removeprefix("ANALYZE ").split(",")}
    assert named == {t.name for t in sqlmodel.SQLModel.metadata.sorted_tables}
    assert {"need", "proposal", "alembic_version"} & named == {"need", "proposal"}
