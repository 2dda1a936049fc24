"""Link prediction on tiny graphs: hand-worked values and networkx on the projection."""

from __future__ import annotations

import math
from datetime import date
from itertools import combinations

import networkx as nx
import numpy as np
import pytest

from sscmatch.matching.graph import (
    adamic_adar,
    common_neighbours,
    jaccard,
    members,
    projection,
    resource_allocation,
)
from sscmatch.matching.model import ExchangeItem

# a - b - c, a - d - c, c - e : a and c share b and d
GROUPS = [("a", "b"), ("b", "c"), ("a", "d"), ("d", "c"), ("c", "e")]
INDEX = {x: i for i, x in enumerate("abcde")}


def test_hand_worked_values() -> None:
    adj = projection(GROUPS, INDEX)
    a, c, e = INDEX["a"], INDEX["c"], INDEX["e"]
    assert common_neighbours(adj)[a, c] == 2
    assert adamic_adar(adj)[a, c] == pytest.approx(2 / math.log(2))
    assert resource_allocation(adj)[a, c] == pytest.approx(1.0)
    b, d = INDEX["b"], INDEX["d"]
    assert jaccard(adj)[b, d] == pytest.approx(1.0)  # N(b) = N(d) = {a, c}
    assert jaccard(adj)[a, e] == 0.0  # N(a) = {b, d}, N(e) = {c}: nothing in common


def test_jaccard_exact_value() -> None:
    adj = projection(GROUPS, INDEX)
    a, c = INDEX["a"], INDEX["c"]
    assert jaccard(adj)[a, c] == pytest.approx(2 / 3)


def test_projection_of_multilateral_exchange_is_a_clique_without_self_loops() -> None:
    ex = ExchangeItem(
        id="e",
        start=date(2020, 1, 1),
        providers=("a",),
        recipients=("b",),
        participants=("c", "a"),
        partners=("ilo",),
    )
    assert members(ex) == ("a", "b", "c")
    adj = projection([members(ex)], INDEX).toarray()
    assert adj.sum() == 6 and np.trace(adj) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_measures_equal_networkx_on_the_projection(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nodes = [f"n{i}" for i in range(12)]
    index = {x: i for i, x in enumerate(nodes)}
    groups = [
        tuple(rng.choice(nodes, size=int(rng.integers(2, 4)), replace=False)) for _ in range(18)
    ]
    adj = projection(groups, index)
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for grp in groups:
        g.add_edges_from(combinations(grp, 2))
    pairs = list(combinations(nodes, 2))
    ours = {
        "aa": adamic_adar(adj).toarray(),
        "ra": resource_allocation(adj).toarray(),
        "jc": jaccard(adj).toarray(),
    }
    for name, fn in (
        ("aa", nx.adamic_adar_index),
        ("ra", nx.resource_allocation_index),
        ("jc", nx.jaccard_coefficient),
    ):
        for u, v, p in fn(g, pairs):
            assert ours[name][index[u], index[v]] == pytest.approx(p), (name, u, v)
