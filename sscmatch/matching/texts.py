"""Text relevance in the engine: stored (int8) vectors, their exact dot products, each
country's profile (the direction of what it provided and offers) and the mapping of cosines to
[0, 1].

Text vectors are stored as int8 (``sscmatch.text.quantise``: the unit vector × 127, rounded).
Their dot products are whole numbers small enough (≤ dims · 127²) to be exact in float32 whatever
the order of the sums, so the fast engine (matrix products) and the reference (one dot product at
a time) read the same cosine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sscmatch.matching.indexes import Indexes
from sscmatch.text import VECTOR_SCALE, quantise

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


EXCHANGE_SLICE = 20_000
"""Exchanges whose vectors are summed into their providers' profiles at once."""


def profile(total: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.int8]:
    """A sum of stored vectors (rows, whole numbers) as one stored vector: its direction."""
    rows = np.atleast_2d(np.asarray(total, dtype=np.float64))
    norm = np.sqrt((rows * rows).sum(axis=1))
    unit = np.zeros_like(rows)
    ok = norm > 0
    unit[ok] = rows[ok] / norm[ok, None]
    return quantise(unit)


def cosine(dot: npt.NDArray[np.floating[Any]]) -> F64:
    """The cosine that a dot product of two stored vectors stands for."""
    out: F64 = np.asarray(dot, dtype=np.float64) / float(VECTOR_SCALE * VECTOR_SCALE)
    return out


def relevance(dots: npt.NDArray[np.floating[Any]], low: float, high: float) -> F64:
    """``factors.text_relevance`` of the cosines that dot products of stored vectors stand for,
    in two passes (a·dot − b, clipped): the engine and the reference both use this."""
    a = 1.0 / (VECTOR_SCALE * VECTOR_SCALE * (high - low))
    b = low / (high - low)
    out: F64 = np.multiply(dots, a, dtype=np.float64)  # one pass: cast and scale
    out -= b
    np.clip(out, 0.0, 1.0, out=out)
    return out


@dataclass(eq=False)
class Text:
    """Stored text vectors (int8, as float32 for matrix products) of needs and capacities, and
    each country's profile: the direction of the sum of its provided exchanges' and its
    capacities' vectors."""

    need: npt.NDArray[np.float32]
    cap: npt.NDArray[np.float32]
    country: npt.NDArray[np.float32]
    has_need: Bool
    has_cap: Bool
    has_country: Bool
    low: float
    high: float

    @classmethod
    def build(cls, ix: Indexes) -> Text:
        vectors = ix.corpus.vectors
        dim = len(next(iter(vectors.values()))) if vectors else 0

        def stack(ids: list[str], dtype: Any = np.float32) -> tuple[npt.NDArray[Any], Bool]:
            got = [vectors.get(x) for x in ids]
            has = np.fromiter((v is not None for v in got), dtype=bool, count=len(ids))
            out = np.zeros((len(ids), dim), dtype=dtype)
            if has.any():
                out[has] = np.asarray([v for v in got if v is not None], dtype=dtype)
            return out, has

        need, has_need = stack([n.id for n in ix.needs])
        cap, has_cap = stack([c.id for c in ix.caps])
        totals = np.zeros((len(ix.codes), dim))
        if dim:
            # whole numbers, so the sums are exact in any order; in slices of exchanges, so
            # no float copy of every exchange vector is held at once
            exchange, _ = stack([e.id for e in ix.exchanges], np.int8)
            provided = ix.provided.tocsc()
            for lo in range(0, len(ix.exchanges), EXCHANGE_SLICE):
                hi = lo + EXCHANGE_SLICE
                totals += provided[:, lo:hi] @ exchange[lo:hi].astype(np.float64)
            np.add.at(totals, ix.cap_country, cap.astype(np.float64))
        country = profile(totals).astype(np.float32) if dim else np.zeros((len(ix.codes), 0))
        has_country = np.abs(country).sum(axis=1) > 0 if dim else np.zeros(len(ix.codes), bool)
        low, high = ix.corpus.text_scale
        return cls(need, cap, country.astype(np.float32), has_need, has_cap, has_country, low, high)

    def relevance(self, dots: npt.NDArray[np.floating[Any]]) -> F64:
        return relevance(dots, self.low, self.high)

    def grid(self, ns: I64, cs: I64) -> F64:
        """needs × capacities: text relevance of every pair (0 where a vector is missing)."""
        if self.need.shape[1] == 0:
            return np.zeros((ns.size, cs.size))
        rel = self.relevance(self.need[ns] @ self.cap[cs].T)
        rel[~self.has_need[ns]] = 0.0
        rel[:, ~self.has_cap[cs]] = 0.0
        return rel

    def pairs(self, ns: I64, cs: I64) -> F64:
        """Text relevance of aligned (need, capacity) pairs (0 where a vector is missing)."""
        if self.need.shape[1] == 0 or not ns.size:
            return np.zeros(ns.size)
        rel = self.relevance(np.einsum("ij,ij->i", self.need[ns], self.cap[cs]))
        rel[~(self.has_need[ns] & self.has_cap[cs])] = 0.0
        return rel

    def countries(self, ns: I64) -> F64:
        """needs × countries: relevance of the need's text to each country's profile."""
        if self.need.shape[1] == 0:
            return np.zeros((ns.size, self.country.shape[0]))
        rel = self.relevance(self.need[ns] @ self.country.T)
        rel[~self.has_need[ns]] = 0.0
        rel[:, ~self.has_country] = 0.0
        return rel
