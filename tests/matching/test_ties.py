"""Near-ties (``ties.py``): scores closer than half a context factor are ordered by language,
then region, never across the line between offers that address the need and those that do
not; every other pair keeps its score order, and a proposal placed above a higher score says
so in its reasons. Checked on hand-made lists and on every ranked pair of random corpora."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from hypothesis import given, target
from hypothesis import strategies as st

from sscmatch.matching import DEFAULT_WEIGHTS, Proposal, Weights, rank, ties
from sscmatch.matching.ties import Candidate, near_tie, order
from tests.matching.test_properties import SETTINGS, corpus_for, dates, seeds, weights_st

DELTA = near_tie(DEFAULT_WEIGHTS)


def test_half_a_context_factor() -> None:
    assert abs(DELTA - 0.5 / 19) < 1e-12
    doubled = Weights(relationship=2, region=2, language=2)
    assert abs(near_tie(doubled) - 0.5 * 2 / doubled.total) < 1e-12


def c(
    key: float, code: int, language: float = 0.2, region: float = 0.1, on: bool = True
) -> Candidate:
    return Candidate(key, code, language, region, on)


def codes(cands: list[Candidate]) -> list[int]:
    return [cands[p.index].code for p in order(cands, DELTA)]


def test_language_then_region_decide_within_a_near_tie() -> None:
    cands = [c(0.60, 1), c(0.59, 2, region=1.0), c(0.595, 3, language=1.0)]
    assert codes(cands) == [3, 2, 1]
    placed = order(cands, DELTA)
    assert (placed[0].passed, placed[0].by) == (0, "language")
    assert (placed[1].passed, placed[1].by) == (0, "region")
    assert placed[2].passed == -1


def test_a_gap_larger_than_the_near_tie_keeps_the_score_order() -> None:
    assert codes([c(0.60, 1), c(0.60 - DELTA - 0.001, 2, language=1.0)]) == [1, 2]
    # the run is measured from its first candidate, not link by link
    chain = [c(0.60, 1), c(0.60 - 0.6 * DELTA, 2), c(0.60 - 1.2 * DELTA, 3, language=1.0)]
    assert codes(chain) == [1, 2, 3]


def test_offers_that_address_the_need_are_never_passed_by_ones_that_do_not() -> None:
    cands = [c(0.60, 1, on=True), c(0.599, 2, language=1.0, region=1.0, on=False)]
    assert codes(cands) == [1, 2]
    # ...nor the other way round: a class change ends the run
    cands = [c(0.60, 1, on=False), c(0.599, 2, language=1.0, on=True), c(0.598, 3, language=1.0)]
    assert codes(cands) == [1, 2, 3]


def test_equal_scores_go_to_the_lower_code_then_language_decides() -> None:
    assert codes([c(0.5, 7), c(0.5, 3)]) == [3, 7]
    assert codes([c(0.5, 3), c(0.5, 7, language=0.6)]) == [7, 3]


def near_tie_checks(props: list[Proposal], weights: Weights) -> int:
    """Every pair ranked against its score: same class, within the near-tie of each other, and
    the upper one better in language, or equal in language and better in region; every
    proposal placed above one that came first in the score order (a higher score, or an equal
    one and a lower country code) names one it passed. Returns the pairs checked."""
    delta = near_tie(weights)
    checked = 0
    by_need: dict[str, list[Proposal]] = {}
    for p in props:
        by_need.setdefault(p.need_id, []).append(p)
    for ranked in by_need.values():
        ranked.sort(key=lambda p: p.rank)
        for i, up in enumerate(ranked):
            for down in ranked[i + 1 :]:
                if round(down.score, 12) <= round(up.score, 12):
                    continue
                checked += 1
                assert up.addresses == down.addresses
                assert down.score - up.score <= delta + 1e-9
                lang_up, lang_down = (round(p.components["language"], 9) for p in (up, down))
                reg_up, reg_down = (round(p.components["region"], 9) for p in (up, down))
                assert lang_up > lang_down or (lang_up == lang_down and reg_up > reg_down)
            passed = [r for r in up.reasons if r.code.startswith("near_tie.")]
            # placed above in the score order: a higher score, or an equal one and a lower code
            above = [
                d
                for d in ranked[i + 1 :]
                if (round(d.score, 12), up.provider) > (round(up.score, 12), d.provider)
            ]
            assert bool(passed) == bool(above), (up, above)
            if passed:
                assert passed[0].params["country"] in {d.provider for d in above}
    return checked


@SETTINGS
@given(seed=seeds, weights=weights_st, as_of=dates)
def test_only_near_ties_leave_the_score_order(
    seed: int, weights: Weights, as_of: date | None
) -> None:
    w = dataclasses.replace(weights, hub_damping=0.0)
    corpus = corpus_for(seed)
    # the assertions are in near_tie_checks (every pair out of score order, every reason);
    # Hypothesis is steered toward examples with many such pairs, and the next test makes sure
    # pairs are found at all
    checked = near_tie_checks(rank(corpus, w, as_of=as_of, top_k=len(corpus.countries)), w)
    target(float(checked), label="pairs out of score order checked")


def test_near_ties_are_found_and_ordered_with_the_default_weights() -> None:
    corpus = corpus_for(0)
    props = rank(corpus, DEFAULT_WEIGHTS, top_k=len(corpus.countries))
    assert near_tie_checks(props, DEFAULT_WEIGHTS) > 10


@given(top=st.integers(1, 6), seed=seeds)
@SETTINGS
def test_the_top_k_is_the_head_of_the_whole_ranking(top: int, seed: int) -> None:
    """Ordering near-ties needs the exact scores of the countries just below the k-th: the
    engine's pruning keeps them (a short list is the head of the long one)."""
    corpus = corpus_for(seed)
    whole = rank(corpus, DEFAULT_WEIGHTS, top_k=len(corpus.countries), explain=False)
    head = [(p.need_id, p.provider, p.rank) for p in whole if p.rank <= top]
    short = rank(corpus, DEFAULT_WEIGHTS, top_k=top, explain=False)
    assert [(p.need_id, p.provider, p.rank) for p in short] == head


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 5, 40])
def test_all_rows_at_once_are_ordered_as_one_row_at_a_time(seed: int, k: int) -> None:
    """``select`` orders every need's candidates at once (``_order_rows``); ``order`` (the
    brute force's and the reference's) one need at a time (``_order_row``). On random rows
    full of near-ties (coarse keys, few languages and regions, both classes, empty rows),
    both place the same candidates, pass the same ones and name the same factor."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 25, size=60)
    rows = np.repeat(np.arange(lengths.size), lengths)
    n = rows.size
    # by row, then key descending (the order select hands over)
    key = np.round(rng.uniform(0.3, 0.5, n) / 0.01) * 0.01
    key = key[np.lexsort((-key, rows))]
    language = rng.choice([0.2, 0.5, 1.0], n)
    region = rng.choice([0.0, 0.5, 1.0], n)
    addresses = rng.random(n) < 0.8
    starts = np.searchsorted(rows, np.arange(lengths.size))
    ends = np.r_[starts[1:], n]
    got = ties._order_rows((key, language, region, addresses), rows, (starts, ends, k), DELTA)
    want: tuple[list[int], list[int], list[int]] = (list(range(n)), [-1] * n, [0] * n)
    lists = (key.tolist(), language.tolist(), region.tolist(), addresses.tolist())
    for r in range(lengths.size):
        ties._order_row(*lists, (int(starts[r]), int(ends[r]), k), DELTA, want)
    placed = np.arange(n) - starts[rows] < k
    for have, expected in zip(got, want, strict=True):
        assert have[placed].tolist() == np.asarray(expected)[placed].tolist()
    assert (got[1][placed] >= 0).sum() > 10  # near-ties were there to order
