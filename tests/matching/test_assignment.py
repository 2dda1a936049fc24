"""Portfolio assignment against brute force and networkx's min-cost flow."""

from __future__ import annotations

from itertools import product

import networkx as nx
import numpy as np
import pytest

from sscmatch.matching import Weights, rank
from sscmatch.matching.assignment import Edge, assign, edges_from_proposals
from sscmatch.matching.synth import SynthSize, generate


def random_instance(seed: int, n_needs: int, n_caps: int) -> tuple[list[Edge], dict[str, int]]:
    rng = np.random.default_rng(seed)
    edges = [
        Edge(f"n{n}", f"c{c}", round(float(rng.random()), 3), f"r{n % 3}")
        for n in range(n_needs)
        for c in range(n_caps)
        if rng.random() < 0.6
    ]
    quotas = {f"c{c}": int(rng.integers(0, 3)) for c in range(n_caps)}
    return edges, quotas


def brute_force(edges: list[Edge], quotas: dict[str, int], minimum: int = 0) -> float | None:
    needs = sorted({e.need_id for e in edges})
    options = {n: [None, *[e for e in edges if e.need_id == n]] for n in needs}
    best: float | None = None
    for combo in product(*(options[n] for n in needs)):
        used: dict[str, int] = {}
        served: dict[str, int] = {}
        for e in combo:
            if e is not None:
                used[e.capacity_id] = used.get(e.capacity_id, 0) + 1
                served[e.recipient] = served.get(e.recipient, 0) + 1
        if any(used[c] > quotas.get(c, 10**9) for c in used):
            continue
        recips = {e.recipient for e in edges}
        need_count = {r: len({e.need_id for e in edges if e.recipient == r}) for r in recips}
        if any(served.get(r, 0) < min(minimum, need_count[r]) for r in recips):
            continue
        total = sum(e.score for e in combo if e is not None)
        if best is None or total > best:
            best = total
    return best


@pytest.mark.parametrize("seed", range(8))
def test_optimal_against_brute_force(seed: int) -> None:
    edges, quotas = random_instance(seed, 5, 3)
    got = assign(edges, quotas)
    assert got.total == pytest.approx(brute_force(edges, quotas) or 0.0)
    used: dict[str, int] = {}
    for _n, c in got.chosen:
        used[c] = used.get(c, 0) + 1
    assert all(used[c] <= quotas[c] for c in used)
    assert len({n for n, _ in got.chosen}) == len(got.chosen)


@pytest.mark.parametrize("seed", range(6))
def test_minimum_per_recipient_against_brute_force(seed: int) -> None:
    edges, quotas = random_instance(100 + seed, 5, 3)
    quotas = {c: max(q, 1) for c, q in quotas.items()}
    expected = brute_force(edges, quotas, minimum=1)
    if expected is None:
        with pytest.raises(ValueError):
            assign(edges, quotas, min_per_recipient=1)
        return
    got = assign(edges, quotas, min_per_recipient=1)
    assert got.total == pytest.approx(expected)


def min_cost_flow_optimum(edges: list[Edge], quotas: dict[str, int]) -> float:
    g = nx.DiGraph()
    needs = {e.need_id for e in edges}
    for n in needs:
        g.add_edge("s", ("n", n), capacity=1, weight=0)
        g.add_edge(("n", n), "t", capacity=1, weight=0)  # leave a need unserved
    for e in edges:
        g.add_edge(
            ("n", e.need_id), ("c", e.capacity_id), capacity=1, weight=-round(e.score * 1000)
        )
    for c in {e.capacity_id for e in edges}:
        g.add_edge(("c", c), "t", capacity=quotas.get(c, len(needs)), weight=0)
    g.nodes["s"]["demand"] = -len(needs)
    g.nodes["t"]["demand"] = len(needs)
    flow = nx.min_cost_flow(g)
    return -nx.cost_of_flow(g, flow) / 1000


@pytest.mark.parametrize("seed", range(3))
def test_optimal_against_min_cost_flow_on_larger_instances(seed: int) -> None:
    edges, quotas = random_instance(200 + seed, 60, 15)
    assert assign(edges, quotas).total == pytest.approx(min_cost_flow_optimum(edges, quotas))


def test_assignment_from_ranked_proposals() -> None:
    corpus = generate(SynthSize(countries=15, capacities=60, needs=25, exchanges=150, seed=2))
    props = rank(corpus, Weights(), top_k=3, explain=False)
    quotas = {c.id: 1 for c in corpus.capacities}
    got = assign(edges_from_proposals(props), quotas)
    best_per_need = {p.need_id: p.score for p in props if p.rank == 1}
    assert got.total <= sum(best_per_need.values()) + 1e-9
    assert len(got.chosen) + len(got.unserved) == len(best_per_need)
    assert len({c for _, c in got.chosen}) == len(got.chosen)  # quota 1 each


def test_empty_and_unlimited() -> None:
    assert assign([], {}).chosen == ()
    got = assign([Edge("a", "c", 0.5), Edge("b", "c", 0.4)], {})
    assert got.chosen == (("a", "c"), ("b", "c"))
