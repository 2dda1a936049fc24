"""Migrations 0024 (an index on every foreign key), 0025 (check constraints on every restricted
value), 0026 (one veto per pair) and 0027 (members and funders as rows) on a database in use, the knowledge base loaded, on SQLite and PostgreSQL: every row of
every table kept, the association rows still in step with their records, the change counter's
triggers still firing (on SQLite the tables are copied), and down and up again the same; a row
the new rules refuse, or a pair vetoed twice, stops the upgrade, naming it, with nothing half
done."""

from __future__ import annotations

import json
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
HEAD = "0027"


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


TOUR = (
    "INSERT INTO study_tour (id, modality, title, host_country, visiting_country, languages, "
    "interpretation, agenda, delegation, funders, status, created_at, updated_at, version) "
    "VALUES (:id, 'study_tour', 'Tour', 'BRA', 'GTM', '[]', false, '[]', '[]', :funders, "
    "'draft', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
)
INSTITUTION = (
    "INSERT INTO institution (id, name, country, constituency, international, members, "
    "languages, created_at, updated_at, version) VALUES (:id, 'A body', 'CHE', 'other', "
    ":international, :members, '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
)
# What nothing else names: deleting them shows what the new foreign keys refuse.
UNNAMED = (
    "DELETE FROM institution WHERE id = 'fund-x'",
    "DELETE FROM country WHERE code = 'NRU'",
)


def _funders(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM study_tour_funder ORDER BY study_tour, position"))
        return [(r[0], r[1], r[2]) for r in rows]


def _deletable(engine: Engine, statement: str) -> bool:
    """Would ``statement`` go through? (Nothing is kept.)"""
    with engine.connect() as conn:
        step = conn.begin()
        try:
            conn.execute(text(statement))
        except IntegrityError:
            return False
        finally:
            step.rollback()
    return True


def test_members_and_funders_become_rows(blank_url: str) -> None:  # noqa: F811
    """The knowledge base's bodies, a body whose member nothing else names and a tour with
    funders (one named twice), at 0026, upgraded: every record as it was, the rows in step with
    the lists (as the write path makes them), and a funding institution or a member country
    that could be deleted before no longer can."""
    with _in_use_at(blank_url, "0026") as engine:
        with engine.begin() as conn:
            insert = text(INSTITUTION)
            conn.execute(insert, {"id": "body-x", "international": True, "members": '["NRU"]'})
            conn.execute(insert, {"id": "fund-x", "international": False, "members": "[]"})
            conn.execute(text(TOUR), {"id": "T-1", "funders": '["fund-x", "ilo", "fund-x"]'})
        assert all(_deletable(engine, statement) for statement in UNNAMED)
        before = snapshot(engine)
        members = [r for r in before["institution"] if r["members"] != "[]"]
        assert len(members) > 2 and all(r["international"] for r in members)

        command.upgrade(alembic_config(engine), "head")
        assert snapshot(engine, before) == before
        with engine.connect() as conn:
            assert relations.mismatches(conn) == []
            kept = conn.execute(text("SELECT COUNT(*) FROM institution_member")).scalar_one()
        assert kept == sum(len(json.loads(r["members"])) for r in members)
        assert _funders(engine) == [("T-1", "fund-x", 0), ("T-1", "ilo", 1)]
        assert not any(_deletable(engine, statement) for statement in UNNAMED)

        command.downgrade(alembic_config(engine), "0026")
        assert snapshot(engine, before) == before


def test_a_funder_no_institution_has_stops_the_upgrade(blank_url: str) -> None:  # noqa: F811
    with _in_use_at(blank_url, "0026") as engine:
        with engine.begin() as conn:
            conn.execute(text(TOUR), {"id": "T-2", "funders": '["ilo", "gone-fund"]'})
        with pytest.raises(RuntimeError, match="study tour T-2: funder 'gone-fund'"):
            command.upgrade(alembic_config(engine), "head")
        assert _at(engine) == "0026"
        with engine.begin() as conn:
            conn.execute(text("UPDATE study_tour SET funders = '[\"ilo\"]'"))
        command.upgrade(alembic_config(engine), "head")
        assert _funders(engine) == [("T-2", "ilo", 0)]
