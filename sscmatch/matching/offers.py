"""Upper bounds of a country's capacities for a need, before any text is compared.

The offer part of a capacity's score depends on the need only through the need's subject
themes and languages; a block's needs share few such combinations. Per combination and
country, :class:`OfferTable` keeps the best offer part (with the country part and the most the
text can give, an upper bound of the country's best score: ``score_block`` leaves out the
countries whose bound cannot reach a need's K best). Combinations are processed in chunks, so
memory stays bounded whatever the block's size.
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


def run_max(values: F64, starts: I64) -> tuple[F64, I64]:
    """Per row of ``values`` and per run of columns (runs begin at ``starts``): the largest
    value and the column of its first occurrence (-1 where the run holds no finite value)."""
    n = values.shape[1]
    top = np.maximum.reduceat(values, starts, axis=1)
    at_top = np.isfinite(values) & (values >= np.repeat(top, np.diff(np.r_[starts, n]), axis=1))
    first = np.minimum.reduceat(np.where(at_top, np.arange(n)[None, :], n), starts, axis=1)
    return top, np.where(first < n, first, -1)


def country_runs(country: I64) -> tuple[I64, I64]:
    """For capacities sorted by country: the start of each country's run and its country."""
    starts = np.flatnonzero(np.r_[True, country[1:] != country[:-1]])
    return starts, country[starts]


@dataclass(eq=False)
class OfferTable:
    """Per (theme, language) combination of a block's needs, per country.

    ``combo[i]`` is need row i's combination; ``bound[k, p]`` the best offer part of country
    p's capacities for combination k (0 without capacities)."""

    combo: I64
    bound: F64
    parts: F64 | None = None
    """combinations × capacities: every offer part, kept when one chunk held them all (the
    exact pass then reads them instead of working them out again a country at a time)."""


def offer_table(
    w: Weights,
    tables: tuple[F64, F64],
    maturity: F64,
    rows: tuple[I64, I64],
    cap_country: I64,
    nc: int,
) -> OfferTable:
    """The :class:`OfferTable` of needs with theme-table rows and language-table rows ``rows``
    against capacities of countries ``cap_country`` (sorted)."""
    topic, lang = tables
    pairs = np.stack(rows, axis=1)
    combos, inverse = np.unique(pairs, axis=0, return_inverse=True)
    n_combo, n_caps = combos.shape[0], cap_country.size
    bound = np.zeros((n_combo, nc))
    starts, owners = country_runs(cap_country)
    step = max(1, CHUNK_CELLS // max(1, n_caps))
    for lo in range(0, n_combo, step):
        part = combos[lo : lo + step]
        offer = offer_parts(w, topic, lang, maturity, part[:, 0], part[:, 1])
        bound[lo : lo + step, owners] = np.maximum.reduceat(offer, starts, axis=1)
    return OfferTable(
        combo=inverse.ravel().astype(np.int64),
        bound=bound,
        parts=offer if step >= n_combo else None,
    )
