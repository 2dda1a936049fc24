"""The two assignment solvers (OR-tools min-cost flow, HiGHS LP) against brute force and each
other: same objective on random instances, every answer within the constraints."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sscmatch.matching.assignment import METHODS, Assignment, Edge, assign
from tests.matching.test_assignment import brute_force, random_instance

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Scores with three decimals: rounding them for the flow solver is then exact, so both solvers
# must agree to the last digit that floating-point sums keep.
TOLERANCE = 1e-9


@st.composite
def instances(draw: st.DrawFn, with_zero_quotas: bool = True) -> tuple[list[Edge], dict[str, int]]:
    n_needs = draw(st.integers(1, 5))
    n_caps = draw(st.integers(1, 3))
    n_recips = draw(st.integers(1, 3))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_needs - 1), st.integers(0, n_caps - 1)),
            min_size=1,
            max_size=n_needs * n_caps + 2,  # a few repeated pairs: the best score counts
        )
    )
    scores = draw(st.lists(st.integers(1, 1000), min_size=len(pairs), max_size=len(pairs)))
    edges = [
        Edge(f"n{n}", f"c{c}", s / 1000, f"r{n % n_recips}")
        for (n, c), s in zip(pairs, scores, strict=True)
    ]
    low = 0 if with_zero_quotas else 1
    # A capacity left out of the quotas has no limit.
    quotas = {
        f"c{c}": q
        for c in range(n_caps)
        if (q := draw(st.one_of(st.none(), st.integers(low, 3)))) is not None
    }
    return edges, quotas


def check_constraints(
    got: Assignment, edges: list[Edge], quotas: dict[str, int], minimum: int = 0
) -> None:
    pairs = {(e.need_id, e.capacity_id) for e in edges}
    assert set(got.chosen) <= pairs
    assert len({n for n, _ in got.chosen}) == len(got.chosen)  # one capacity per need at most
    used = Counter(c for _, c in got.chosen)
    assert all(used[c] <= quotas[c] for c in used if c in quotas)
    best = {}
    for e in edges:
        best[(e.need_id, e.capacity_id)] = max(best.get((e.need_id, e.capacity_id), 0), e.score)
    assert got.total == pytest.approx(sum(best[p] for p in got.chosen), abs=TOLERANCE)
    if minimum:
        recipient = {e.need_id: e.recipient for e in edges}
        served = Counter(recipient[n] for n, _ in got.chosen)
        for r in set(recipient.values()):
            candidates = sum(1 for v in recipient.values() if v == r)
            assert served[r] >= min(minimum, candidates)
    # Unserved: needs with a usable candidate (a capacity of quota 0 is none) that got nothing.
    usable = {e.need_id for e in edges if e.score > 0 and quotas.get(e.capacity_id) != 0}
    assert set(got.unserved) == usable - {n for n, _ in got.chosen}


@SETTINGS
@given(instance=instances())
def test_both_methods_find_the_brute_force_optimum(
    instance: tuple[list[Edge], dict[str, int]],
) -> None:
    edges, quotas = instance
    expected = brute_force(edges, quotas) or 0.0
    for method in METHODS:
        got = assign(edges, quotas, method=method)
        assert got.total == pytest.approx(expected, abs=TOLERANCE), method
        check_constraints(got, edges, quotas)


@SETTINGS
@given(instance=instances(with_zero_quotas=False), minimum=st.integers(1, 3))
def test_minimum_per_recipient_same_optimum_or_both_infeasible(
    instance: tuple[list[Edge], dict[str, int]], minimum: int
) -> None:
    edges, quotas = instance
    expected = brute_force(edges, quotas, minimum=minimum)
    for method in METHODS:
        if expected is None:
            with pytest.raises(ValueError, match="no assignment meets the constraints"):
                assign(edges, quotas, min_per_recipient=minimum, method=method)
            continue
        got = assign(edges, quotas, min_per_recipient=minimum, method=method)
        assert got.total == pytest.approx(expected, abs=TOLERANCE), method
        check_constraints(got, edges, quotas, minimum)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("minimum", [None, 2])
def test_flow_equals_lp_on_larger_instances(seed: int, minimum: int | None) -> None:
    """Beyond brute force's reach: 80 needs, 20 capacities, quotas 1-2, unrounded scores."""
    edges, quotas = random_instance(300 + seed, 80, 20)
    rng = np.random.default_rng(seed)
    edges = [Edge(e.need_id, e.capacity_id, float(rng.random()), e.recipient) for e in edges]
    quotas = {c: max(q, 1) for c, q in quotas.items()}
    flow = assign(edges, quotas, min_per_recipient=minimum, method="flow")
    lp = assign(edges, quotas, min_per_recipient=minimum, method="lp")
    # Unrounded scores: the flow's integer costs lose at most 1/(2·10^9) per chosen edge.
    assert flow.total == pytest.approx(lp.total, abs=len(flow.chosen) * 1e-9)
    check_constraints(flow, edges, quotas, minimum or 0)
    check_constraints(lp, edges, quotas, minimum or 0)


def test_recipient_minimums_per_country() -> None:
    edges = [
        Edge("a1", "c", 0.9, "A"),
        Edge("a2", "c", 0.8, "A"),
        Edge("b1", "c", 0.1, "B"),
        Edge("b2", "d", 0.2, "B"),
    ]
    for method in METHODS:
        # Without minimums, A takes capacity c twice; with B's minimum of 2, c must serve b1.
        assert assign(edges, {"c": 2, "d": 1}, method=method).chosen == (
            ("a1", "c"),
            ("a2", "c"),
            ("b2", "d"),
        )
        got = assign(edges, {"c": 2, "d": 1}, min_per_recipient={"B": 2}, method=method)
        assert got.chosen == (("a1", "c"), ("b1", "c"), ("b2", "d"))
        assert got.unserved == ("a2",)


def test_zero_scores_zero_quotas_and_duplicates_are_dropped() -> None:
    edges = [Edge("n", "c", 0.0), Edge("n", "d", 0.3), Edge("n", "d", 0.5), Edge("m", "z", 0.9)]
    for method in METHODS:
        got = assign(edges, {"z": 0}, method=method)
        assert got.chosen == (("n", "d"),) and got.total == pytest.approx(0.5)
        assert got.unserved == ()


def test_a_need_with_two_recipients_cannot_take_a_minimum() -> None:
    edges = [Edge("n", "c", 0.5, "A"), Edge("n", "d", 0.5, "B")]
    assert len(assign(edges, {}).chosen) == 1
    with pytest.raises(ValueError, match="more than one recipient"):
        assign(edges, {}, min_per_recipient=1)


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown assignment method"):
        assign([Edge("n", "c", 0.5)], {}, method="magic")  # type: ignore[arg-type]


def test_large_scores_keep_the_integer_costs_in_range() -> None:
    """Scores far above 1 (an Edge may carry any weight) are scaled down to fit 64-bit costs."""
    edges = [Edge(f"n{i}", f"c{i % 3}", 1e12 * (1 + i), "r") for i in range(30)]
    flow = assign(edges, {"c0": 2, "c1": 2, "c2": 2}, method="flow")
    lp = assign(edges, {"c0": 2, "c1": 2, "c2": 2}, method="lp")
    assert flow.total == pytest.approx(lp.total, rel=1e-9)
