"""Weights learned from history: what the data favours moves them, small data cannot, the
topic guarantee holds, and nothing on or after the calibration date is looked at."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import numpy as np

from sscmatch.matching import DEFAULT_WEIGHTS, FACTORS, ExchangeItem
from sscmatch.matching import factors as F
from sscmatch.matching.calibration import (
    MIN_CASES,
    Example,
    calibrate,
    fit,
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
