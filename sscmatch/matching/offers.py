"""Which capacities of a country can be its best offer for a need, before any text is compared.

The offer part of a capacity's score depends on the need only through the need's subject
themes and languages; a block's needs share few such combinations. Per combination and
country, a capacity whose offer part plus the most the text can give (``w.text``) stays below
the offer part of another capacity of the same country open to every need is never that
country's best: the country part is the same for both and the text adds at most ``w.text``.
:class:`OfferTable` keeps, per combination, only the capacities that pass, grouped by country,
and the per-country maximum of the offer part (the upper bound ``score_block`` prunes
countries with). Combinations are processed in chunks, so memory stays bounded whatever the
block's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sscmatch.matching.model import Weights

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

CHUNK_CELLS = 4_000_000
"""Largest (combinations × capacities) slice of offer parts held at once."""


def offer_parts(
    w: Weights, topic: F64, lang: F64, maturity: F64, theme_rows: I64, lang_rows: I64
) -> F64:
    """rows × capacities: the offer part, added in the order of ``scoring.weighted`` (so the
    floats are those of the pairwise computation)."""
    out: F64 = (w.topic * topic[theme_rows] + w.language * lang[lang_rows]) + w.maturity * maturity[
        None, :
    ]
    return out


def country_runs(country: I64) -> tuple[I64, I64]:
    """For capacities sorted by country: the start of each country's run and its country."""
    starts = np.flatnonzero(np.r_[True, country[1:] != country[:-1]])
    return starts, country[starts]


@dataclass(eq=False)
class OfferTable:
    """Per (theme, language) combination of a block's needs: the capacities (columns of the
    block's candidate list) that can be their country's best, grouped by country.

    ``combo[i]`` is need row i's combination; ``bound`` combinations × countries the best offer
    part of each country (0 without capacities); the pruned columns of combination k and
    country p are ``columns[start[k, p] : start[k, p] + length[k, p]]``."""

    combo: I64
    bound: F64
    columns: I64
    start: I64
    length: I64

    def expand(self, rows: I64, ps: I64) -> tuple[I64, I64, I64]:
        """(need row, capacity column, country) of every kept capacity of the given (need row,
        country) pairs, in the order of the pairs, then of the capacities."""
        k = self.combo[rows]
        lens = self.length[k, ps]
        if not lens.sum():
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        ends = np.cumsum(lens)
        at = (
            np.arange(int(ends[-1]))
            - np.repeat(ends - lens, lens)
            + np.repeat(self.start[k, ps], lens)
        )
        return np.repeat(rows, lens), self.columns[at], np.repeat(ps, lens)


def offer_table(
    w: Weights,
    tables: tuple[F64, F64],
    maturity: F64,
    rows: tuple[I64, I64],
    cap_country: I64,
    always_open: Bool,
    nc: int,
) -> OfferTable:
    """The :class:`OfferTable` of needs with theme-table rows and language-table rows ``rows``
    against capacities of countries ``cap_country`` (sorted); ``always_open`` marks the
    capacities open to every need (no availability window, no veto)."""
    topic, lang = tables
    pairs = np.stack(rows, axis=1)
    combos, inverse = np.unique(pairs, axis=0, return_inverse=True)
    n_combo, n_caps = combos.shape[0], cap_country.size
    bound = np.zeros((n_combo, nc))
    start = np.zeros((n_combo, nc), dtype=np.int64)
    length = np.zeros((n_combo, nc), dtype=np.int64)
    columns: list[I64] = []
    offset = 0
    starts, owners = country_runs(cap_country)
    step = max(1, CHUNK_CELLS // max(1, n_caps))
    for lo in range(0, n_combo, step):
        part = combos[lo : lo + step]
        offer = offer_parts(w, topic, lang, maturity, part[:, 0], part[:, 1])
        bound[lo : lo + step, owners] = np.maximum.reduceat(offer, starts, axis=1)
        open_best = np.full((part.shape[0], nc), -np.inf)
        open_best[:, owners] = np.maximum.reduceat(
            np.where(always_open[None, :], offer, -np.inf), starts, axis=1
        )
        keep = offer + w.text >= open_best[:, cap_country] - 1e-9
        for i in range(part.shape[0]):
            cols = np.flatnonzero(keep[i])
            counts = np.bincount(cap_country[cols], minlength=nc)
            length[lo + i] = counts
            start[lo + i] = offset + np.cumsum(counts) - counts
            columns.append(cols)
            offset += cols.size
    flat = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    return OfferTable(
        combo=inverse.ravel().astype(np.int64),
        bound=bound,
        columns=flat.astype(np.int64),
        start=start,
        length=length,
    )
