"""Near-ties: scores closer than half a context factor are ordered by language, then region.

**Why.** Two offers whose scores differ by less than what a single context factor can add are
not told apart by the score: the evidence behind each factor is thin (a handful of past
exchanges), and the next exchanges show it. Among such offers the simple rule "same theme, then
a shared language, then the region" is what wins the windows the matcher loses (README,
"Matching quality"), so the engine lets a shared language, then a closer region, decide.

**Rule.** A need's candidates in score order (rounded keys, then country code) are cut into
*runs*: a run starts at the first candidate not yet placed and takes the next ones while they
are of the same class as its first (all address the need, or none does) and their key is at
most ``near_tie(weights)`` below the first's. Inside a run the candidates are ordered by
language (higher first), then region, then their score order. Runs never mix classes, so an
offer that addresses the need keeps every place it had above one that does not (the topic
guarantee, ``Weights.topic_guarantee``, holds as before), and scores are unchanged: each
proposal's contributions still add up to its score. A candidate placed above one with a higher
score says so in its reasons (``near_tie.language`` / ``near_tie.region``).

``near_tie`` is half of what one context factor can add at full weight: ½ · (mean weight of
relationship, region and language) / Σw, 0.026 with the defaults. Measured by
``scripts/evaluate`` (README has the table for 0.01 to 0.08).

Pure; the engine, the brute force and the per-pair reference all order by :func:`select` or
:func:`order`, so they rank alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sscmatch.matching import factors as F
from sscmatch.matching.model import CONTEXT_FACTORS, Weights

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

DIGITS = 9
"""Language and region levels are compared after rounding (equal levels reached by different
arithmetic must tie)."""
TOLERANCE = 1e-12


def addresses_need(components: Mapping[str, F64], offers: I64) -> Bool:
    """Whether each (need, offer) pair's offer addresses the need: a registered offer
    (``offers`` ≥ 0) of the same, a broader or a narrower theme, or a fallback whose country
    provided exchanges on one (its topic is scaled by ``FALLBACK_SHARE``)."""
    floor = np.where(offers >= 0, F.ON_TOPIC_MIN, F.FALLBACK_SHARE * F.ON_TOPIC_MIN)
    out: Bool = components["topic"] >= floor
    return out


def near_tie(weights: Weights) -> float:
    """Half of what one context factor can add: ½ · mean context weight / Σw."""
    context = [weights.factor(k) for k in CONTEXT_FACTORS]
    return 0.5 * (sum(context) / len(context)) / weights.total


@dataclass(frozen=True)
class Candidate:
    """One country's best offer for a need, as the ordering sees it."""

    key: float
    """The rounded (and damped) score the ranking sorts by."""
    code: int
    """The country's position (ties of ``key`` go to the lower)."""
    language: float
    region: float
    addresses: bool


@dataclass(frozen=True)
class Placed:
    """A candidate's place: its index in the input, and the first higher-scored candidate it
    was placed above (index, or -1) with the factor that decided (``language`` or ``region``)."""

    index: int
    passed: int = -1
    by: str = ""


def order(candidates: Sequence[Candidate], delta: float) -> list[Placed]:
    """The candidates in their final order (see the module docstring)."""
    ranked = sorted(range(len(candidates)), key=lambda i: (-candidates[i].key, candidates[i].code))
    n = len(ranked)
    pick, passed, by = list(range(n)), [-1] * n, [0] * n
    _order_row(
        [candidates[i].key for i in ranked],
        [round(candidates[i].language, DIGITS) for i in ranked],
        [round(candidates[i].region, DIGITS) for i in ranked],
        [candidates[i].addresses for i in ranked],
        (0, n, n),
        delta,
        (pick, passed, by),
    )
    return [
        Placed(ranked[pick[a]], ranked[passed[a]] if passed[a] >= 0 else -1, BY[by[a]])
        for a in range(n)
    ]


BY = ("", "language", "region")
"""The factor that placed a candidate above a higher score, by number (0: none)."""


def _order_row(
    key: list[float],
    language: list[float],
    region: list[float],
    addresses: list[bool],
    span: tuple[int, int, int],
    delta: float,
    out: tuple[list[int], list[int], list[int]],
) -> None:
    """Order the candidates ``lo:hi`` of one row (in score order) until ``k`` are placed:
    ``pick[lo + a]`` is the candidate at place a, ``passed[lo + a]`` the first higher-scored
    one it passed (-1) and ``by[lo + a]`` the factor that decided (``BY``). Language and region
    come rounded to ``DIGITS``."""
    lo, hi, k = span
    pick, passed, by = out
    i, at, limit = lo, lo, lo + k
    while i < hi and at < limit:
        floor = key[i] - delta - TOLERANCE
        j = i + 1
        while j < hi and addresses[j] == addresses[i] and key[j] >= floor:
            j += 1
        if j - i == 1:
            pick[at] = i
            at += 1
        else:
            run = sorted(range(i, j), key=lambda t: (-language[t], -region[t], t))
            for a, t in enumerate(run):
                pick[at] = t
                u = next((u for u in run[a + 1 :] if u < t), -1)
                if u >= 0:
                    passed[at] = u
                    by[at] = 1 if language[t] > language[u] else 2
                at += 1
        i = j


Facts = Callable[[I64, I64], tuple[F64, F64, Bool]]
"""(rows, columns) → the language, region and "addresses the need" of each pair's best offer."""


@dataclass(frozen=True)
class Selection:
    """The top ``k`` of each row after the near-tie ordering: ``rows``, ``ranks`` (from 1) and
    ``cols`` (country positions), by row then rank; ``passed`` the column of the first
    higher-scored candidate each passed (-1) and ``by`` the factor that decided."""

    rows: I64
    ranks: I64
    cols: I64
    passed: I64
    by: list[str]


def select(keys: F64, k: int, delta: float, facts: Facts) -> Selection:
    """Each row's best ``k`` columns of the finite ``keys`` (needs × countries), near-ties
    ordered. Only the columns within ``delta`` of a row's k-th key can move into its top k, so
    ``facts`` is asked about those alone."""
    k = min(k, keys.shape[1])
    empty = np.zeros(0, dtype=np.int64)
    if k < 1 or not keys.shape[0]:
        return Selection(empty, empty, empty, empty, [])
    finite = np.isfinite(keys)
    kth = np.where(
        finite.sum(axis=1) >= k,
        -np.partition(-np.where(finite, keys, -np.inf), k - 1)[:, k - 1],
        -np.inf,
    )
    floor = kth - delta - TOLERANCE
    rows, cols = np.nonzero(finite & (keys >= floor[:, None]))
    sort = np.lexsort((cols, -keys[rows, cols], rows))
    rows, cols = rows[sort], cols[sort]
    language, region, addresses = facts(rows, cols)
    starts = np.searchsorted(rows, np.arange(keys.shape[0]))
    ends = np.r_[starts[1:], rows.size]
    key = keys[rows, cols]
    n = rows.size
    pick, passed, by = _order_rows(
        (key, np.round(language, DIGITS), np.round(region, DIGITS), addresses),
        rows,
        (starts, ends, k),
        delta,
    )
    position = np.arange(n) - starts[rows]
    keep = position < k
    picked = pick[keep]
    passed_at = passed[keep]
    return Selection(
        rows[keep].astype(np.int64),
        (position[keep] + 1).astype(np.int64),
        cols[picked].astype(np.int64),
        np.where(passed_at >= 0, cols[np.maximum(passed_at, 0)], -1).astype(np.int64),
        [BY[b] for b in by[keep].tolist()],
    )


def _order_rows(
    facts: tuple[F64, F64, F64, Bool],
    rows: I64,
    span: tuple[I64, I64, int],
    delta: float,
) -> tuple[I64, I64, I64]:
    """:func:`_order_row` of every row at once, as arrays (the same runs and the same order;
    a Python loop a row cost 0.15 s for the 17,110 needs of a full re-match). ``facts`` are
    the candidates' keys, rounded languages and regions, and classes, by row then score
    order; ``span`` each row's start and end among them, and k."""
    key, language, region, addresses = facts
    starts, ends, k = span
    n = key.size
    at = np.arange(n)
    # the end of the run that would start at each candidate: the first one after it of
    # another row or class, or more than delta below it (keys fall within a row)
    end = at + 1
    alive = np.ones(n, dtype=bool)
    floor = key - delta - TOLERANCE
    for step in range(1, n):
        nxt = np.minimum(at + step, n - 1)
        alive &= (at + step < n) & (rows[nxt] == rows)
        alive &= (addresses[nxt] == addresses) & (key[nxt] >= floor)
        if not alive.any():
            break
        end[alive] = at[alive] + step + 1
    # each row's runs, one after the other, until k candidates are placed
    opens = np.zeros(n, dtype=bool)
    first, placed = starts.copy(), np.zeros(starts.size, dtype=np.int64)
    for _ in range(k):
        going = (first < ends) & (placed < k)
        if not going.any():
            break
        opens[first[going]] = True
        placed[going] += end[first[going]] - first[going]
        first = np.where(going, end[np.minimum(first, n - 1)], first)
    # a candidate's run: the last run opened at or before it (a row's first candidate opens
    # one); those after the runs that place k stay in score order, a run of their own
    run = np.maximum.accumulate(np.where(opens, at, 0)) if n else at
    beyond = at >= np.repeat(first, ends - starts)
    run[beyond] = at[beyond]
    # inside a run: language (higher first), then region, then the score order
    pick = np.lexsort((at, -region, -language, run)).astype(np.int64)
    # the first candidate placed later in the same run that came first in the score order
    passed = np.full(n, -1, dtype=np.int64)
    run_at = run[pick]
    for step in range(1, n):
        later = np.minimum(at + step, n - 1)
        same = (at + step < n) & (run_at[later] == run_at)
        if not same.any():
            break
        hit = same & (passed < 0) & (pick[later] < pick)
        passed[hit] = pick[later[hit]]
    by = np.zeros(n, dtype=np.int64)
    has = passed >= 0
    by[has] = np.where(language[pick[has]] > language[passed[has]], 1, 2)
    return pick, passed, by
