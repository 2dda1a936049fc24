"""Migrations 0024 (an index on every foreign key) and 0025 (check constraints on every restricted
value) on a database in use, the knowledge base loaded, on SQLite and PostgreSQL: every row of
every table kept, the association rows still in step with their records, the change counter's
triggers still firing (on SQLite the tables are copied), and down and up again the same; a row
the new rules refuse stops the upgrade, naming it, with nothing half done."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from sscmatch import relations
from sscmatch.db import alembic_config, make_engine
from tests.test_data_change import blank_url, snapshot, version  # noqa: F401  (fixture)
from tests.test_migration_relations import _knowledge_base

BEFORE = "0023"


def _at(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_the_knowledge_base_crosses_both_ways(blank_url: str) -> None:  # noqa: F811
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        command.downgrade(alembic_config(engine), BEFORE)
        before = snapshot(engine)
        assert len(before["exchange"]) > 50 and len(before["exchange_country"]) > 200

        command.upgrade(alembic_config(engine), "head")
        assert snapshot(engine, before) == before
        with engine.connect() as conn:
            assert relations.mismatches(conn) == []
        moved = version(engine)
        with engine.begin() as conn:  # the triggers of 0003/0019/0020 are on the new tables
            conn.execute(
                text(
                    "UPDATE exchange SET title = 'Retitled' WHERE id = (SELECT min(id) FROM exchange)"
                )
            )
        assert version(engine) != moved

        command.downgrade(alembic_config(engine), BEFORE)
        after = snapshot(engine, before)
        changed = [r for r in after["exchange"] if r not in before["exchange"]]
        assert [r["title"] for r in changed] == ["Retitled"]
        command.upgrade(alembic_config(engine), "head")
        assert _at(engine) == "0025"
    finally:
        engine.dispose()


REFUSED = (
    "UPDATE capacity SET status = 'pending' WHERE id = (SELECT min(id) FROM capacity)",
    "UPDATE exchange_language SET language = 'ES' WHERE exchange = "
    "(SELECT min(exchange) FROM exchange_language)",
    "UPDATE exchange SET start_date = '2999-01-01' WHERE id = (SELECT min(id) FROM exchange)",
)


def test_a_row_the_rules_refuse_stops_the_upgrade_and_says_which(blank_url: str) -> None:  # noqa: F811
    """Values written around the use cases before the rules existed stop migration 0025 with
    each row and rule named; the database stays at 0024 with the rows as they were; corrected,
    the upgrade goes through."""
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        command.downgrade(alembic_config(engine), "0024")
        with engine.begin() as conn:
            for statement in REFUSED:
                conn.execute(text(statement))
        before = snapshot(engine)
        with pytest.raises(RuntimeError) as refused:
            command.upgrade(alembic_config(engine), "head")
        said = str(refused.value)
        for rule in (
            "ck_capacity_status",
            "ck_exchange_language_language",
            "ck_exchange_start_date",
        ):
            assert rule in said
        assert _at(engine) == "0024"
        assert snapshot(engine, before) == before
        with engine.begin() as conn:
            conn.execute(text("UPDATE capacity SET status = 'draft' WHERE status = 'pending'"))
            conn.execute(text("UPDATE exchange_language SET language = 'es' WHERE language = 'ES'"))
            conn.execute(
                text(
                    "UPDATE exchange SET start_date = '1999-01-01' WHERE start_date = '2999-01-01'"
                )
            )
        command.upgrade(alembic_config(engine), "head")
        assert _at(engine) == "0025"
    finally:
        engine.dispose()
