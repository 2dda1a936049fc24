"""The prepared matching corpus kept between rankings (``matchruns.prepared_corpus``): reused
while nothing it reads changes, rebuilt after any committed write to any table it reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from sscmatch import caches
from sscmatch.bundle.load import import_bundle
from sscmatch.db import CHANGE_TRACKED_TABLES
from sscmatch.models import Capacity, Commitment, Exchange, Institution, Need, Theme, Veto
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow.encode import build_corpus

ROOT = Path(__file__).resolve().parents[2]

DERIVED = {"text_vector": "made from the records' texts, which move the version themselves"}
"""Tables the corpus reads that need not move the version, and why."""


@pytest.fixture
def loaded(session: Session) -> Session:
    import_bundle(session, ROOT / "data", load_vocabulary())
    session.commit()
    return session


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times the corpus was built from the records."""
    count = [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return build_corpus(*args, **kwargs)

    monkeypatch.setattr(matchruns, "build_corpus", counted)
    yield count


def _ranking(session: Session, need_id: str) -> list[dict[str, Any]]:
    """A live ranking as a request makes it: the request's transaction then ends (the text
    vectors the corpus made, when the job had not made them yet, are not kept)."""
    proposals = matchruns.compute(session, load_vocabulary(), need_ids=[need_id], top_k=5)
    session.rollback()
    return [p.to_dict() for p in proposals]


def _fresh(session: Session, need_id: str) -> list[dict[str, Any]]:
    caches.clear_all()
    return _ranking(session, need_id)


def test_the_corpus_reads_only_tables_that_move_the_version(loaded: Session) -> None:
    read: set[str] = set()
    engine = loaded.get_bind()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            read.update(re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', statement, re.IGNORECASE))

    event.listen(engine, "before_cursor_execute", note)
    try:
        build_corpus(loaded, load_vocabulary())
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert {"capacity", "need", "exchange", "veto", "theme"} <= read  # the capture is real
    untracked = read - set(CHANGE_TRACKED_TABLES) - set(DERIVED)
    assert not untracked, f"the corpus reads {untracked}, whose changes do not move the version"


def test_a_kept_corpus_is_reused_until_a_record_changes(loaded: Session, builds: list[int]) -> None:
    need = _open_need(loaded)
    first = _ranking(loaded, need.id)
    assert _ranking(loaded, need.id) == first and builds[0] == 1
    need.title = need.title + " (edited)"
    loaded.commit()
    _ranking(loaded, need.id)
    assert builds[0] == 2


def test_a_session_with_uncommitted_writes_keeps_nothing(
    loaded: Session, builds: list[int]
) -> None:
    need = _open_need(loaded)
    need.title = need.title + " (not committed)"
    loaded.flush()
    for _ in range(2):
        matchruns.compute(loaded, load_vocabulary(), need_ids=[need.id], top_k=5)
    assert builds[0] == 2 and len(caches.CACHES["prepared corpus"]) == 0
    loaded.rollback()


def _open_need(session: Session) -> Need:
    return session.exec(
        select(Need).where(Need.status == "open", Need.country == "GTM").order_by(col(Need.id))
    ).first() or pytest.fail("the knowledge base has no open need of Guatemala")


def test_every_write_the_corpus_reads_is_seen(loaded: Session, builds: list[int]) -> None:
    """One committed write to each table the corpus reads: the kept corpus is built again, and
    the ranking it gives is the ranking of a corpus built from nothing."""
    need = _open_need(loaded)
    top: dict[str, Any] = {}  # the first proposal before each write

    def veto(s: Session) -> None:
        s.add(Veto(provider=top["provider"], recipient=need.country, reason="test"))

    def unpublish(s: Session) -> None:
        capacity = s.get(Capacity, top["capacity"]) if top["capacity"] else None
        assert capacity is not None, "the first proposal should be a registered offer"
        capacity.status = "archived"

    def exchange(s: Session) -> None:
        s.add(
            Exchange(
                id="test-x1",
                title="Study visit",
                providers=["CHL"],
                recipients=[need.country],
                themes=list(need.themes),
                start="2020",
            )
        )

    def commitment(s: Session) -> None:
        done = s.exec(select(Commitment).where(Commitment.status == "pending")).first()
        assert done is not None
        done.status = "fulfilled"

    def institution(s: Session) -> None:
        body = s.exec(select(Institution).where(col(Institution.international).is_(False))).first()
        assert body is not None
        body.international = True

    def theme(s: Session) -> None:
        s.add(Theme(id="test-theme", label_en="A theme of the test", parent=need.themes[0]))

    def need_themes(s: Session) -> None:
        edited = s.get(Need, need.id)
        assert edited is not None
        edited.description = (edited.description or "") + " Labour inspection in agriculture."

    writes: dict[str, Callable[[Session], None]] = {
        "veto": veto,
        "capacity": unpublish,
        "exchange": exchange,
        "commitment": commitment,
        "institution": institution,
        "theme": theme,
        "need": need_themes,
    }
    changed = set()
    for name, write in writes.items():
        before = _ranking(loaded, need.id)
        top.clear()
        top.update(before[0])
        built = builds[0]
        write(loaded)
        loaded.commit()
        kept = _ranking(loaded, need.id)
        assert builds[0] == built + 1, f"a write to {name} left the kept corpus in place"
        assert kept == _fresh(loaded, need.id), f"after a write to {name}"
        if kept != before:
            changed.add(name)
    assert {"veto", "capacity"} <= changed  # the writes bite: the ranking moved
