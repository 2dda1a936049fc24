"""What must always hold, whatever the corpus and the weights."""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from functools import lru_cache

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from sscmatch.matching import FACTORS, Corpus, Weights, prepare, rank
from sscmatch.matching import factors as F
from sscmatch.matching.scoring import FactorWeights, fallback_weights, offer_weights
from sscmatch.matching.synth import SynthSize, generate

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


EMPTIED = ((), ("exchanges",), ("capacities",), ("exchanges", "commitments"))
"""Parts of the corpus emptied (a new deployment has capacities and no exchange yet): every
property holds for these corpora too."""
SEEDS = 4


@lru_cache(maxsize=16)
def corpus_for(seed: int) -> Corpus:
    """The synthetic corpus of ``seed % SEEDS``, with the parts ``EMPTIED[seed // SEEDS]``
    emptied."""
    corpus = generate(
        SynthSize(countries=15, capacities=60, needs=15, exchanges=150, seed=seed % SEEDS)
    )
    return dataclasses.replace(corpus, **{part: [] for part in EMPTIED[seed // SEEDS]})


weights_st = st.builds(
    Weights,
    topic=st.floats(0.1, 10),
    text=st.floats(0, 5),
    language=st.floats(0, 5),
    region=st.floats(0, 5),
    experience=st.floats(0, 8),
    relationship=st.floats(0, 5),
    maturity=st.floats(0, 5),
    follow_through=st.floats(0, 5),
    hub_damping=st.floats(0, 3),
    interpretation=st.floats(0, 1),
    half_life=st.floats(1, 30),
)
seeds = st.integers(0, SEEDS * len(EMPTIED) - 1)
dates = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2026, 1, 1)))


def basis_weights(weights: Weights, basis: str) -> FactorWeights:
    """The weights a proposal's score uses: a fallback offer's, or a registered offer's."""
    return fallback_weights(weights) if basis == "experience" else offer_weights(weights)


@SETTINGS
@given(seed=seeds, weights=weights_st, as_of=dates)
def test_scores_in_unit_interval_and_breakdown_sums(
    seed: int, weights: Weights, as_of: date | None
) -> None:
    for p in rank(corpus_for(seed), weights, as_of=as_of):
        assert 0.0 <= p.score <= 1.0 + 1e-12
        assert all(0.0 <= v <= 1.0 + 1e-12 for v in p.components.values())
        assert abs(sum(p.contributions.values()) - p.score) < 1e-9
        used = basis_weights(weights, p.basis)
        undamped = sum(used[k] * p.components[k] for k in FACTORS) / weights.total
        assert abs(p.damping * undamped - p.score) < 1e-9


@SETTINGS
@given(seed=seeds, shuffle_seed=st.integers(0, 1000), as_of=dates)
def test_order_of_inputs_does_not_change_the_ranking(
    seed: int, shuffle_seed: int, as_of: date | None
) -> None:
    corpus = corpus_for(seed)
    rnd = random.Random(shuffle_seed)

    def shuffled(xs: object) -> list[object]:
        out = list(xs)  # type: ignore[call-overload]
        rnd.shuffle(out)
        return out

    other = dataclasses.replace(
        corpus,
        capacities=shuffled(corpus.capacities),
        needs=shuffled(corpus.needs),
        exchanges=shuffled(corpus.exchanges),
        commitments=shuffled(corpus.commitments),
        countries=dict(shuffled(corpus.countries.items())),  # type: ignore[arg-type]
    )
    assert rank(other, as_of=as_of) == rank(corpus, as_of=as_of)


@SETTINGS
@given(seed=seeds, factor=st.sampled_from(FACTORS), weights=weights_st)
def test_a_zero_weight_removes_a_factor(seed: int, factor: str, weights: Weights) -> None:
    if weights.total - weights.factor(factor) <= 0.01:
        return
    w0 = dataclasses.replace(weights, **{factor: 0.0})
    corpus = corpus_for(seed)
    props = rank(corpus, w0, explain=False)
    for p in props:
        assert p.contributions[factor] == 0.0
        used = basis_weights(w0, p.basis)
        rest = sum(used[k] * p.components[k] for k in FACTORS if k != factor)
        assert abs(p.damping * rest / w0.total - p.score) < 1e-9
    if factor == "maturity":  # changing the removed factor's input changes nothing
        flipped = dataclasses.replace(
            corpus,
            capacities=[
                dataclasses.replace(c, maturity="pilot" if c.maturity != "pilot" else "scaled")
                for c in corpus.capacities
            ],
        )
        assert [(p.need_id, p.capacity_id, p.score) for p in rank(flipped, w0, explain=False)] == [
            (p.need_id, p.capacity_id, p.score) for p in props
        ]


@SETTINGS
@given(seed=seeds, as_of=st.dates(date(2000, 1, 1), date(2026, 1, 1)))
def test_as_of_hides_the_future(seed: int, as_of: date) -> None:
    corpus = corpus_for(seed)
    past = dataclasses.replace(
        corpus,
        capacities=[c for c in corpus.capacities if c.created is None or c.created < as_of],
        needs=[n for n in corpus.needs if n.created is None or n.created < as_of],
        exchanges=[e for e in corpus.exchanges if e.start < as_of],
        commitments=[k for k in corpus.commitments if k.start is None or k.start < as_of],
    )
    got = rank(corpus, as_of=as_of)
    assert got == rank(past, as_of=as_of)
    needs = {n.id: n for n in corpus.needs}
    assert all(needs[p.need_id].created < as_of for p in got)  # type: ignore[operator]


CONTEXT = ("relationship", "region", "language")


def guarantee_checks(corpus: Corpus, weights: Weights, as_of: date | None) -> int:
    """Of two proposals for a need, one whose offer addresses the need (a registered capacity)
    and one whose offer does not: if the second is better only in relationship, region or
    language (the first at least as good in every other factor), the first scores higher and
    ranks first. Returns how many such pairs were checked."""
    checked = 0
    top = len(corpus.countries)
    for need_props in _by_need(
        rank(corpus, weights, as_of=as_of, top_k=top, explain=False)
    ).values():
        on = [p for p in need_props if p.addresses and p.basis == "capacity"]
        off = [p for p in need_props if not (p.addresses and p.basis == "capacity")]
        for a in on:
            for b in off:
                if all(a.components[k] >= b.components[k] for k in FACTORS if k not in CONTEXT):
                    checked += 1
                    assert a.score > b.score
                    assert a.rank < b.rank
    return checked


@SETTINGS
@given(seed=seeds, weights=weights_st, as_of=dates)
def test_an_offer_that_addresses_the_need_beats_one_better_only_in_context(
    seed: int, weights: Weights, as_of: date | None
) -> None:
    """Whatever the weights, as long as they keep the topic guarantee. The assertions are in
    ``guarantee_checks`` (score and rank of every pair it finds); Hypothesis is steered toward
    examples with many such pairs, and the next test makes sure pairs are found at all."""
    w = dataclasses.replace(weights, hub_damping=0.0)
    if not w.topic_guarantee(F.OFF_TOPIC_GAP):
        w = dataclasses.replace(
            w, topic=1.01 * sum(w.factor(k) for k in CONTEXT) / F.OFF_TOPIC_GAP + 0.01
        )
    checked = guarantee_checks(corpus_for(seed), w, as_of)
    target(float(checked), label="pairs checked")


def test_the_guarantee_is_checked_on_many_pairs_with_the_default_weights() -> None:
    assert guarantee_checks(corpus_for(0), Weights(), None) > 50


def _by_need(props: list) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for p in props:
        out.setdefault(p.need_id, []).append(p)
    return out


def test_prepared_corpus_refuses_another_date() -> None:
    prepared = prepare(corpus_for(0), date(2015, 1, 1))
    try:
        rank(prepared, as_of=date(2016, 1, 1))
    except ValueError:
        return
    raise AssertionError("expected ValueError")
