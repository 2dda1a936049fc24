"""Migration 0006 (records of international bodies without a country) on a database in use:
rows that other rows reference (a capacity with proposals, an institution with capacities) are
carried across on SQLite, where changing a column copies the table, and on PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from sscmatch.db import alembic_config, make_engine
from tests.test_data_change import blank_url, snapshot, version  # noqa: F401  (fixture)

STAMP = "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1"
TRACKED = "created_at, updated_at, version"
IN_USE = (
    "INSERT INTO country (code, name, region, subregion, intermediate_region) VALUES "
    "('PER', 'Peru', '', '', ''), ('BRA', 'Brazil', '', '', '')",
    f"INSERT INTO institution (id, name, country, constituency, international, languages, {TRACKED}) "
    f"VALUES ('ri', 'Regional body', 'PER', 'other', true, '[]', {STAMP})",
    f"INSERT INTO capacity (id, country, institution, title, themes, languages, modalities, status, "
    f"{TRACKED}) VALUES ('c1', 'PER', 'ri', 'Platform', '[]', '[]', '[]', 'published', {STAMP})",
    f"INSERT INTO need (id, country, title, themes, languages, modalities, status, {TRACKED}) "
    f"VALUES ('n1', 'BRA', 'Need', '[]', '[]', '[]', 'open', {STAMP})",
    "INSERT INTO match_run (id, created_at, top_k, status, needs_total, needs_done, "
    "proposal_count) VALUES (1, CURRENT_TIMESTAMP, 5, 'done', 1, 1, 1)",
    f"INSERT INTO proposal (id, run_id, need, capacity, provider, recipient, rank, score, reasons, "
    f"status, {TRACKED}) VALUES (1, 1, 'n1', 'c1', 'PER', 'BRA', 1, 0.5, '[]', 'proposed', {STAMP})",
    f"INSERT INTO commitment (id, owner_country, owner_institution, description, status, {TRACKED}) "
    f"VALUES ('k1', 'PER', 'ri', 'Publish a dashboard', 'pending', {STAMP})",
    "INSERT INTO commitment_update (commitment, at, status) VALUES "
    "('k1', CURRENT_TIMESTAMP, 'pending')",
)


def _broken_references(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return list(conn.execute(text("PRAGMA foreign_key_check")).fetchall())
    return []  # PostgreSQL never lets a reference break


def test_upgrade_and_downgrade_keep_referenced_rows(blank_url: str) -> None:  # noqa: F811
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "0005")
        with engine.begin() as conn:
            for statement in IN_USE:
                conn.execute(text(statement))
        before = snapshot(engine)

        command.upgrade(alembic_config(engine), "0006")
        assert snapshot(engine, before) == before
        assert _broken_references(engine) == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT members FROM institution")).scalar_one() == "[]"
        # The body's records lose their seat; the change triggers still fire on the new tables.
        moved = version(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE capacity SET country = NULL WHERE id = 'c1'"))
            conn.execute(text("UPDATE commitment SET owner_country = NULL WHERE id = 'k1'"))
        assert version(engine) != moved

        command.downgrade(alembic_config(engine), "0005")  # back: the seat stands in again
        assert snapshot(engine, before) == before
        assert _broken_references(engine) == []
        with engine.connect() as conn:  # foreign keys are enforced again after the migration
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()
