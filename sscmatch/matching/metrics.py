"""Ranking metrics with ties counted at their expected value (a tie is a random order).

A ``Ranking`` is a tuple of tie groups, best first. Relevant = the real providers. Hit@k,
reciprocal rank (0 when no relevant item is ranked) and nDCG@k with binary relevance (ideal:
every relevant item at the top) are the exact expectations over random orders within ties, so a
method gains nothing from an arbitrary tie-break.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from math import comb, log2

KS: tuple[int, ...] = (1, 3, 5)
NDCG_K = 5
SCORE_DIGITS = 9
METRICS: tuple[str, ...] = ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@5")

Ranking = tuple[tuple[str, ...], ...]
"""Tie groups, best first; the countries inside one group have equal scores."""


def _first_relevant(ranking: Ranking, relevant: frozenset[str]) -> tuple[int, int, int] | None:
    """(1-based start, size, relevant count) of the first tie group holding a relevant item."""
    pos = 1
    for group in ranking:
        m = sum(1 for x in group if x in relevant)
        if m:
            return pos, len(group), m
        pos += len(group)
    return None


def hit_at(ranking: Ranking, relevant: frozenset[str], k: int) -> float:
    """Expected share of random tie orders that put a relevant item in the top ``k``."""
    first = _first_relevant(ranking, relevant)
    if first is None:
        return 0.0
    start, g, m = first
    if start > k:
        return 0.0
    q = min(k - start + 1, g)
    return 1.0 - comb(g - m, q) / comb(g, q)


def reciprocal_rank(ranking: Ranking, relevant: frozenset[str]) -> float:
    """Expected 1 / rank of the first relevant item (0 when none is ranked)."""
    first = _first_relevant(ranking, relevant)
    if first is None:
        return 0.0
    start, g, m = first
    total = comb(g, m)
    return sum(comb(g - 1 - j, m - 1) / total / (start + j) for j in range(g - m + 1))


def ndcg_at(ranking: Ranking, relevant: frozenset[str], k: int) -> float:
    """Expected nDCG@k with binary relevance; the ideal ranks every relevant item first."""
    if not relevant:
        return 0.0
    dcg, pos = 0.0, 1
    for group in ranking:
        if pos > k:
            break
        m = sum(1 for x in group if x in relevant)
        end = min(pos + len(group) - 1, k)
        if m:
            dcg += m / len(group) * sum(1.0 / log2(p + 1) for p in range(pos, end + 1))
        pos += len(group)
    ideal = sum(1.0 / log2(p + 1) for p in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def covered(ranking: Ranking, relevant: frozenset[str]) -> bool:
    return any(x in relevant for group in ranking for x in group)


def case_metrics(ranking: Ranking, relevant: frozenset[str]) -> dict[str, float]:
    out = {f"hit@{k}": hit_at(ranking, relevant, k) for k in KS}
    out["mrr"] = reciprocal_rank(ranking, relevant)
    out[f"ndcg@{NDCG_K}"] = ndcg_at(ranking, relevant, NDCG_K)
    out["coverage"] = 1.0 if covered(ranking, relevant) else 0.0
    return out


def concentration(rankings: Iterable[Ranking]) -> tuple[float, float, str]:
    """(share of rank-1 slots of the most frequent rank-1 provider, HHI of the shares, who).

    A tie at rank 1 splits the slot evenly among the tied countries."""
    slots: dict[str, float] = {}
    n = 0
    for r in rankings:
        if not r:
            continue
        n += 1
        for x in r[0]:
            slots[x] = slots.get(x, 0.0) + 1.0 / len(r[0])
    if not n:
        return 0.0, 0.0, ""
    shares = {x: v / n for x, v in slots.items()}
    top = min(shares, key=lambda x: (-shares[x], x))
    return shares[top], sum(s * s for s in shares.values()), top


def group_in_order(ranked: Iterable[tuple[str, Hashable]]) -> Ranking:
    """Tie groups from (country, key) pairs already in rank order: consecutive equal keys
    together (the engine's order is not the score's where near-ties were ordered: ``ties.py``)."""
    out: list[list[str]] = []
    last: object = object()
    for x, key in ranked:
        if out and key == last:
            out[-1].append(x)
        else:
            out.append([x])
        last = key
    return tuple(tuple(sorted(g)) for g in out)


def proposal_key(score: float, components: Mapping[str, float], addresses: bool) -> Hashable:
    """What tells two ranked proposals apart: equal keys are a tie (a random order)."""
    return (
        round(score, SCORE_DIGITS),
        round(components["language"], SCORE_DIGITS),
        round(components["region"], SCORE_DIGITS),
        addresses,
    )
