"""Migrations 0024 (an index on every foreign key), 0025 (check constraints on every restricted
value) and 0026 (one veto per pair) on a database in use, the knowledge base loaded, on SQLite and PostgreSQL: every row of
every table kept, the association rows still in step with their records, the change counter's
triggers still firing (on SQLite the tables are copied), and down and up again the same; a row
the new rules refuse, or a pair vetoed twice, stops the upgrade, naming it, with nothing half
done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from sscmatch import relations
from sscmatch.db import alembic_config, make_engine
from tests.test_data_change import blank_url, snapshot, version  # noqa: F401  (fixture)
from tests.test_migration_relations import _knowledge_base

BEFORE = "0023"
HEAD = "0026"


@contextmanager
def _in_use_at(url: str, revision: str) -> Iterator[Engine]:
    """A database at ``revision`` holding the knowledge base (loaded at head, then taken down)."""
    engine = make_engine(url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        command.downgrade(alembic_config(engine), revision)
        yield engine
    finally:
        engine.dispose()


def _at(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_the_knowledge_base_crosses_both_ways(blank_url: str) -> None:  # noqa: F811
    with _in_use_at(blank_url, BEFORE) as engine:
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
        assert _at(engine) == HEAD


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
    with _in_use_at(blank_url, "0024") as engine:
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
        assert _at(engine) == HEAD


VETO = (
    "INSERT INTO veto (provider, recipient, reason, created_at) VALUES ('BRA', 'GTM', :why, {now})"
)


def test_a_pair_vetoed_twice_stops_the_upgrade_and_says_which(blank_url: str) -> None:  # noqa: F811
    """Two vetoes of one pair (before 0026 nothing refused the second) stop migration 0026 with
    the pair named and both vetoes kept; one lifted, the upgrade goes through and a third veto of
    the pair is refused."""
    with _in_use_at(blank_url, "0025") as engine:
        insert = text(VETO.format(now="CURRENT_TIMESTAMP"))
        with engine.begin() as conn:
            for why in ("first", "second", "other pair"):
                conn.execute(insert, {"why": why})
            conn.execute(text("UPDATE veto SET recipient = 'PER' WHERE reason = 'other pair'"))
        with pytest.raises(RuntimeError, match="BRA -> GTM: 2 vetoes"):
            command.upgrade(alembic_config(engine), "head")
        assert _at(engine) == "0025"
        with engine.begin() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM veto")).scalar_one() == 3
            conn.execute(text("DELETE FROM veto WHERE reason = 'second'"))  # lifted
        command.upgrade(alembic_config(engine), "head")
        assert _at(engine) == HEAD
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"why": "again"})
