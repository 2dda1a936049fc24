"""Leave-one-out evaluation: every exchange is a case once, ranked without itself and with
everything else; only methods that read nothing but their snapshot take part."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sscmatch.matching import evaluation as ev
from sscmatch.matching.leaveout import KINDS, leave_one_out
from tests.matching.helpers import record_prepares
from tests.matching.test_evaluation import dated_corpus


def test_each_exchange_is_ranked_without_itself_and_with_everything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = record_prepares(monkeypatch)
    corpus = dated_corpus()
    report = leave_one_out(corpus, only=[ev.FULL, "popularity"])
    year = max(e.start.year for e in corpus.exchanges) + 1
    tested = sorted({c.exchange for c in report.cases})
    assert tested and len(seen) == len(tested)
    every = {e.id for e in corpus.exchanges}
    for (snap, as_of), exchange in zip(seen, tested, strict=True):
        assert as_of == date(year, 1, 1)
        assert {e.id for e in snap.exchanges} == every - {exchange}
        pseudo = {n.id for n in snap.needs} - {n.id for n in corpus.needs}
        assert pseudo == {c.need.id for c in report.cases if c.exchange == exchange}
    assert report.cutoffs == {year: len(report.cases)}
    assert all(c.cutoff == year for c in report.cases)


def test_only_methods_that_read_their_snapshot_alone_take_part() -> None:
    report = leave_one_out(dated_corpus())
    kinds = {r.kind for r in report.rows}
    assert kinds == set(KINDS)  # no calibrated matcher, no rule chosen on earlier windows
    assert ev.NO_FAMILY not in {r.method for r in report.rows}
    for unit in ev.UNITS:
        m = report.margins[("all", unit)]
        assert m.value == pytest.approx(m.full - m.rule)
        assert m.low <= m.high
    text = ev.markdown(report)
    assert "Leave one out: each of" in text
    assert "Cut-offs (each tests" not in text


def test_a_corpus_without_exchanges_gives_an_empty_report() -> None:
    corpus = dated_corpus()
    report = leave_one_out(replace(corpus, exchanges=[]))
    assert report.cases == [] and report.rows == []
