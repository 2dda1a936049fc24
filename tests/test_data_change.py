"""The change counter behind every cache (``data_change``, kept by triggers), and a migration from
the previous schema that keeps every record."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sscmatch.bundle import import_bundle
from sscmatch.dates import PartialDate
from sscmatch.db import (
    CHANGE_TRACKED_TABLES,
    alembic_config,
    change_version,
    make_engine,
)
from sscmatch.models import Institution
from sscmatch.vocab import load_vocabulary
from tests.conftest import BACKENDS, PG_URL, fresh_pg_schema

ROOT = Path(__file__).resolve().parents[1]

# One row per tracked table, inserted with plain SQL (the triggers must see any writer).
ROWS = {
    "institution": "INSERT INTO institution (id, name, country, constituency, international, languages, "
    "created_at, updated_at, version) VALUES ('dc-i', 'Body', 'BRA', 'government', false, '[]', "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
    "capacity": "INSERT INTO capacity (id, country, title, themes, languages, modalities, status, "
    "created_at, updated_at, version) VALUES ('dc-c', 'BRA', 'T', '[]', '[]', '[]', 'draft', "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
}


def version(engine: Engine) -> tuple[int, str]:
    with Session(engine) as session:
        return change_version(session)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def test_every_tracked_table_has_its_trigger(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            names = conn.execute(
                text(
                    "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                    "WHERE trigger_schema = current_schema()"
                )
            ).scalars()
        else:
            names = conn.execute(
                text("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
        assert set(names) >= set(CHANGE_TRACKED_TABLES)


def test_insert_update_delete_each_move_the_version(engine: Engine) -> None:
    seen = [version(engine)]
    for statement in (
        ROWS["institution"],
        ROWS["capacity"],
        "UPDATE capacity SET title = 'Retitled' WHERE id = 'dc-c'",
        "DELETE FROM capacity WHERE id = 'dc-c'",
    ):
        with engine.begin() as conn:
            conn.execute(text(statement))
        seen.append(version(engine))
    assert len(set(seen)) == len(seen), seen


def test_a_rolled_back_write_and_untracked_tables_leave_it(engine: Engine) -> None:
    before = version(engine)
    with engine.connect() as conn:
        conn.execute(text(ROWS["institution"]))
        conn.rollback()
    with engine.begin() as conn:  # users signing in is not a change of the records
        conn.execute(
            text(
                'INSERT INTO "user" (email, name, role, password_hash, active, language, '
                "created_at) VALUES ('dc@example.org', 'DC', 'analyst', 'x', "
                "true, 'en', CURRENT_TIMESTAMP)"
            )
        )
    assert version(engine) == before


def test_a_session_with_uncommitted_writes_gets_no_version(engine: Engine) -> None:
    """Its reads include writes no committed version describes: nothing may be cached for it."""
    with Session(engine) as session:
        assert change_version(session) is not None  # reading only
        session.connection().execute(text(ROWS["institution"]))  # a plain SQL write
        assert change_version(session) is None
        session.rollback()
        assert change_version(session) is not None
        session.add(Institution(id="dc-orm", name="Body", country="BRA"))
        assert change_version(session) is None  # pending, not even flushed
        session.commit()
        assert change_version(session) is not None


def test_a_recreated_counter_never_repeats_a_version(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(ROWS["institution"]))
    first = version(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM data_change"))
        conn.execute(text("DELETE FROM institution WHERE id = 'dc-i'"))
    again = version(engine)
    assert again[0] == 1 and again != first  # counting from 1 again, under a new epoch


def test_an_import_moves_it_once_per_transaction_on_postgresql(engine: Engine) -> None:
    before = version(engine)
    with Session(engine) as session:
        import_bundle(session, ROOT / "data", load_vocabulary())
        session.commit()
    after = version(engine)
    assert after != before
    if engine.dialect.name == "postgresql":  # deferred to commit, once per transaction
        assert after[0] == before[0] + 1


@pytest.mark.skipif(PG_URL is None, reason="PostgreSQL only: SQLite serialises all writers")
def test_writers_do_not_queue_on_the_counter(request: pytest.FixtureRequest) -> None:
    """A transaction that wrote and is still open does not hold up another writer's commit (the
    counter is touched only at commit), and its change shows in the version when it commits."""
    url = request.getfixturevalue("pg_schema_url")
    from tests.conftest import _empty_pg

    _empty_pg(url)
    engine = make_engine(url)
    try:
        slow = engine.connect()
        slow.execute(text(ROWS["institution"]))  # open, uncommitted
        before = version(engine)
        done = threading.Event()

        def other_writer() -> None:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                conn.execute(text(ROWS["capacity"]))
            done.set()

        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(timeout=10)
        assert done.is_set(), "the second writer waited for the first one's transaction"
        middle = version(engine)
        slow.commit()
        slow.close()
        assert before[0] < middle[0] < version(engine)[0]
    finally:
        engine.dispose()


# --------------------------------------------------------------------- migration from 0002


@pytest.fixture(params=BACKENDS)
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    with fresh_pg_schema("sscmatch_mig") as url:
        yield url


def snapshot(engine: Engine, like: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Every row of every table, read through the database's own schema (not the models, which
    may be newer); with ``like``, only its tables and columns."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name in ("alembic_version", "data_change") or (
                like and table.name not in like
            ):
                continue
            wanted = set(like[table.name][0]) if like and like[table.name] else None
            periods = [p for p in wanted or () if f"{p}_date" in table.c]
            wanted = wanted and wanted | {
                f"{p}_{s}" for p in periods for s in ("date", "precision")
            }
            columns = [c for c in table.c if not wanted or c.name in wanted]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns)).mappings()
            out[table.name] = [_as_text(dict(r), periods) for r in rows]
    return out


def _as_text(row: dict[str, Any], periods: list[str]) -> dict[str, Any]:
    """A partial date's two columns (migration 0018) as the text the older schema held."""
    for name in periods:
        value = PartialDate.of(row.pop(f"{name}_date"), row.pop(f"{name}_precision"))
        row[name] = None if value is None else str(value)
    return row


def test_upgrading_from_the_previous_schema_keeps_every_record(blank_url: str) -> None:
    """A database at 0002 (before the change counter) with the knowledge base, upgraded to head:
    every row of every table keeps every value; down to 0002 and up again too.

    The knowledge base is imported at head (the models are of the newest schema) and the
    database taken down to 0002 before the snapshot: what is compared is a 0002 database."""
    from sscmatch.workflow.countries import sync_countries

    engine = make_engine(blank_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        with engine.begin() as conn:
            session = Session(bind=conn)
            sync_countries(session, load_vocabulary())
            import_bundle(session, ROOT / "data", load_vocabulary())
            session.flush()
        command.downgrade(alembic_config(engine), "0002")
        before = snapshot(engine)
        assert len(before["exchange"]) > 50 and len(before["commitment"]) > 100

        command.upgrade(alembic_config(engine), "head")
        assert snapshot(engine, before) == before
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE exchange SET title = title || ' ' WHERE id = (SELECT MIN(id) FROM exchange)"
                )
            )
        assert version(engine)[0] >= 1  # the new triggers work on the old records

        command.downgrade(alembic_config(engine), "0002")  # and back: still every record
        after = snapshot(engine, before)
        assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
