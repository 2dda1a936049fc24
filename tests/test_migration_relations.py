"""Migration 0016 (association tables for themes, languages and the countries of an exchange by
role) on the knowledge base and on a backup taken before it, on SQLite and PostgreSQL: every
record's lists come across as rows, equal to what the write path makes, and backup/restore
round-trips afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sscmatch import relations
from sscmatch.bundle import import_bundle
from sscmatch.db import alembic_config, make_engine
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import backup
from sscmatch.workflow.countries import sync_countries
from tests.test_data_change import blank_url, snapshot  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "0015"
RELATION_TABLES = {t.name for t in relations.TABLES}


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in relations.TABLES
        }


def _mismatches(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return relations.mismatches(conn)


def _lists(engine: Engine) -> dict[str, dict[str, list[str]]]:
    """Every record's lists, read as JSON from the records themselves."""
    out = {}
    with engine.connect() as conn:
        for name, kept in relations.RELATIONS.items():
            fields = ", ".join(dict.fromkeys(r.field for r in kept))
            for row in conn.execute(text(f"SELECT id, {fields} FROM {name}")).mappings():
                out[f"{name} {row['id']}"] = {k: json.loads(v) for k, v in row.items() if k != "id"}
    return out


def _knowledge_base(engine: Engine) -> None:
    with engine.begin() as conn:
        session = Session(bind=conn)
        sync_countries(session, load_vocabulary())
        import_bundle(session, ROOT / "data", load_vocabulary())
        session.flush()


def test_migration_fills_every_record_s_rows(blank_url: str) -> None:  # noqa: F811
    """The knowledge base at head (rows by the write path), taken down to 0015 (no rows, only the
    JSON lists), plus records the validator would not let in (a repeated theme, a country the
    country table lacks), then upgraded: the migration's rows equal the write path's, for every
    record, and no record changed."""
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        written = _rows(engine)
        assert len(written["exchange_country"]) > 200 and len(written["capacity_theme"]) > 300
        assert _mismatches(engine) == []

        command.downgrade(alembic_config(engine), BEFORE)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO exchange (id, start, providers, recipients, participants, "
                    "partners, themes, languages, created_at, updated_at, version) VALUES "
                    "('odd-1', '2020', '[\"BRA\",\"ZZZ\"]', '[\"PER\"]', '[]', "
                    '\'["ilo-ipec","A funder"]\', \'["child-labour","education","child-labour"]\', '
                    "'[\"es\"]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                )
            )
        before = snapshot(engine)
        assert not RELATION_TABLES & set(before)
        lists = _lists(engine)

        command.upgrade(alembic_config(engine), "head")
        after = snapshot(engine, before)
        countries = before.pop("country")
        added = [c for c in after.pop("country") if c not in countries]
        assert after == before  # every record as it was
        assert [c["code"] for c in added] == ["ZZZ"]  # the unknown country kept, not lost
        assert _lists(engine) == lists
        assert _mismatches(engine) == []  # every list, as rows in its order
        migrated = _rows(engine)
        odd = [r for r in migrated["exchange_theme"] if r[0] == "odd-1"]
        assert odd == [("odd-1", "child-labour", 0), ("odd-1", "education", 1)]
        assert ("odd-1", "provider", "ZZZ", 1) in migrated["exchange_country"]
        with engine.begin() as conn:  # the rows of the made-up record aside, the same rows
            conn.execute(text("DELETE FROM exchange WHERE id = 'odd-1'"))  # (and they cascade)
        assert _rows(engine) == written
    finally:
        engine.dispose()


def _tables_at(engine: Engine) -> list[Any]:
    """The tables a backup of the database's own revision holds (read from the database, not
    from today's models): what the code of that revision backed up."""
    meta = MetaData()
    meta.reflect(engine)
    skip = backup.NOT_BACKED_UP | {"alembic_version"}
    return [t for t in meta.sorted_tables if t.name not in skip]


def _backup_and_restore(engine: Engine, path: Path) -> dict[str, int]:
    """Back the database up to ``path``, empty it (the association rows with their records) and
    restore the backup into it."""
    with engine.connect() as conn:
        backup.write_backup(conn, path)
    with engine.begin() as conn:
        for table in reversed(backup._tables()):
            if table.name != "country":
                conn.execute(table.delete())
        assert conn.execute(text("SELECT COUNT(*) FROM exchange")).scalar_one() == 0
    with engine.begin() as conn:
        return backup.restore_backup(conn, path)


def test_a_backup_taken_before_the_change(
    blank_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backup written at 0015 (by the code of then: no association tables), restored into a
    0015 database and upgraded: every record's lists are rows; then a backup at head restores
    into an empty database and reads back the same."""
    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        _knowledge_base(engine)
        command.downgrade(alembic_config(engine), BEFORE)
        with monkeypatch.context() as old_code:  # the tables as the code of 0015 declared them
            old_code.setattr(backup, "_tables", lambda: _tables_at(engine))
            counts = _backup_and_restore(engine, tmp_path / "before.json")
        assert counts["exchange"] > 50 and "exchange_country" not in counts
        lists = _lists(engine)

        command.upgrade(alembic_config(engine), "head")
        assert _lists(engine) == lists
        assert _mismatches(engine) == []

        _backup_and_restore(engine, tmp_path / "after.json")
        with engine.connect() as conn:
            again = backup.dump(conn)
        assert again == json.loads((tmp_path / "after.json").read_text())
        assert _lists(engine) == lists
        assert _mismatches(engine) == []
    finally:
        engine.dispose()
