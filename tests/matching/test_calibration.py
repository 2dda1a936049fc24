"""Weights learned from history: what the data favours moves them, small data cannot, the
topic guarantee holds, nothing on or after the calibration date is looked at, and runs use them
only when they ranked a held-out window better than the prior."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from sscmatch.matching import DEFAULT_WEIGHTS, FACTORS, Corpus, ExchangeItem, Weights
from sscmatch.matching import factors as F
from sscmatch.matching.calibration import (
    MIN_CASES,
    MIN_GAIN,
    Example,
    calibrate,
    fit,
    held_out_window,
    training_cutoffs,
)
from sscmatch.matching.model import CONTEXT_FACTORS
from sscmatch.matching.synth import SynthSize, generate


def planted(n: int, favoured: str, seed: int = 0) -> list[Example]:
    """Cases whose real provider is the candidate best on one factor."""
    rng = np.random.default_rng(seed)
    out = []
    k = FACTORS.index(favoured)
    for i in range(n):
        comps = rng.random((8, len(FACTORS)))
        relevant = np.zeros(8, dtype=bool)
        relevant[int(np.argmax(comps[:, k]))] = True
        out.append(Example(components=comps, relevant=relevant, project=f"P{i}"))
    return out


def test_what_the_history_favours_gains_weight() -> None:
    prior = DEFAULT_WEIGHTS
    for favoured in ("region", "follow_through", "maturity"):
        got = fit(planted(200, favoured), prior)
        assert got.factor(favoured) / got.total > prior.factor(favoured) / prior.total
        assert got.total == np.float64(prior.total) or abs(got.total - prior.total) < 1e-6


def test_small_data_keeps_the_prior() -> None:
    assert fit(planted(MIN_CASES - 1, "region"), DEFAULT_WEIGHTS) == DEFAULT_WEIGHTS


def test_the_topic_guarantee_holds_after_fitting() -> None:
    for favoured in ("region", "language", "relationship"):
        got = fit(planted(300, favoured), DEFAULT_WEIGHTS)
        assert got.topic_guarantee(F.OFF_TOPIC_GAP)
        assert got.topic * F.OFF_TOPIC_GAP >= sum(got.factor(k) for k in CONTEXT_FACTORS)


def test_one_project_with_many_recipients_counts_once() -> None:
    # 100 cases of one project favour region; 30 projects of one case favour maturity
    big = [replace(e, project="BIG") for e in planted(100, "region", seed=1)]
    small = planted(30, "maturity", seed=2)
    got = fit([*big, *small], DEFAULT_WEIGHTS)
    assert got.maturity / DEFAULT_WEIGHTS.maturity > got.region / DEFAULT_WEIGHTS.region


def test_calibration_never_looks_at_or_after_its_date() -> None:
    corpus = generate(SynthSize(countries=20, capacities=150, needs=10, exchanges=600, seed=3))
    until = date(2016, 1, 1)
    future = [
        ExchangeItem(
            id=f"F{i}",
            start=date(2016 + i % 8, 3, 1),
            providers=(e.recipients or e.participants or e.providers)[:1],
            recipients=(e.providers or e.participants)[:1],
            themes=e.themes,
        )
        for i, e in enumerate(corpus.exchanges[:200])
    ]
    later = replace(corpus, exchanges=[*corpus.exchanges, *future])
    a = calibrate(corpus, until)
    b = calibrate(later, until)
    assert a == b
    assert all(year + 2 <= until.year for year in a.cutoffs)
    assert a.figures is not None and a.figures.end == 2016 and a.figures.start == 2014
    assert 0.0 <= a.figures.hit3 <= 1.0 and 0.0 <= a.figures.best_rule_hit3 <= 1.0


def test_training_cutoffs_step_back_by_the_window() -> None:
    corpus = generate(SynthSize(countries=10, capacities=20, needs=5, exchanges=50, seed=1))
    first = min(e.start.year for e in corpus.exchanges)
    got = training_cutoffs(corpus, 2020, 3)
    assert got[-1] == 2017 and all(b - a == 3 for a, b in itertools.pairwise(got))
    assert got[0] > first


def _project_mrr(corpus: Corpus, start: int, end: int, weights: Weights) -> float:
    """MRR per project of ``weights`` on the window [start, end), computed the way the
    evaluation does (its own snapshot and ranking), to check the calibration's figures."""
    from sscmatch.matching.evaluation import engine_method, mean
    from sscmatch.matching.metrics import case_metrics
    from sscmatch.matching.replay import make_cases, snapshot

    cases = make_cases(corpus, corpus.exchanges, (start,), end - start)
    rankings = engine_method(weights)(snapshot(corpus, start, cases))
    per = {c.id: case_metrics(rankings[c.id], c.providers) for c in cases}
    return mean(per, cases, "mrr", "project")


def test_learnt_weights_are_used_only_when_they_beat_the_prior_on_the_held_out_window() -> None:
    outcomes = set()
    for seed in range(4):
        corpus = generate(
            SynthSize(countries=20, capacities=150, needs=10, exchanges=600, seed=seed)
        )
        got = calibrate(corpus, date(2016, 1, 1))
        f = got.figures
        assert f is not None and f.tested and (f.start, f.end) == (2014, 2016)
        assert f.adopted == (f.project_mrr >= f.prior_project_mrr + MIN_GAIN)
        assert got.used == (got.weights if f.adopted else got.prior)
        assert f.prior_project_mrr == pytest.approx(_project_mrr(corpus, f.start, f.end, got.prior))
        outcomes.add(f.adopted)
    # these four histories include fits that carried over to the next window and one that did
    # not, so both branches are exercised
    assert outcomes == {True, False}


def test_weights_that_could_not_be_tested_are_not_used() -> None:
    """Enough history for a fit, but too little before the held-out window to fit weights that
    differ from the prior: nothing was tested, so runs keep the prior."""
    corpus = generate(SynthSize(countries=20, capacities=150, needs=10, exchanges=600, seed=0))
    sparse = [e for e in corpus.exchanges if e.start.year < 2014 and int(e.id[2:]) % 40 == 0]
    recent = [e for e in corpus.exchanges if 2014 <= e.start.year < 2016]
    thin = replace(corpus, exchanges=[*sparse, *recent])
    assert held_out_window(thin, 2016, 2) == 2016
    got = calibrate(thin, date(2016, 1, 1))
    assert got.weights != got.prior  # the whole history taught something ...
    assert got.figures is not None and not got.figures.tested  # ... that nothing could test
    assert not got.figures.adopted and got.used == got.prior
