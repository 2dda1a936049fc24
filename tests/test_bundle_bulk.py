"""The bulk import path (Core executemany, COPY on PostgreSQL) on the knowledge base: the rows it
stores equal those the ORM stored, a second import changes nothing, an error or a crash late in
the import leaves nothing behind, and progress reaches the end of each step."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from sscmatch import relations
from sscmatch.bundle import BundleError, import_bundle
from sscmatch.bundle.format import TABLES
from sscmatch.bundle.read import read_bundle
from sscmatch.bundle.validate import StoredIds, validate
from sscmatch.bundle.write import MODELS, TableWriter
from sscmatch.db import change_version, session_scope
from sscmatch.vocab import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_BASE = ROOT / "data"
TIMES = ("created_at", "updated_at")


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["sscmatch.engine"]
    return engine


def raw_rows(engine: Engine, keep_times: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every row of the bundle tables as the driver returns it (JSON lists as their stored text),
    by id; creation and change times left out unless asked for."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            name = MODELS[table].__table__.name  # type: ignore[attr-defined]
            rows = conn.exec_driver_sql(f'SELECT * FROM "{name}" ORDER BY id').mappings()
            out[table] = [
                {k: v for k, v in row.items() if keep_times or k not in TIMES} for row in rows
            ]
    return out


def copy_of_knowledge_base(folder: Path) -> Path:
    folder.mkdir()
    for file in KNOWLEDGE_BASE.glob("*.csv"):
        shutil.copy(file, folder / file.name)
    return folder


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            t: s.execute(select(func.count()).select_from(MODELS[t])).scalar_one() for t in TABLES
        }


def orm_write(session: Session, records: dict[str, list[Any]]) -> None:
    """The writes as import_bundle made them before the bulk path: one ORM object a record."""
    for table in TABLES:
        for record in records[table]:
            session.add(MODELS[table](**record.model_dump()))
        session.flush()


def test_bulk_rows_equal_the_orm_rows_on_the_knowledge_base(app: Flask) -> None:
    engine = engine_of(app)
    vocab = load_vocabulary()
    with session_scope(engine) as s:
        report = import_bundle(s, KNOWLEDGE_BASE, vocab)
    bulk = raw_rows(engine)
    assert sum(len(rows) for rows in bulk.values()) == sum(report.created.values()) > 700
    with session_scope(engine) as s:
        for table in reversed(TABLES):
            s.execute(delete(MODELS[table].__table__))  # type: ignore[attr-defined]
    valid, problems = validate(read_bundle(KNOWLEDGE_BASE), vocab, StoredIds())
    assert not problems
    with session_scope(engine) as s:
        orm_write(s, valid.records)
    assert raw_rows(engine) == bulk


def test_bulk_rows_carry_one_creation_time_and_version_one(app: Flask) -> None:
    engine = engine_of(app)
    with session_scope(engine) as s:
        import_bundle(s, KNOWLEDGE_BASE, load_vocabulary(), user_id=None)
    with Session(engine) as s:
        for table in ("capacities", "exchanges", "commitments"):
            model = MODELS[table]
            rows = s.execute(
                select(model.created_at, model.updated_at, model.version)  # type: ignore[attr-defined]
            ).all()
            assert rows and len({r for r in rows}) == 1  # the same for every row of the import
            created, updated, version = rows[0]
            assert created == updated and created.tzinfo is not None and version == 1


def test_reimport_changes_nothing_not_even_the_data_version(app: Flask) -> None:
    engine = engine_of(app)
    with session_scope(engine) as s:
        first = import_bundle(s, KNOWLEDGE_BASE, load_vocabulary())
    before = raw_rows(engine, keep_times=True)
    with Session(engine) as s:
        version = change_version(s)
    with session_scope(engine) as s:
        again = import_bundle(s, KNOWLEDGE_BASE, load_vocabulary())
    assert not again.created and not again.updated
    assert again.unchanged == first.created
    assert raw_rows(engine, keep_times=True) == before
    with Session(engine) as s:
        assert change_version(s) == version  # not a single row was written


def test_reimport_updates_just_the_changed_records(app: Flask, tmp_path: Path) -> None:
    engine = engine_of(app)
    with session_scope(engine) as s:
        import_bundle(s, KNOWLEDGE_BASE, load_vocabulary())
    changed = copy_of_knowledge_base(tmp_path / "kb")
    capacities = (changed / "capacities.csv").read_text().splitlines(keepends=True)
    header, rows = capacities[0], capacities[1:]
    edited = {row.split(",", 1)[0] for row in rows[:3]}
    rows[:3] = [row.replace("published", "archived", 1) for row in rows[:3]]
    (changed / "capacities.csv").write_text(header + "".join(rows))
    with Session(engine) as s:
        archived = set(
            s.execute(
                select(MODELS["capacities"].id).where(MODELS["capacities"].status == "archived")  # type: ignore[attr-defined]
            ).scalars()
        )
    expected = {i for i in edited if i not in archived}
    assert expected, "the first capacities of the knowledge base should be published"
    with session_scope(engine) as s:
        report = import_bundle(s, changed, load_vocabulary(), user_id=None)
    assert report.updated == {"capacities": len(expected)}
    with Session(engine) as s:
        model: Any = MODELS["capacities"]
        versions = dict(s.execute(select(model.id, model.version)).all())
        statuses = dict(s.execute(select(model.id, model.status)).all())
    assert {i for i, v in versions.items() if v == 2} == expected
    assert all(statuses[i] == "archived" for i in edited)
    assert set(versions.values()) == {1, 2}


def test_an_error_in_the_very_last_row_writes_nothing(app: Flask, tmp_path: Path) -> None:
    bundle = copy_of_knowledge_base(tmp_path / "kb")
    lines = (bundle / "commitments.csv").read_text().rstrip("\n").split("\n")
    lines.append("k-last,no-such-exchange,,BRA,,A commitment too many,,pending,,here")
    (bundle / "commitments.csv").write_text("\n".join(lines) + "\n")
    engine = engine_of(app)
    with pytest.raises(BundleError) as info, session_scope(engine) as s:
        import_bundle(s, bundle, load_vocabulary())
    assert [str(p) for p in info.value.problems] == [
        f"commitments.csv:{len(lines)}: exchange: unknown exchange 'no-such-exchange' "
        "(expected the id of an exchange in this bundle or already stored)"
    ]
    assert set(counts(engine).values()) == {0}


def test_a_crash_while_writing_the_last_table_leaves_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_of(app)
    original = TableWriter.write
    written_before_crash: dict[str, int] = {}

    def crash_on_commitments(self: TableWriter, records: list[dict[str, Any]]) -> None:
        if self.table == "commitments":
            for table in TABLES[:-1]:
                model: Any = MODELS[table]
                written_before_crash[table] = self.session.execute(
                    select(func.count()).select_from(model)
                ).scalar_one()
            raise RuntimeError("simulated crash while writing")
        original(self, records)

    monkeypatch.setattr(TableWriter, "write", crash_on_commitments)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        import_bundle(s, KNOWLEDGE_BASE, load_vocabulary())
    assert written_before_crash["exchanges"] > 0 and written_before_crash["capacities"] > 0
    assert set(counts(engine).values()) == {0}


def test_progress_reaches_the_end_of_each_step(app: Flask) -> None:
    calls: list[tuple[str, int, int]] = []
    with session_scope(engine_of(app)) as s:
        report = import_bundle(
            s, KNOWLEDGE_BASE, load_vocabulary(), progress=lambda *a: calls.append(a)
        )
    records = sum(report.created.values())
    for step in ("validate", "write"):
        mine = [(done, total) for name, done, total in calls if name == step]
        assert mine[-1] == (records, records), step
        assert [d for d, _ in mine] == sorted(d for d, _ in mine)  # never backwards
    assert [name for name, _, _ in calls] == sorted(
        (name for name, _, _ in calls), key=("validate", "write").index
    )


def test_cli_import_names_each_step(runner: Any) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["import", str(KNOWLEDGE_BASE)])
    assert result.exit_code == 0, result.output
    assert "Validating" in result.output and "Writing" in result.output


@pytest.mark.on_database("sqlite")  # a SQLite connection setting
def test_sqlite_cache_size_is_given_back(app: Flask) -> None:
    engine = engine_of(app)
    assert engine.dialect.name == "sqlite"
    with session_scope(engine) as s:
        before = s.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
        import_bundle(s, KNOWLEDGE_BASE, load_vocabulary())
        assert s.connection().execute(text("PRAGMA cache_size")).scalar_one() == before


def test_reimport_writes_only_the_association_rows_that_changed(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-import writes no association row of a record whose lists kept their values (an
    edited title), and only their own rows for a country moved to another role, a reordered
    list and a theme added; the rows then say what the lists say."""
    engine = engine_of(app)
    with session_scope(engine) as s:
        import_bundle(s, KNOWLEDGE_BASE, load_vocabulary())
    changed = copy_of_knowledge_base(tmp_path / "kb")
    path = changed / "exchanges.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    first, second, third = rows[:3]
    assert (first["participants"], first["recipients"]) == ("BRA", "")
    assert first["themes"] == "conditional-cash-transfers;education"
    first.update(participants="", recipients="BRA", themes="education;conditional-cash-transfers")
    second["title"] += " (edited)"
    third["themes"] += ";youth-employment"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    written: list[tuple[str, Any]] = []  # (table, row or parameters) of every write
    real_write, real_execute = relations.write_rows, Connection.execute

    def write_rows(conn: Connection, table: Any, new: Any) -> None:
        written.extend((table.name, row) for row in new)
        real_write(conn, table, new)

    def execute(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(statement, "is_dml", False) and statement.table in relations.TABLES:
            written.extend((statement.table.name, p) for p in (args[0] if args else [{}]))
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(relations, "write_rows", write_rows)
    monkeypatch.setattr(Connection, "execute", execute)
    with session_scope(engine) as s:
        report = import_bundle(s, changed, load_vocabulary())
    monkeypatch.undo()
    assert report.updated == {"exchanges": 3}
    new_theme = (third["id"], "youth-employment", len(third["themes"].split(";")) - 1)
    assert sorted(written, key=str) == sorted(
        [
            (
                "exchange_country",
                {"k_exchange": first["id"], "k_role": "participant", "k_country": "BRA"},
            ),
            ("exchange_country", (first["id"], "recipient", "BRA", 0)),
            ("exchange_theme", {"k_exchange": first["id"], "k_theme": "education", "p": 0}),
            (
                "exchange_theme",
                {"k_exchange": first["id"], "k_theme": "conditional-cash-transfers", "p": 1},
            ),
            ("exchange_theme", new_theme),
        ],
        key=str,
    )
    with engine.connect() as conn:
        assert relations.mismatches(conn) == []
