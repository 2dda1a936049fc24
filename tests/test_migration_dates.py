"""Migration 0018 (each partial date becomes a date column and a precision column) on the
knowledge base and on a backup taken before it, on SQLite and PostgreSQL: every record is kept,
every date reads back as exactly the text it was, and the downgrade gives the text back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from sscmatch.db import alembic_config, make_engine
from sscmatch.workflow import backup
from tests.test_data_change import blank_url, snapshot  # noqa: F401  (fixture)
from tests.test_migration_relations import _backup_and_restore, _knowledge_base, _tables_at

BEFORE = "0017"
PERIODS = {
    "capacity": ("available_from", "available_to"),
    "need": ("desired_from", "desired_to"),
    "exchange": ("start", "end"),
    "study_tour": ("start", "end"),
    "commitment": ("due",),
}


def _texts(engine: Engine) -> dict[str, str | None]:
    """Every partial date of every record as the text columns of 0017 hold it."""
    out = {}
    with engine.connect() as conn:
        for table, names in PERIODS.items():
            columns = ", ".join(f'"{n}"' for n in names)
            for row in conn.execute(text(f"SELECT id, {columns} FROM {table}")).mappings():
                for name in names:
                    out[f"{table} {row['id']} {name}"] = row[name]
    return out


def _odd_records(engine: Engine) -> None:
    """Dates of every precision the knowledge base may lack: a leap day, a month, a year."""
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO exchange (id, start, "end", providers, recipients, participants, '
                "partners, themes, languages, created_at, updated_at, version) VALUES "
                "('odd-1', '2020-02-29', '2020-12', '[\"BRA\"]', '[\"PER\"]', '[]', '[]', "
                "'[\"education\"]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1), "
                "('odd-2', '1999', NULL, '[\"BRA\"]', '[]', '[]', '[]', "
                "'[\"education\"]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )


def test_migration_keeps_every_date_as_its_text(blank_url: str) -> None:  # noqa: F811
    """The knowledge base taken down to 0017 (text dates), upgraded: every row of every table
    as it was, every date equal to its text when read back; down again: the same text."""
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        command.downgrade(alembic_config(engine), BEFORE)
        _odd_records(engine)
        before = snapshot(engine)
        texts = _texts(engine)
        assert len(before["exchange"]) > 50 and len(before["commitment"]) > 100
        precisions = {len(t) for t in texts.values() if t}
        assert precisions == {4, 7, 10}  # years, months and days all cross

        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as conn:
            odd = conn.execute(
                text("SELECT start_date, start_precision FROM exchange WHERE id = 'odd-1'")
            ).one()
        assert (str(odd[0]), odd[1]) == ("2020-02-29", "day")  # a real date column
        after = snapshot(engine, before)
        assert after == before  # every record, every value (dates as their text)

        command.downgrade(alembic_config(engine), BEFORE)
        assert _texts(engine) == texts
        command.upgrade(alembic_config(engine), "head")
        assert snapshot(engine, before) == before
    finally:
        engine.dispose()


def test_a_backup_taken_before_the_change(
    blank_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backup written at 0017 (text dates), restored into a 0017 database and upgraded: every
    record and date kept; then a backup at head restores and reads back the same."""
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        command.downgrade(alembic_config(engine), BEFORE)
        with monkeypatch.context() as old_code:  # the tables as the code of 0017 declared them
            old_code.setattr(backup, "_tables", lambda: _tables_at(engine))
            counts = _backup_and_restore(engine, tmp_path / "before.json")
        assert counts["exchange"] > 50 and counts["commitment"] > 100
        before = snapshot(engine)

        command.upgrade(alembic_config(engine), "head")
        assert snapshot(engine, before) == before

        _backup_and_restore(engine, tmp_path / "after.json")
        with engine.connect() as conn:
            again: dict[str, Any] = backup.dump(conn)
        assert again == json.loads((tmp_path / "after.json").read_text())
        assert snapshot(engine, before) == before
    finally:
        engine.dispose()


def test_a_date_the_rule_refuses_stops_the_upgrade_and_says_which(blank_url: str) -> None:  # noqa: F811
    """A date typed before the year bound existed (9999 was accepted until 2026-12-06) stops
    migration 0018 with the record, the field and the reason, and the database stays at 0017
    (nothing half converted); corrected, the upgrade goes through."""
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), BEFORE)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO country (code, name, region, subregion, "
                    "intermediate_region) VALUES ('PER', 'Peru', '', '', '')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO need (id, country, title, themes, languages, modalities, status, "
                    "desired_to, created_at, updated_at, version) VALUES ('n-far', 'PER', 'Far', "
                    "'[]', '[]', '[]', 'open', '9999', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                )
            )
        with pytest.raises(RuntimeError, match=r"need 'n-far': desired_to '9999'.*1900 to 2100"):
            command.upgrade(alembic_config(engine), "head")
        with engine.connect() as conn:
            at = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            assert at == BEFORE
            assert conn.execute(text("SELECT desired_to FROM need")).scalar_one() == "9999"
        with engine.begin() as conn:
            conn.execute(text("UPDATE need SET desired_to = '2099'"))
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
