"""The fast engine's shortcuts give what the plain computation gives: blocks of any size,
the top-K pruning (text compared only where it can matter), exact text dot products, and
components of the chosen pairs equal to the block scores. The engine touches no files."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from sscmatch.matching import Weights, engine, offers, prepare, scoring
from sscmatch.matching.bruteforce import brute_force
from sscmatch.matching.model import Proposal, Reason
from sscmatch.matching.reference import MemoisedReference, ReferenceScorer
from sscmatch.matching.scoring import weighted
from sscmatch.matching.synth import SynthSize, generate
from sscmatch.matching.texts import cosine, profile
from sscmatch.text import VECTOR_SCALE, quantise

ENGINE = Path(__file__).resolve().parents[2] / "sscmatch" / "matching"


def corpus(seed: int = 2):  # type: ignore[no-untyped-def]
    return generate(SynthSize(countries=30, capacities=200, needs=40, exchanges=600, seed=seed))


@pytest.mark.parametrize("block", [1, 3, 17, 4096])
def test_blocks_of_any_size_rank_the_same(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    c = corpus()
    want = prepare(c).rank(top_k=4)
    monkeypatch.setattr(engine, "BLOCK_NEEDS", block)
    assert prepare(c).rank(top_k=4) == want


@pytest.mark.parametrize("top_k", [1, 2, 5])
def test_pruning_keeps_the_top_k_of_the_full_ranking(top_k: int) -> None:
    c = corpus(3)
    everything = prepare(c).rank(top_k=len(c.countries), explain=False)
    pruned = prepare(c).rank(top_k=top_k, explain=False)
    assert pruned == [p for p in everything if p.rank <= top_k]


def test_a_heavy_text_weight_prunes_the_same_as_the_reference() -> None:
    c = corpus(4)
    w = Weights(text=30.0)
    fast = [(p.need_id, p.provider, p.capacity_id) for p in prepare(c).rank(w, top_k=3)]
    slow = [(r[0], r[2], r[3]) for r in ReferenceScorer(c, w).rank(top_k=3)]
    assert fast == slow


def test_stored_vectors_give_exact_dot_products_in_any_order() -> None:
    rng = np.random.default_rng(0)
    unit = rng.standard_normal((50, 128))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    stored = quantise(unit)
    assert stored.dtype == np.int8 and np.abs(stored).max() <= VECTOR_SCALE
    as32 = stored.astype(np.float32)
    grid = as32 @ as32.T  # one blocked matrix product
    exact = stored.astype(np.int64) @ stored.astype(np.int64).T
    assert np.array_equal(grid.astype(np.int64), exact)
    assert np.allclose(cosine(exact), unit @ unit.T, atol=0.03)
    summed = profile(stored[:3].astype(np.int64).sum(axis=0))[0]
    direction = unit[:3].sum(axis=0)
    assert np.allclose(summed / VECTOR_SCALE, direction / np.linalg.norm(direction), atol=0.01)


def test_components_of_the_chosen_pairs_are_the_block_scores() -> None:
    c = corpus(5)
    prepared = prepare(c)
    w = Weights()
    for p in prepared.rank(w, top_k=3):
        assert float(weighted(w, p.components)) == p.score
        if p.capacity_id is not None:
            got = prepared.score_pair(p.need_id, p.capacity_id, w)
            assert got is not None and got[0] == p.score


def test_the_engine_touches_no_files() -> None:
    banned_modules = {"csv", "io", "os", "pathlib", "shutil", "tempfile", "glob"}
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} opens a file"
                continue
            else:
                continue
            assert not names & banned_modules, f"{path.name} imports {names & banned_modules}"


@pytest.mark.parametrize(("seed", "top_k", "text"), [(5, 5, 3.0), (6, 1, 3.0), (7, 3, 30.0)])
def test_the_brute_force_proposes_what_the_engine_proposes(
    seed: int, top_k: int, text: float
) -> None:
    c = corpus(seed)
    w = Weights(text=text)
    fast = [(p.need_id, p.rank, p.provider, p.capacity_id) for p in prepare(c).rank(w, top_k=top_k)]
    assert fast  # the comparison is not of two empty lists
    assert brute_force(prepare(c), w, top_k) == fast


@pytest.mark.parametrize("few", [0, 10**6])
def test_needs_scored_a_country_or_a_need_at_a_time_rank_the_same(
    few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact pass walks countries for big blocks and needs for small ones: each way, on
    every block, proposes what the brute force does."""
    c = corpus(9)
    monkeypatch.setattr(scoring, "FEW_NEEDS", few)
    fast = [(p.need_id, p.rank, p.provider, p.capacity_id) for p in prepare(c).rank(top_k=5)]
    assert fast and brute_force(prepare(c), Weights(), 5) == fast
    one = prepare(c)
    for need in c.needs[:10]:
        alone = [
            (p.need_id, p.rank, p.provider, p.capacity_id) for p in one.rank(need_ids=[need.id])
        ]
        assert alone == [x for x in fast if x[0] == need.id]


def test_offer_tables_made_in_the_smallest_chunks_rank_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = corpus(8)
    want = prepare(c).rank(top_k=5)
    monkeypatch.setattr(offers, "CHUNK_CELLS", 1)
    assert prepare(c).rank(top_k=5) == want


def test_the_memoised_reference_scores_as_the_reference() -> None:
    c = corpus(9)
    plain, memo = ReferenceScorer(c), MemoisedReference(c)
    for need in list(c.needs)[:6]:
        assert memo.best_offers(need) == plain.best_offers(need)


@pytest.mark.parametrize("extra", [0, 3, 10**6])
@pytest.mark.parametrize("few", [0, 10**6])
def test_the_countries_scored_first_change_no_proposal(
    extra: int, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """score_block scores each need's K + SEED_EXTRA countries of highest bound first, then
    those whose bound reaches the K-th best score known, then the near-ties: whatever the
    number scored first, a country at a time or a need at a time, the brute force (every pair
    scored) proposes the same, near-ties and their order included."""
    monkeypatch.setattr(scoring, "SEED_EXTRA", extra)
    monkeypatch.setattr(scoring, "FEW_NEEDS", few)
    for seed in (11, 12, 13):
        c = generate(SynthSize(countries=40, capacities=400, needs=60, exchanges=800, seed=seed))
        for top_k in (1, 3):
            fast = prepare(c).rank(top_k=top_k)
            got = [(p.need_id, p.rank, p.provider, p.capacity_id) for p in fast]
            assert got and brute_force(prepare(c), Weights(), top_k) == got


def test_proposals_made_field_by_field_are_what_the_constructor_makes() -> None:
    """The engine sets a Proposal's slots one by one (the keyword call of its __init__ was
    half the time of making a full re-match's proposals): they must equal Proposal(...), field
    for field, and Proposal's __init__ must do nothing more than set its fields."""
    assert not hasattr(Proposal, "__post_init__")
    values: dict[str, object] = {
        "need_id": "N1",
        "recipient": "BRA",
        "rank": 2,
        "provider": "ARG",
        "capacity_id": "C1",
        "institution": "Institute",
        "score": 0.5,
        "components": {"topic": 1.0},
        "contributions": {"topic": 0.25},
        "reasons": (Reason("topic.exact", {"theme": "agriculture"}),),
        "basis": "experience",
        "addresses": False,
        "damping": 0.75,
    }
    assert [f.name for f in fields(Proposal)] == list(values)
    (made,) = engine._proposals(*([v] for v in values.values()))
    assert made == Proposal(**values)  # type: ignore[arg-type]
    assert all(getattr(made, k) is v for k, v in values.items())
    with pytest.raises(TypeError):
        engine._proposals(*([v] for v in list(values.values())[:-1]))
