"""Backup → restore into an empty database → backup gives the same document; bad input is refused."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sscmatch.bundle import import_bundle
from sscmatch.db import make_engine
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.backup import BackupError, dump, restore_backup, write_backup
from sscmatch.workflow.matchruns import run_and_store
from sscmatch.workflow.users import create_user

ROOT = Path(__file__).resolve().parents[2]


def _fill(engine: Any) -> None:
    with Session(engine) as s:
        import_bundle(s, ROOT / "data", load_vocabulary())
        create_user(s, "sec@test.org", "correct-horse-battery", "secretariat")
        run_and_store(s, load_vocabulary(), need_ids=["s000-n01", "s002-n20"], top_k=3)
        s.commit()


def capacities_in_data() -> int:
    """The knowledge base's capacities, counted from its file (the data changes; the count of
    what was imported must follow it)."""
    path = ROOT / "data" / "capacities.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def _empty(engine: Any) -> None:
    from sqlmodel import SQLModel

    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name != "country":
                conn.execute(table.delete())


def test_backup_restore_round_trip(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    _fill(engine)
    first = tmp_path / "one.json"
    with engine.connect() as conn:
        counts = write_backup(conn, first)
    assert counts["capacity"] == capacities_in_data()
    assert counts["proposal"] >= 4 and counts["user"] == 1
    _empty(engine)
    with engine.begin() as conn:
        restore_backup(conn, first)
    with engine.connect() as conn:
        again = dump(conn)
    assert again == json.loads(first.read_text())
    # New rows get fresh ids after a restore (PostgreSQL sequences moved past the restored ids).
    with Session(engine) as s:
        user = create_user(s, "new@test.org", "correct-horse-battery", "analyst")
        assert user.id == 2
        s.commit()
    engine.dispose()


def test_restore_refuses_a_non_empty_database(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    _fill(engine)
    path = tmp_path / "b.json"
    with engine.connect() as conn:
        write_backup(conn, path)
    with pytest.raises(BackupError, match="not empty"), engine.begin() as conn:
        restore_backup(conn, path)
    engine.dispose()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable backup"),
        ('{"format": "other"}', "not an sscmatch backup"),
        ('{"format": "sscmatch-backup", "revision": "0000", "tables": {}}', "schema revision"),
    ],
)
def test_restore_refuses_bad_files(
    database_url: str, tmp_path: Path, content: str, message: str
) -> None:
    engine = make_engine(database_url)
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BackupError, match=message), engine.begin() as conn:
        restore_backup(conn, path)
    engine.dispose()
