"""Every PostgreSQL test schema is made by ``tests/conftest.fresh_pg_schema``, and its tables are
where ``tests/pg_tablespace.py`` says: in the tablespace in memory when the run could make it,
else where the server puts tables. A schema made another way (``test_data_change`` made its own
until 2026-12-07) carries neither the run's mark, so the end-of-run check for schemas left behind
cannot see it, nor the tablespace."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sscmatch.db import make_engine
from tests import pg_tablespace


@pytest.mark.on_database("postgresql")
def test_the_test_schemas_tables_are_in_the_chosen_tablespace(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            places = set(
                conn.execute(
                    text(
                        "SELECT coalesce(tablespace, '') FROM pg_tables "
                        "WHERE schemaname = current_schema()"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    assert places == {pg_tablespace.chosen()}


def test_the_tablespace_is_tried_only_for_a_server_on_this_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its directory must be on the server's machine: another host keeps the server's own."""
    monkeypatch.setenv(pg_tablespace.ENV, "")  # put back as it was after the test
    tried: list[object] = []
    monkeypatch.setattr(pg_tablespace, "_ready", lambda engine: tried.append(engine) or True)
    no_engine: Any = None
    for url, expected in (
        ("postgresql://u@db.example.org/test", ""),
        ("postgresql://u@127.0.0.1:5432/test", pg_tablespace.NAME),
        ("postgresql:///test", pg_tablespace.NAME),  # a socket of this machine
    ):
        monkeypatch.delenv(pg_tablespace.ENV)
        assert pg_tablespace.prepare(url, no_engine) == expected, url
        assert os.environ[pg_tablespace.ENV] == expected
    assert len(tried) == 2


def test_every_test_schema_is_made_by_fresh_pg_schema() -> None:
    tests = Path(__file__).resolve().parent
    allowed = {tests / "conftest.py", Path(__file__).resolve()}
    creates = re.compile(r"CREATE\s+SCHEMA", re.IGNORECASE)
    made_elsewhere = [
        str(path.relative_to(tests))
        for path in sorted(tests.rglob("*.py"))
        if path not in allowed and creates.search(path.read_text(encoding="utf-8"))
    ]
    assert made_elsewhere == []
