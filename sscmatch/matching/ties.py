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
    out: list[Placed] = []
    start = 0
    while start < len(ranked):
        lead = candidates[ranked[start]]
        end = start + 1
        while end < len(ranked):
            c = candidates[ranked[end]]
            if c.addresses != lead.addresses or c.key < lead.key - delta - TOLERANCE:
                break
            end += 1
        run = ranked[start:end]
        if len(run) == 1:
            out.append(Placed(run[0]))
        else:
            out += _within(candidates, run)
        start = end
    return out


def _level(x: float) -> float:
    return round(x, DIGITS)


def _within(candidates: Sequence[Candidate], run: list[int]) -> list[Placed]:
    """One run ordered by language, region, then score order; each candidate with the first
    higher-scored one it passed."""
    position = {i: at for at, i in enumerate(run)}
    placed = sorted(
        run,
        key=lambda i: (
            -_level(candidates[i].language),
            -_level(candidates[i].region),
            position[i],
        ),
    )
    out = []
    for at, i in enumerate(placed):
        passed = next((j for j in placed[at + 1 :] if position[j] < position[i]), -1)
        by = ""
        if passed >= 0:
            mine, theirs = candidates[i], candidates[passed]
            by = "language" if _level(mine.language) > _level(theirs.language) else "region"
        out.append(Placed(i, passed, by))
    return out


Facts = Callable[[I64, I64], tuple[F64, F64, Bool]]
"""(rows, columns) → the language, region and "addresses the need" of each pair's best offer."""


@dataclass(frozen=True)
class Selection:
    """The top ``k`` of each row after the near-tie ordering: ``rows``, ``ranks`` (from 1) and
    ``cols`` (country positions), by row then rank; ``passed`` the column of the first
    higher-scored candidate each passed (-1) and ``by`` the factor that decided; ``asked`` the
    position of each among the pairs ``facts`` was asked about (to reuse what it computed)."""

    rows: I64
    ranks: I64
    cols: I64
    passed: I64
    by: list[str]
    asked: I64


def select(keys: F64, k: int, delta: float, facts: Facts) -> Selection:
    """Each row's best ``k`` columns of the finite ``keys`` (needs × countries), near-ties
    ordered. Only the columns within ``delta`` of a row's k-th key can move into its top k, so
    ``facts`` is asked about those alone."""
    k = min(k, keys.shape[1])
    empty = np.zeros(0, dtype=np.int64)
    if k < 1 or not keys.shape[0]:
        return Selection(empty, empty, empty, empty, [], empty)
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
    out_rows: list[int] = []
    out_ranks: list[int] = []
    out_cols: list[int] = []
    out_passed: list[int] = []
    out_by: list[str] = []
    out_asked: list[int] = []
    near = _has_near_tie(keys[rows, cols], rows, addresses, delta)
    for r in np.flatnonzero(ends > starts).tolist():
        lo, hi = int(starts[r]), int(ends[r])
        if not near[lo:hi].any():
            chosen = [Placed(i) for i in range(hi - lo)][:k]
        else:
            chosen = order(
                [
                    Candidate(
                        float(keys[r, cols[j]]),
                        int(cols[j]),
                        float(language[j]),
                        float(region[j]),
                        bool(addresses[j]),
                    )
                    for j in range(lo, hi)
                ],
                delta,
            )[:k]
        for rank, placed in enumerate(chosen, 1):
            out_rows.append(r)
            out_ranks.append(rank)
            out_cols.append(int(cols[lo + placed.index]))
            out_passed.append(int(cols[lo + placed.passed]) if placed.passed >= 0 else -1)
            out_by.append(placed.by)
            out_asked.append(lo + placed.index)
    return Selection(
        np.asarray(out_rows, dtype=np.int64),
        np.asarray(out_ranks, dtype=np.int64),
        np.asarray(out_cols, dtype=np.int64),
        np.asarray(out_passed, dtype=np.int64),
        out_by,
        np.asarray(out_asked, dtype=np.int64),
    )


def _has_near_tie(key: F64, rows: I64, addresses: Bool, delta: float) -> Bool:
    """Per sorted candidate: whether it is within ``delta`` of the next one of its row and of
    the same class (a row none of whose candidates is keeps its score order)."""
    out = np.zeros(key.size, dtype=bool)
    if key.size > 1:
        same = (rows[1:] == rows[:-1]) & (addresses[1:] == addresses[:-1])
        close = key[1:] >= key[:-1] - delta - TOLERANCE
        out[:-1] = same & close
    return out
