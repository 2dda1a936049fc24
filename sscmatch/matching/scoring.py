"""Factor tables and the scores of many (need, offer) pairs at once.

``Tables`` hold what depends on the weights' half-life (decayed experience and ties);
``score_block`` scores a block of needs against their candidate capacities and every country's
fallback offer, with whole-array operations. Every factor is the formula stated in
``sscmatch/matching/__init__.py``; ``reference.py`` computes the same one pair at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from sscmatch.matching import factors as F
from sscmatch.matching.graph import (
    indirect_proximity_matrix,
    projection_from_membership,
    small_exchanges,
)
from sscmatch.matching.indexes import DAY_MAX, DAY_MIN, Indexes
from sscmatch.matching.model import Weights
from sscmatch.text import VECTOR_SCALE, quantise

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

# Text vectors are stored as int8 (``sscmatch.text.quantise``: the unit vector × 127, rounded).
# Their dot products are whole numbers small enough (≤ dims · 127²) to be exact in float32
# whatever the order of the sums, so the fast engine (matrix products) and the reference (one dot
# product at a time) read the same cosine.
SCORE_DIGITS = 12
"""Scores are compared after rounding to this many digits (ties break by country code)."""

_LEVEL_KEYS = np.array(sorted(F.TOPIC_LEVELS))
_LEVEL_VALUES = np.array([F.TOPIC_LEVELS[k] for k in sorted(F.TOPIC_LEVELS)])


def topic_levels(similarity: F64) -> F64:
    """``factors.topic_level`` of every element (the similarities are taxonomy constants)."""
    at = np.clip(np.searchsorted(_LEVEL_KEYS, similarity), 0, len(_LEVEL_KEYS) - 1)
    out: F64 = np.where(_LEVEL_KEYS[at] == similarity, _LEVEL_VALUES[at], 0.0)
    return out


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


def rank_keys(x: F64) -> F64:
    out: F64 = np.round(x, SCORE_DIGITS)
    return out


OFFER_FACTORS: tuple[str, ...] = ("topic", "language", "maturity")
"""Factors that depend on the offer (and the need's themes and languages)."""
COUNTRY_FACTORS: tuple[str, ...] = ("experience", "relationship", "region", "follow_through")
"""Factors that depend on the provider country (and the need's recipient and themes)."""


def partial_sum(
    weights: Weights, components: Mapping[str, F64 | float], names: tuple[str, ...]
) -> F64:
    """Σ w_k·c_k over ``names``, added left to right."""
    total: F64 | float = 0.0
    for k in names:
        total = total + weights.factor(k) * components[k]
    return np.asarray(total)


def weighted(weights: Weights, components: Mapping[str, F64 | float]) -> F64:
    """The score: ((offer part + country part) + w_text·text) / Σ w. The fast engine adds the
    same parts in the same order (it computes the offer part once per capacity and the country
    part once per country), so both give the same floats."""
    offer = partial_sum(weights, components, OFFER_FACTORS)
    country = partial_sum(weights, components, COUNTRY_FACTORS)
    out: F64 = (offer + country + weights.text * np.asarray(components["text"])) / weights.total
    return out


@dataclass(eq=False)
class Tables:
    """Decayed experience and ties for one half-life (years)."""

    general: F64  # countries: Σ decay over exchanges provided (+ participation at 1/4)
    topical: F64  # themes × countries: the same, each exchange weighted by its similarity
    reference: float  # the most any country has provided (decayed): experience's yardstick
    relationship: F64  # recipient × provider, in [0, 1]
    ties: F64  # recipient × provider: the decayed tie credit D behind relationship

    @classmethod
    def build(cls, ix: Indexes, half_life: float) -> Tables:
        age = np.maximum(0, ix.reference.toordinal() - ix.ex_day) / 365.25
        d = np.power(0.5, age / half_life)
        dd = sp.diags(d)
        role = ix.provided + F.PARTICIPANT_ROLE * ix.participated
        general = np.asarray(role @ d).ravel()
        by_sig = (role @ dd @ ix.ex_onehot).toarray()  # countries × signatures
        topical = np.ascontiguousarray((by_sig @ ix.sig_topic).T)
        reference = float((ix.provided @ d).max()) if ix.provided.shape[1] else 0.0
        share = np.where(ix.member_count > 1, d / np.maximum(ix.member_count - 1, 1), 0.0)
        shared = (ix.members @ sp.diags(share) @ ix.members.T).toarray()
        directed = (ix.provided @ dd @ ix.received.T).toarray()  # provider × recipient
        directed_shared = (ix.provided @ sp.diags(share) @ ix.received.T).toarray()
        # a provider → recipient exchange counts whole; any other shared exchange counts the
        # credit it shares among its members
        ties = np.ascontiguousarray((shared + directed - directed_shared).T)  # recipient × provider
        np.fill_diagonal(ties, 0.0)
        indirect = indirect_proximity_matrix(
            projection_from_membership(small_exchanges(ix.members))
        )
        saturated = 1.0 - np.power(0.5, np.maximum(ties, 0.0))
        relationship = 1.0 - (1.0 - saturated) * (1.0 - F.INDIRECT_SHARE * indirect)
        return cls(
            general=general,
            topical=topical,
            reference=reference,
            relationship=relationship,
            ties=ties,
        )


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

        def stack(ids: list[str]) -> tuple[npt.NDArray[np.float32], Bool]:
            out = np.zeros((len(ids), dim), dtype=np.float32)
            has = np.zeros(len(ids), dtype=bool)
            for i, x in enumerate(ids):
                v = vectors.get(x)
                if v is not None:
                    out[i] = v
                    has[i] = True
            return out, has

        need, has_need = stack([n.id for n in ix.needs])
        cap, has_cap = stack([c.id for c in ix.caps])
        totals = np.zeros((len(ix.codes), dim))
        if dim:
            coo = ix.provided.tocoo()
            for p, e in zip(coo.row.tolist(), coo.col.tolist(), strict=True):
                v = vectors.get(ix.exchanges[e].id)
                if v is not None:
                    totals[p] += v
            np.add.at(totals, ix.cap_country, cap.astype(np.float64))
        country = profile(totals).astype(np.float32) if dim else np.zeros((len(ix.codes), 0))
        has_country = np.abs(country).sum(axis=1) > 0 if dim else np.zeros(len(ix.codes), bool)
        low, high = ix.corpus.text_scale
        return cls(need, cap, country.astype(np.float32), has_need, has_cap, has_country, low, high)

    def relevance(self, dots: npt.NDArray[np.floating[Any]]) -> F64:
        """``factors.text_relevance`` of the cosines these dot products stand for."""
        scaled = (cosine(dots) - self.low) / (self.high - self.low)
        out: F64 = np.clip(scaled, 0.0, 1.0)
        return out

    def grid_pairs(self, ns: I64, cs: I64, rows: I64, cols: I64) -> F64:
        """Text relevance of the pairs (ns[rows], cs[cols]), through one matrix product of the
        block's needs and capacities (no per-pair copies of vectors)."""
        if self.need.shape[1] == 0 or not rows.size:
            return np.zeros(rows.size)
        grid = self.need[ns] @ self.cap[cs].T
        rel = self.relevance(grid[rows, cols])
        rel[~(self.has_need[ns[rows]] & self.has_cap[cs[cols]])] = 0.0
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


@dataclass(eq=False)
class Block:
    """The scores of a block of needs: per candidate capacity, and per country (its best offer).

    ``best`` is needs × countries (-inf where the country has no allowed offer); ``offer`` the
    capacity (position in ``Indexes.caps``) behind it, or -1 for the fallback offer."""

    needs: I64
    best: F64
    offer: I64


class Signatures:
    """The needs of a block grouped by their subject themes and by their languages: what
    depends on those is computed once per group."""

    def __init__(self, ix: Indexes, ns: I64) -> None:
        themes: dict[tuple[int, ...], int] = {}
        langs: dict[tuple[int, ...], int] = {}
        self.theme_row = np.array(
            [themes.setdefault(ix.need_subject[n], len(themes)) for n in ns.tolist()],
            dtype=np.int64,
        )
        self.lang_row = np.array(
            [langs.setdefault(ix.need_langs[n], len(langs)) for n in ns.tolist()], dtype=np.int64
        )
        self.themes = list(themes)
        self.langs = list(langs)


def theme_max(values: F64, groups: list[tuple[int, ...]]) -> F64:
    """For each group of themes, the max over its themes of ``values[theme]`` (0 if empty)."""
    out = np.zeros((len(groups), values.shape[1]))
    for row, ts in enumerate(groups):
        if ts:
            out[row] = values[list(ts)].max(axis=0)
    return out


def experience_rows(tables: Tables, groups: list[tuple[int, ...]]) -> F64:
    """groups × countries: ``factors.experience_score`` of ½·general + ½·best topical."""
    evidence = 0.5 * tables.general[None, :] + 0.5 * theme_max(tables.topical, groups)
    if tables.reference <= 0:
        return np.zeros_like(evidence)
    out: F64 = np.where(
        evidence > 0,
        np.minimum(1.0, np.log1p(np.maximum(evidence, 0.0)) / np.log1p(tables.reference)),
        0.0,
    )
    return out


def language_rows(table: F64, empty: Bool, groups: list[tuple[int, ...]], floor: float) -> F64:
    """language groups × offers: the best credit, at least ``floor``; unknown 0.5."""
    out = np.empty((len(groups), table.shape[1]))
    for row, langs in enumerate(groups):
        if langs:
            out[row] = np.maximum(table[list(langs)].max(axis=0), floor)
        else:
            out[row] = F.LANGUAGE_UNKNOWN
    out[:, empty] = F.LANGUAGE_UNKNOWN
    return out


def candidates(ix: Indexes, roots: tuple[int, ...]) -> I64:
    """Capacities with a theme in one of these theme families, in ascending order."""
    parts = [ix.family_caps[r] for r in roots if r in ix.family_caps]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(parts))


def country_part(ix: Indexes, tables: Tables, w: Weights, ns: I64, sig: Signatures) -> F64:
    """needs × countries: the country part of the score (``COUNTRY_FACTORS``)."""
    rs = ix.need_country[ns]
    exp = experience_rows(tables, sig.themes)[sig.theme_row]
    comps = {
        "experience": exp,
        "relationship": tables.relationship[rs],
        "region": ix.region[rs],
        "follow_through": ix.follow_through[None, :],
    }
    return partial_sum(w, comps, COUNTRY_FACTORS)


def cap_offer_part(ix: Indexes, w: Weights, cs: I64, sig: Signatures) -> tuple[F64, F64]:
    """(theme groups × capacities topic levels, offer parts per (theme group, language group))
    are combined per need by :func:`score_block`; here the two tables."""
    topic = topic_levels(theme_max(ix.cap_topic[:, cs], sig.themes))
    lang = language_rows(ix.cap_lang[:, cs], ix.cap_lang_empty[cs], sig.langs, w.interpretation)
    return topic, lang


def fallback_scores(
    ix: Indexes, tables: Tables, text: Text, w: Weights, ns: I64, sig: Signatures, country: F64
) -> F64:
    """needs × countries: the score of every country's fallback offer (-inf when not allowed)."""
    topic = F.FALLBACK_SHARE * topic_levels(theme_max(ix.fallback_topic, sig.themes))
    lang = language_rows(ix.fallback_lang, ix.fallback_lang_empty, sig.langs, w.interpretation)
    offer = partial_sum(
        w,
        {
            "topic": topic[sig.theme_row],
            "language": lang[sig.lang_row],
            "maturity": F.FALLBACK_MATURITY,
        },
        OFFER_FACTORS,
    )
    txt = F.FALLBACK_SHARE * text.countries(ns)
    out: F64 = (offer + country + w.text * txt) / w.total
    return np.where(allowed_fallback(ix, ns), out, -np.inf)


def allowed_fallback(ix: Indexes, ns: I64) -> Bool:
    """needs × countries: may the country's fallback offer be proposed."""
    out: Bool = ix.allowed[ix.need_country[ns]] & ix.has_offer[None, :]
    return out


def _vetoed_pairs(ix: Indexes) -> I64:
    """Vetoed (need, capacity) pairs as need position × capacities + capacity position."""
    out = [
        ix.need_pos[n] * len(ix.caps) + ix.cap_pos[c]
        for n, ids in ix.cap_vetoes.items()
        if n in ix.need_pos
        for c in ids
        if c in ix.cap_pos
    ]
    return np.asarray(sorted(out), dtype=np.int64)


def _kth_largest(x: F64, k: int) -> F64:
    """Per row, the k-th largest value (-inf when a row has fewer than k finite values)."""
    if x.shape[1] < k:
        return np.full(x.shape[0], -np.inf)
    out: F64 = -np.partition(-x, k - 1, axis=1)[:, k - 1]
    return out


def _segments(ix: Indexes, cs: I64, nc: int) -> tuple[I64, I64, I64]:
    """For capacities ``cs`` (ascending, so grouped by country): the start of each country's
    run, and per country its start and length (0 for countries without one)."""
    country = ix.cap_country[cs]
    starts = np.flatnonzero(np.r_[True, country[1:] != country[:-1]])
    seg_start = np.zeros(nc, dtype=np.int64)
    seg_len = np.zeros(nc, dtype=np.int64)
    seg_start[country[starts]] = starts
    seg_len[country[starts]] = np.diff(np.r_[starts, cs.size])
    return starts, seg_start, seg_len


def _country_max(values: F64, starts: I64, owners: I64, nc: int, empty: float = -np.inf) -> F64:
    """rows × countries: the max of ``values`` (rows × capacities) over each country's run
    (``empty`` for countries without one)."""
    out = np.full((values.shape[0], nc), empty)
    if starts.size:
        out[:, owners] = np.maximum.reduceat(values, starts, axis=1)
    return out


def _first_max(ix: Indexes, values: F64, maxima: F64, cs: I64, nc: int) -> I64:
    """rows × countries: the first column (position in ``cs``) of each country's run where
    ``values`` reaches the country's maximum ``maxima`` (-1 where it is not finite)."""
    starts, _seg_start, _seg_len = _segments(ix, cs, nc)
    owners = ix.cap_country[cs[starts]]
    lens = np.diff(np.r_[starts, cs.size])
    hit = (values == np.repeat(maxima[:, owners], lens, axis=1)) & np.isfinite(values)
    rows, cols = np.nonzero(hit)
    seg = np.searchsorted(starts, cols, side="right") - 1
    key = rows * owners.size + seg
    _, at = np.unique(key, return_index=True)
    out = np.full(maxima.shape, -1, dtype=np.int64)
    out[rows[at], owners[seg[at]]] = cols[at]
    return out


ROUND_ONE_EXTRA = 3
"""Countries beyond K whose best text-free capacity has its text compared first."""


def _round_one(
    ix: Indexes,
    text: Text,
    w: Weights,
    ns: I64,
    cs: I64,
    sig: Signatures,
    tables: tuple[F64, F64],
    pick: I64,
    country: F64,
    upper: F64,
    top_k: int,
) -> F64:
    """Lower bounds: for each need's ``top_k + ROUND_ONE_EXTRA`` most promising countries, the
    exact score (text included) of one of their open capacities (the first with the best
    topic and maturity). -inf elsewhere."""
    topic, lang = tables
    out = np.full(upper.shape, -np.inf)
    width = min(top_k + ROUND_ONE_EXTRA, upper.shape[1])
    picked = np.argpartition(-upper, width - 1, axis=1)[:, :width]
    rows = np.repeat(np.arange(ns.size), width)
    ps = picked.ravel()
    cols = pick[sig.theme_row[rows], ps]
    ok = np.isfinite(upper[rows, ps]) & (cols >= 0)
    rows, ps, cols = rows[ok], ps[ok], cols[ok]
    if rows.size:
        base = _offer(w, topic, lang, ix.cap_maturity[cs], sig, rows, cols) + country[rows, ps]
        exact = base + w.text * text.grid_pairs(ns, cs, rows, cols)
        out[rows, ps] = exact / w.total
    return out


def _offer(
    w: Weights, topic: F64, lang: F64, maturity: F64, sig: Signatures, rows: I64, cols: I64
) -> F64:
    """The offer part of (need row, capacity column) pairs."""
    out: F64 = (
        w.topic * topic[sig.theme_row[rows], cols] + w.language * lang[sig.lang_row[rows], cols]
    ) + w.maturity * maturity[cols]
    return out


def score_block(
    ix: Indexes,
    tables: Tables,
    text: Text,
    w: Weights,
    ns: I64,
    cs: I64,
    top_k: int | None = None,
) -> Block:
    """Scores of the needs ``ns`` (which share the candidate capacities ``cs``, ascending).

    A capacity's score is (offer part + country part + w_text·text) / Σw. The offer part
    depends on the need only through its subject themes (topic) and languages, the country
    part only on the country; so a country's capacities are bounded above by its best topic,
    language and maturity plus its country part plus w_text, and below by the exact score of
    one of them. Capacities are scored (text included) only for the countries whose bound can
    still reach a need's ``top_k``-th best lower bound (every country when ``top_k`` is None)."""
    nc = len(ix.codes)
    total = w.total
    sig = Signatures(ix, ns)
    country = country_part(ix, tables, w, ns, sig)
    best = fallback_scores(ix, tables, text, w, ns, sig, country)
    offer_of = np.full((ns.size, nc), -1, dtype=np.int64)
    if not cs.size:
        return Block(needs=ns, best=best, offer=offer_of)
    topic, lang = cap_offer_part(ix, w, cs, sig)
    maturity = ix.cap_maturity[cs]
    starts, seg_start, seg_len = _segments(ix, cs, nc)
    owners = ix.cap_country[cs[starts]]
    # capacities open to every need (no availability window, no veto of a single need)
    vetoed = {ix.cap_pos[c] for ids in ix.cap_vetoes.values() for c in ids if c in ix.cap_pos}
    windowed = (ix.cap_from[cs] != DAY_MIN) | (ix.cap_to[cs] != DAY_MAX)
    if vetoed:
        windowed |= np.isin(cs, np.fromiter(vetoed, dtype=np.int64))
    allowed = ix.allowed[ix.need_country[ns]]
    if top_k is None:
        candidate = allowed & (seg_len > 0)[None, :]
        floor = np.full(ns.size, -np.inf)
    else:
        # countries without capacities here get 0 (a zero weight times -inf would be nan);
        # they are no candidates anyway
        bound = (
            w.topic * _country_max(topic, starts, owners, nc, 0.0)[sig.theme_row]
            + w.language * _country_max(lang, starts, owners, nc, 0.0)[sig.lang_row]
        ) + w.maturity * _country_max(maturity[None, :], starts, owners, nc, 0.0)
        upper = np.where(allowed, (bound + country + w.text) / total, -np.inf)
        rank_value = np.where(windowed[None, :], -np.inf, w.topic * topic + w.maturity * maturity)
        pick = _first_max(ix, rank_value, _country_max(rank_value, starts, owners, nc), cs, nc)
        lower = _round_one(ix, text, w, ns, cs, sig, (topic, lang), pick, country, upper, top_k)
        floor = _kth_largest(np.maximum(lower, best), top_k)
        candidate = allowed & (upper >= floor[:, None] - 1e-9)
    n_idx, p_idx = np.nonzero(candidate & (seg_len > 0)[None, :])
    lens = seg_len[p_idx]
    if not lens.sum():
        return Block(needs=ns, best=best, offer=offer_of)
    rows = np.repeat(n_idx, lens)
    ends = np.cumsum(lens)
    cols = (
        np.arange(int(ends[-1])) - np.repeat(ends - lens, lens) + np.repeat(seg_start[p_idx], lens)
    )
    ps = np.repeat(p_idx, lens)
    base = _offer(w, topic, lang, maturity, sig, rows, cols) + country[rows, ps]
    keep = base + w.text >= floor[rows] * total - 1e-9
    win = windowed[cols] & keep
    if win.any():
        at = np.flatnonzero(win)
        c_at, n_at = cs[cols[at]], ns[rows[at]]
        ok = (ix.cap_from[c_at] <= ix.need_to[n_at]) & (ix.cap_to[c_at] >= ix.need_from[n_at])
        if ix.cap_vetoes:
            ok &= ~np.isin(n_at * len(ix.caps) + c_at, _vetoed_pairs(ix))
        keep[at[~ok]] = False
    rows, cols, ps, base = rows[keep], cols[keep], ps[keep], base[keep]
    if not rows.size:
        return Block(needs=ns, best=best, offer=offer_of)
    scores = (base + w.text * text.grid_pairs(ns, cs, rows, cols)) / total
    # per (need, country): the best score, the lowest capacity among equal rounded scores
    # (pairs come sorted by need, country, capacity, so each group is one run)
    keys = rank_keys(scores)
    group = rows * nc + ps
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    top = np.maximum.reduceat(keys, starts)
    hit = np.flatnonzero(keys == np.repeat(top, np.diff(np.r_[starts, keys.size])))
    _, at = np.unique(group[hit], return_index=True)
    first = hit[at]
    cap_best = np.full((ns.size, nc), -np.inf)
    cap_offer = np.full((ns.size, nc), -1, dtype=np.int64)
    cap_best[rows[first], ps[first]] = scores[first]
    cap_offer[rows[first], ps[first]] = cs[cols[first]]
    # a registered offer wins a tie with the country's fallback
    take = (rank_keys(cap_best) >= rank_keys(best)) & np.isfinite(cap_best)
    return Block(
        needs=ns, best=np.where(take, cap_best, best), offer=np.where(take, cap_offer, offer_of)
    )


def pair_components(
    ix: Indexes, tables: Tables, text: Text, w: Weights, ns: I64, offers: I64, ps: I64
) -> dict[str, F64]:
    """Every factor of aligned (need, offer) pairs: ``offers`` are capacity positions, or -1
    for the fallback offer of the country in ``ps``. The same arithmetic as the block scores."""
    rs = ix.need_country[ns]
    is_cap = offers >= 0
    cs = np.where(is_cap, offers, 0)
    themes = [ix.need_subject[n] for n in ns.tolist()]
    has_caps = len(ix.caps) > 0
    cap_sim = np.array(
        [
            ix.cap_topic[list(ts), c].max() if ts and has_caps else 0.0
            for ts, c in zip(themes, cs.tolist(), strict=True)
        ]
    )
    fb_sim = np.array(
        [
            ix.fallback_topic[list(ts), p].max() if ts else 0.0
            for ts, p in zip(themes, ps.tolist(), strict=True)
        ]
    )
    topic = np.where(is_cap, topic_levels(cap_sim), F.FALLBACK_SHARE * topic_levels(fb_sim))
    topical = np.array(
        [
            tables.topical[list(ts), p].max() if ts else 0.0
            for ts, p in zip(themes, ps.tolist(), strict=True)
        ]
    )
    evidence = 0.5 * tables.general[ps] + 0.5 * topical
    if tables.reference > 0:
        exp = np.where(
            evidence > 0,
            np.minimum(1.0, np.log1p(np.maximum(evidence, 0.0)) / np.log1p(tables.reference)),
            0.0,
        )
    else:
        exp = np.zeros(ns.size)
    if text.need.shape[1]:
        cap_text = text.pairs(ns, cs) if has_caps else np.zeros(ns.size)
        fb_text = text.relevance(np.einsum("ij,ij->i", text.need[ns], text.country[ps]))
        fb_text[~(text.has_need[ns] & text.has_country[ps])] = 0.0
        txt = np.where(is_cap, cap_text, F.FALLBACK_SHARE * fb_text)
    else:
        txt = np.zeros(ns.size)
    lang = np.empty(ns.size)
    for i, (n, c, p, cap) in enumerate(
        zip(ns.tolist(), cs.tolist(), ps.tolist(), is_cap, strict=True)
    ):
        table, empty, col = (
            (ix.cap_lang, ix.cap_lang_empty, c)
            if cap
            else (ix.fallback_lang, ix.fallback_lang_empty, p)
        )
        langs = ix.need_langs[n]
        if not langs or empty[col]:
            lang[i] = F.LANGUAGE_UNKNOWN
        else:
            lang[i] = max(float(table[list(langs), col].max()), w.interpretation)
    return {
        "topic": topic,
        "text": txt,
        "experience": exp,
        "relationship": tables.relationship[rs, ps],
        "region": ix.region[rs, ps],
        "language": lang,
        "maturity": np.where(is_cap, ix.cap_maturity[cs] if has_caps else 0.0, F.FALLBACK_MATURITY),
        "follow_through": ix.follow_through[ps],
    }
