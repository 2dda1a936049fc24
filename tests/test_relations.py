"""The association tables (sscmatch.relations) stay in step with the records' lists through every
write path (ORM flushes, the bulk import, a re-import that changes lists, deletes), and the lists
filter through them exactly as the lists say."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sscmatch import relations
from sscmatch.bundle import import_bundle
from sscmatch.db import session_scope
from sscmatch.models import Commitment, Exchange, Need
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import registry as reg
from sscmatch.workflow.registry import RecordFilter
from sscmatch.workflow.visibility import SYSTEM

ROOT = Path(__file__).resolve().parents[1]
VOCAB = load_vocabulary()


def _engine(app: Flask) -> Engine:
    engine: Engine = app.extensions["sscmatch.engine"]
    return engine


def _in_step(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return relations.mismatches(conn)


def _countries(engine: Engine, exchange: str) -> list[tuple[str, str, int]]:
    t = relations.exchange_country
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.role, t.c.country, t.c.position)
            .where(t.c.exchange == exchange)
            .order_by(t.c.role, t.c.position)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_orm_writes_keep_the_rows(app: Flask) -> None:
    engine = _engine(app)
    with session_scope(engine) as s:
        s.add(
            Exchange(
                id="x1",
                start="2020",
                providers=["BRA", "ARG"],
                recipients=["PER"],
                themes=["child-labour-monitoring", "education", "child-labour-monitoring"],
                languages=["es"],
                partners=["ilo-ipec"],
            )
        )
        s.add(Need(id="n1", country="PER", title="A need", themes=["education"], languages=["es"]))
    assert _countries(engine, "x1") == [
        ("provider", "BRA", 0),
        ("provider", "ARG", 1),
        ("recipient", "PER", 0),
    ]
    assert _in_step(engine) == []
    with session_scope(engine) as s:
        x = s.get(Exchange, "x1")
        assert x is not None
        x.providers = ["ARG"]
        x.participants = ["BOL"]
        x.title = "Renamed"  # a field without rows changes nothing of them
        need = s.get(Need, "n1")
        assert need is not None
        need.themes = ["child-labour-monitoring"]
    assert _countries(engine, "x1") == [
        ("participant", "BOL", 0),
        ("provider", "ARG", 0),
        ("recipient", "PER", 0),
    ]
    assert _in_step(engine) == []
    with Session(engine) as s:
        found = reg.search_needs(
            s, VOCAB, RecordFilter(theme="child-labour-monitoring"), viewer=SYSTEM
        )
        assert [n.id for n in found.items] == ["n1"]
    with session_scope(engine) as s:
        s.delete(s.get(Exchange, "x1"))
        s.delete(s.get(Need, "n1"))
    assert _countries(engine, "x1") == []
    with engine.connect() as conn:
        assert relations.stored(conn, "need") == {}


def test_bulk_import_and_reimport_keep_the_rows(app: Flask, tmp_path: Path) -> None:
    engine = _engine(app)
    with session_scope(engine) as s:
        import_bundle(s, ROOT / "data", VOCAB)
    assert _in_step(engine) == []
    changed = tmp_path / "kb"
    changed.mkdir()
    for file in (ROOT / "data").glob("*.csv"):
        shutil.copy(file, changed / file.name)
    lines = (changed / "exchanges.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    first = lines[1].split(",", 1)[0]
    assert ",BRA,bra-mte;bra-mre,conditional-cash-transfers;education," in lines[1]
    lines[1] = lines[1].replace(
        ",BRA,bra-mte;bra-mre,conditional-cash-transfers;education,",
        ",ARG;BRA,bra-mte,education,",
    )
    (changed / "exchanges.csv").write_text("".join(lines), encoding="utf-8")
    with session_scope(engine) as s:
        report = import_bundle(s, changed, VOCAB)
    assert report.updated == {"exchanges": 1}
    assert _in_step(engine) == []
    assert ("participant", "ARG", 0) in _countries(engine, first)
    with engine.begin() as conn:  # records deleted around the ORM take their rows along
        conn.execute(delete(Commitment.__table__))  # type: ignore[arg-type]
        conn.execute(delete(Exchange.__table__))  # type: ignore[arg-type]
    assert _in_step(engine) == []


def test_filters_find_what_the_lists_say(app: Flask) -> None:
    """Every country, theme and language filter of the lists on the knowledge base gives exactly
    the records whose lists hold it."""
    engine = _engine(app)
    with session_scope(engine) as s:
        import_bundle(s, ROOT / "data", VOCAB)
    with Session(engine) as s:
        exchanges = s.exec(select(Exchange)).scalars().all()  # type: ignore[call-overload]
        needs = s.exec(select(Need)).scalars().all()  # type: ignore[call-overload]
        for code in sorted({c for e in exchanges for c in (*e.providers, *e.recipients)})[:15]:
            found = reg.search_exchanges(s, VOCAB, RecordFilter(country=code), per_page=1000)
            expected = {
                e.id for e in exchanges if code in (*e.providers, *e.recipients, *e.participants)
            }
            assert {e.id for e in found.items} == expected, code
        for language in ("es", "pt", "fr", "en"):
            found = reg.search_exchanges(s, VOCAB, RecordFilter(language=language), per_page=1000)
            assert {e.id for e in found.items} == {
                e.id for e in exchanges if language in e.languages
            }
        for theme in sorted({t for n in needs for t in n.themes})[:15]:
            flt = RecordFilter(theme=theme)
            found_needs = reg.search_needs(s, VOCAB, flt, per_page=1000, viewer=SYSTEM)
            family = {theme, *VOCAB.children(theme)}
            assert {n.id for n in found_needs.items} == {
                n.id for n in needs if family & set(n.themes)
            }, theme
