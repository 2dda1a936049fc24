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
from sscmatch.matching.offers import country_runs
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
            if ix.caps:
                # capacities are sorted by country: one sum per run (np.add.at took twice as long)
                starts, owners = country_runs(ix.cap_country)
                totals[owners] += np.add.reduceat(cap.astype(np.float64), starts, axis=0)
        country = profile(totals).astype(np.float32) if dim else np.zeros((len(ix.codes), 0))
        has_country = np.abs(country).sum(axis=1) > 0 if dim else np.zeros(len(ix.codes), bool)
        low, high = ix.corpus.text_scale
        return cls(need, cap, country.astype(np.float32), has_need, has_cap, has_country, low, high)

    def relevance(self, dots: npt.NDArray[np.floating[Any]]) -> F64:
        return relevance(dots, self.low, self.high)

    def block(self, ns: I64, cs: I64, gather: bool) -> TextBlock:
        """The text of a block's needs ``ns`` against its candidate capacities ``cs``."""
        return TextBlock(self, ns, cs, gather)

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


class TextBlock:
    """The text relevance of a block's needs and candidate capacities, by their positions in
    the block. The exact pass asks for a grid per country: gathering the same rows of the whole
    corpus's vectors each time cost more than the products, so a large block gathers its
    vectors once (``gather``; a few needs ask for few grids, over many capacities)."""

    def __init__(self, text: Text, ns: I64, cs: I64, gather: bool) -> None:
        self.text, self.ns, self.cs, self.gather = text, ns, cs, gather
        if gather:
            self.need, self.cap = text.need[ns], text.cap[cs]
            self.has_need, self.has_cap = text.has_need[ns], text.has_cap[cs]

    def grid(self, rows: I64, cols: I64 | slice) -> F64:
        """rows × cols (positions in the block): the text relevance of every pair, 0 where a
        vector is missing."""
        if self.gather:  # a run of columns is then a view, not a copy
            need, cap = self.need[rows], self.cap[cols]
            no_need, no_cap = ~self.has_need[rows], ~self.has_cap[cols]
        else:
            ns, cs = self.ns[rows], self.cs[cols]
            need, cap = self.text.need[ns], self.text.cap[cs]
            no_need, no_cap = ~self.text.has_need[ns], ~self.text.has_cap[cs]
        if need.shape[1] == 0:
            return np.zeros((need.shape[0], cap.shape[0]))
        rel = self.text.relevance(need @ cap.T)
        if no_need.any():
            rel[no_need] = 0.0
        if no_cap.any():
            rel[:, no_cap] = 0.0
        return rel
