"""A corpus with any of its parts empty: a new deployment has needs and capacities and no
exchange yet (the engine failed there: a matrix of zero exchange signatures), an evaluation
table may hold no history before its cut-off. Every combination of empty parts is ranked by the
engine (with and without reasons), the brute force and the reference, which agree."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from sscmatch.matching import DEFAULT_WEIGHTS, prepare
from sscmatch.matching.bruteforce import brute_force
from sscmatch.matching.reference import ReferenceScorer
from tests.matching.helpers import small_corpus

PARTS = ("exchanges", "capacities", "needs", "commitments", "vetoes")
EMPTY: dict[str, object] = {
    "exchanges": [],
    "capacities": [],
    "needs": [],
    "commitments": [],
    "vetoes": frozenset(),
}
COMBINATIONS = [
    combo for n in range(1, len(PARTS) + 1) for combo in itertools.combinations(PARTS, n)
]


@pytest.mark.parametrize("emptied", COMBINATIONS, ids="-".join)
def test_any_empty_part_ranks_and_the_three_rankers_agree(emptied: tuple[str, ...]) -> None:
    corpus = replace(small_corpus(), **{part: EMPTY[part] for part in emptied})
    prepared = prepare(corpus)
    explained = prepared.rank(DEFAULT_WEIGHTS, top_k=3, explain=True)
    plain = prepared.rank(DEFAULT_WEIGHTS, top_k=3, explain=False)
    fast = [(p.need_id, p.rank, p.provider, p.capacity_id) for p in plain]
    assert [(p.need_id, p.rank, p.provider, p.capacity_id) for p in explained] == fast
    assert brute_force(prepare(corpus), DEFAULT_WEIGHTS, 3) == fast
    slow = [(r[0], r[1], r[2], r[3]) for r in ReferenceScorer(corpus).rank(top_k=3)]
    assert slow == fast
    if "needs" in emptied:
        assert fast == []
    if "exchanges" in emptied and "capacities" not in emptied and "needs" not in emptied:
        assert fast, "capacities alone must be proposed when there is no history yet"
        assert all(p.capacity_id is not None for p in explained)  # no record: no fallback
        for p in explained:  # the explanation adds up to the score
            assert abs(sum(p.contributions.values()) - p.score) < 1e-6 and p.reasons
