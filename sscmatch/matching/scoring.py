"""The scores of many (need, offer) pairs at once.

``score_block`` scores a block of needs against their candidate capacities and every country's
fallback offer, with whole-array operations (``tables.py`` holds the decayed experience and
ties, ``texts.py`` the text vectors). Every factor is the formula stated in
``sscmatch/matching/__init__.py``; ``reference.py`` computes the same one pair at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from sscmatch.matching import factors as F
from sscmatch.matching.indexes import DAY_MAX, DAY_MIN, Indexes
from sscmatch.matching.model import CONTEXT_FACTORS, FACTORS, Weights
from sscmatch.matching.offers import OfferTable, country_runs, offer_parts, offer_table, run_max
from sscmatch.matching.tables import Tables
from sscmatch.matching.texts import Text, TextBlock

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

SCORE_DIGITS = 12
"""Scores are compared after rounding to this many digits (ties break by country code)."""

_LEVEL_KEYS = np.array(sorted(F.TOPIC_LEVELS))
_LEVEL_VALUES = np.array([F.TOPIC_LEVELS[k] for k in sorted(F.TOPIC_LEVELS)])


def topic_levels(similarity: F64) -> F64:
    """``factors.topic_level`` of every element (the similarities are taxonomy constants)."""
    at = np.clip(np.searchsorted(_LEVEL_KEYS, similarity), 0, len(_LEVEL_KEYS) - 1)
    out: F64 = np.where(_LEVEL_KEYS[at] == similarity, _LEVEL_VALUES[at], 0.0)
    return out


def rank_keys(x: F64) -> F64:
    out: F64 = np.round(x, SCORE_DIGITS)
    return out


OFFER_FACTORS: tuple[str, ...] = ("topic", "language", "maturity")
"""Factors that depend on the offer (and the need's themes and languages)."""
COUNTRY_FACTORS: tuple[str, ...] = ("experience", "relationship", "region", "follow_through")
"""Factors that depend on the provider country (and the need's recipient and themes)."""


FactorWeights = Mapping[str, float]
"""A weight per factor name (``FACTORS``)."""


def offer_weights(weights: Weights) -> FactorWeights:
    """The weights of a registered offer's score: the ``Weights`` themselves."""
    return {k: weights.factor(k) for k in FACTORS}


SHARED: frozenset[str] = frozenset({"text"})
"""The factors besides topic that a fallback offer takes at ``FALLBACK_SHARE`` of their value."""


def fallback_weights(weights: Weights) -> FactorWeights:
    """The weights of a fallback offer's score (a country's record; no registered offer).

    Topic keeps its weight: topical fit comes first for a record as for an offer (the one
    country that did exchanges on the need's theme leads the fallbacks). Every other piece of
    the record counts alike: one *unit*, the mean weight of a context factor (1 with the
    defaults), and never more than in a registered offer's score. A fallback's text is already
    scaled by ``FALLBACK_SHARE``, so its unit is ``unit / FALLBACK_SHARE``. The score keeps the
    registered offers' divisor Σw, and no weight is above the registered offer's, so the
    topic guarantee holds against fallbacks as well.

    Why: the large experience weight is there for registered offers (a long record may beat a
    newcomer's exact offer); for a fallback, whose whole offer *is* its record, it counted the
    same exchanges twice and put the most active country first for every need. Among the rest
    of a record nothing says which evidence predicts better, and unit weights are the choice
    that carries over to data they were not fitted on (Dawes, "The robust beauty of improper
    linear models", 1979). README, "Fallback", has the figures."""
    context = [weights.factor(k) for k in CONTEXT_FACTORS]
    unit = sum(context) / len(context)
    if unit <= 0:
        unit = weights.total / len(FACTORS)
    return {
        k: weights.factor(k)
        if k == "topic"
        else min(weights.factor(k), unit / (F.FALLBACK_SHARE if k in SHARED else 1.0))
        for k in FACTORS
    }


def partial_sum(
    weights: FactorWeights, components: Mapping[str, F64 | float], names: tuple[str, ...]
) -> F64:
    """Σ w_k·c_k over ``names``, added left to right."""
    total: F64 | float = 0.0
    for k in names:
        total = total + weights[k] * components[k]
    return np.asarray(total)


def weighted(
    weights: Weights, components: Mapping[str, F64 | float], fallback: Bool | bool = False
) -> F64:
    """The score: ((offer part + country part) + w_text·text) / Σ w, with the fallback weights
    where ``fallback`` is true. The fast engine adds the same parts in the same order (it
    computes the offer part once per capacity and the country part once per country), so both
    give the same floats."""
    total = weights.total
    out = _weighted(offer_weights(weights), total, components)
    if np.any(fallback):
        out = np.where(fallback, _weighted(fallback_weights(weights), total, components), out)
    return out


def _weighted(w: FactorWeights, total: float, components: Mapping[str, F64 | float]) -> F64:
    offer = partial_sum(w, components, OFFER_FACTORS)
    country = partial_sum(w, components, COUNTRY_FACTORS)
    out: F64 = (offer + country + w["text"] * np.asarray(components["text"])) / total
    return out


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
        subjects, self.theme_row = _rows(ix.need_subject_key[ns])
        lang_sets, self.lang_row = _rows(ix.need_langs_key[ns])
        self.themes = [ix.subjects[k] for k in subjects]
        self.langs = [ix.lang_sets[k] for k in lang_sets]


def _rows(keys: I64) -> tuple[list[int], I64]:
    """The distinct keys (ascending), and the row of each key among them."""
    distinct, row = np.unique(keys, return_inverse=True)
    return distinct.tolist(), row.ravel().astype(np.int64)


def theme_max(values: F64, groups: list[tuple[int, ...]], cols: I64 | None = None) -> F64:
    """For each group of themes, the max over its themes of ``values[theme]`` (0 if empty),
    in the columns ``cols`` (all when None): only the group's rows of those columns are read."""
    out = np.zeros((len(groups), values.shape[1] if cols is None else cols.size))
    for row, ts in enumerate(groups):
        if ts:
            picked = (
                values[list(ts)]
                if cols is None
                else values[np.ix_(np.asarray(ts, dtype=np.int64), cols)]
            )
            out[row] = picked.max(axis=0)
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


def language_rows(
    table: F64, empty: Bool, groups: list[tuple[int, ...]], floor: float, cols: I64 | None = None
) -> F64:
    """language groups × offers (those in ``cols``, all when None): the best credit, at least
    ``floor``; unknown 0.5."""
    picked_empty = empty if cols is None else empty[cols]
    out = np.empty((len(groups), picked_empty.size))
    for row, langs in enumerate(groups):
        if langs:
            picked = (
                table[list(langs)]
                if cols is None
                else table[np.ix_(np.asarray(langs, dtype=np.int64), cols)]
            )
            out[row] = np.maximum(picked.max(axis=0), floor)
        else:
            out[row] = F.LANGUAGE_UNKNOWN
    out[:, picked_empty] = F.LANGUAGE_UNKNOWN
    return out


def candidates(ix: Indexes, roots: tuple[int, ...]) -> I64:
    """Capacities with a theme in one of these theme families, in ascending order."""
    parts = [ix.family_caps[r] for r in roots if r in ix.family_caps]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(parts))


def country_components(ix: Indexes, tables: Tables, ns: I64, sig: Signatures) -> dict[str, F64]:
    """needs × countries: the factors of ``COUNTRY_FACTORS``."""
    rs = ix.need_country[ns]
    return {
        "experience": experience_rows(tables, sig.themes)[sig.theme_row],
        "relationship": tables.relationship[rs],
        "region": ix.region[rs],
        "follow_through": ix.follow_through[None, :],
    }


def country_part(weights: Weights, components: Mapping[str, F64]) -> F64:
    """needs × countries: the country part of a registered offer's score."""
    return partial_sum(offer_weights(weights), components, COUNTRY_FACTORS)


def cap_offer_part(ix: Indexes, w: Weights, cs: I64, sig: Signatures) -> tuple[F64, F64]:
    """(theme groups × capacities topic levels, offer parts per (theme group, language group))
    are combined per need by :func:`score_block`; here the two tables."""
    topic = topic_levels(theme_max(ix.cap_topic, sig.themes, cs))
    lang = language_rows(ix.cap_lang, ix.cap_lang_empty, sig.langs, w.interpretation, cs)
    return topic, lang


def fallback_scores(
    ix: Indexes,
    tables: Tables,
    text: Text,
    w: Weights,
    ns: I64,
    sig: Signatures,
    country: Mapping[str, F64],
) -> F64:
    """needs × countries: the score of every country's fallback offer (-inf when not allowed),
    with the fallback weights; ``country`` holds the ``country_components``."""
    fw = fallback_weights(w)
    topic = F.FALLBACK_SHARE * topic_levels(theme_max(ix.fallback_topic, sig.themes))
    lang = language_rows(ix.fallback_lang, ix.fallback_lang_empty, sig.langs, w.interpretation)
    offer = partial_sum(
        fw,
        {
            "topic": topic[sig.theme_row],
            "language": lang[sig.lang_row],
            "maturity": F.FALLBACK_MATURITY,
        },
        OFFER_FACTORS,
    )
    txt = F.FALLBACK_SHARE * text.countries(ns)
    out: F64 = (offer + partial_sum(fw, country, COUNTRY_FACTORS) + fw["text"] * txt) / w.total
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


def _in_sorted(values: I64, ordered: I64) -> Bool:
    """``np.isin(values, ordered)`` for an ascending ``ordered``, without sorting either."""
    if not ordered.size:
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), ordered.size - 1)
    out: Bool = ordered[at] == values
    return out


def _kth_largest(x: F64, k: int) -> F64:
    """Per row, the k-th largest value (-inf when a row has fewer than k finite values)."""
    if x.shape[1] < k:
        return np.full(x.shape[0], -np.inf)
    out: F64 = -np.partition(-x, k - 1, axis=1)[:, k - 1]
    return out


def _top_mask(x: F64, k: int) -> Bool:
    """Per row, the (at most) ``k`` columns of largest finite value (any of equal values)."""
    out = np.zeros(x.shape, dtype=bool)
    width = min(k, x.shape[1])
    if width:
        picked = np.argpartition(-x, width - 1, axis=1)[:, :width]
        out[np.repeat(np.arange(x.shape[0]), width), picked.ravel()] = True
    out &= np.isfinite(x)
    return out


EPS = 1e-9
"""Bounds are compared with this much to spare (scores are in [0, 1]; rounding errs by about
1e-16), so no country whose score can reach a limit is left out."""

SEED_EXTRA = 3
"""Countries beyond K that each need scores exactly first, those of highest bound: the K-th
best of their scores is the lower bound the other countries' bounds are held against."""


def score_block(
    ix: Indexes,
    tables: Tables,
    text: Text,
    w: Weights,
    ns: I64,
    cs: I64,
    top_k: int | None = None,
    slack: float = 0.0,
) -> Block:
    """Scores of the needs ``ns`` (which share the candidate capacities ``cs``, ascending).

    A capacity's score is (offer part + country part + w_text·text) / Σw. The offer part
    depends on the need only through its subject themes (topic) and languages, the country
    part only on the country; so a country's capacities are bounded above by its best topic,
    language and maturity plus its country part plus w_text. With ``top_k``, each need's
    ``top_k + SEED_EXTRA`` countries of highest bound are scored exactly first (text
    included): the k-th best of those scores and the fallbacks is a lower bound of the need's
    k-th score. Then the countries whose bound reaches it, which gives each need's exact k-th
    score; then those whose bound reaches that less ``slack``: the near-tie ordering
    (``ties.py``) needs the exact scores of every country within ``slack`` of the k-th. Every
    country when ``top_k`` is None. A country is scored in full or not at all.
    """
    nc = len(ix.codes)
    total = w.total
    sig = Signatures(ix, ns)
    comps = country_components(ix, tables, ns, sig)
    country = country_part(w, comps)
    best = fallback_scores(ix, tables, text, w, ns, sig, comps)
    offer_of = np.full((ns.size, nc), -1, dtype=np.int64)
    if not cs.size:
        return Block(needs=ns, best=best, offer=offer_of)
    topic, lang = cap_offer_part(ix, w, cs, sig)
    maturity = ix.cap_maturity[cs]
    # capacities with an availability window or a veto of a single need: checked per need
    vetoed = {ix.cap_pos[c] for ids in ix.cap_vetoes.values() for c in ids if c in ix.cap_pos}
    windowed = (ix.cap_from[cs] != DAY_MIN) | (ix.cap_to[cs] != DAY_MAX)
    if vetoed:
        windowed |= np.isin(cs, np.fromiter(vetoed, dtype=np.int64))
    table = offer_table(
        w, (topic, lang), maturity, (sig.theme_row, sig.lang_row), ix.cap_country[cs], nc
    )
    has_caps = np.zeros(nc, dtype=bool)
    has_caps[ix.cap_country[cs]] = True
    allowed = ix.allowed[ix.need_country[ns]] & has_caps[None, :]
    cap_best = np.full((ns.size, nc), -np.inf)
    cap_offer = np.full((ns.size, nc), -1, dtype=np.int64)
    vectors = text.block(ns, cs, gather=ns.size > FEW_NEEDS)
    exact = _ExactPass(
        ix, vectors, w, ns, cs, (topic, lang, maturity), table, sig, country, windowed
    )
    if top_k is None:
        exact.score(allowed, cap_best, cap_offer)
    else:
        upper = np.where(allowed, (table.bound[table.combo] + country + w.text) / total, -np.inf)
        done = _top_mask(upper, top_k + SEED_EXTRA)
        exact.score(done, cap_best, cap_offer)
        for limit in (0.0, slack) if slack > 0 else (0.0,):
            # the k-th best known score: a lower bound of the k-th, exact after the first round
            kth = _kth_largest(np.maximum(cap_best, best), top_k) - limit
            more = allowed & (upper >= kth[:, None] - EPS) & ~done
            exact.score(more, cap_best, cap_offer)
            done |= more
    # a registered offer wins a tie with the country's fallback
    take = (rank_keys(cap_best) >= rank_keys(best)) & np.isfinite(cap_best)
    return Block(
        needs=ns, best=np.where(take, cap_best, best), offer=np.where(take, cap_offer, offer_of)
    )


@dataclass(frozen=True)
class _ExactPass:
    """Exact scores (text included) of the capacities of the candidate countries of a block:
    the part of :func:`score_block` that compares texts, one country's capacities at a time."""

    ix: Indexes
    text: TextBlock
    w: Weights
    ns: I64
    cs: I64
    offer: tuple[F64, F64, F64]
    """Per capacity column: topic and language tables (by need theme / language row) and
    maturity."""
    table: OfferTable
    sig: Signatures
    country: F64
    windowed: Bool
    """Capacities with an availability window or a veto: checked per need."""

    def score(self, candidate: Bool, best: F64, offer: I64) -> None:
        """Fill ``best`` and ``offer`` (needs × countries) where ``candidate`` holds: a country
        at a time (its capacities against the needs that may rank it) for a block of many
        needs, a need at a time (every capacity of its candidate countries at once) for a few,
        where the per-country steps would cost more than the arithmetic (one need ranked
        alone)."""
        if self.ns.size <= FEW_NEEDS:
            for r in np.flatnonzero(candidate.any(axis=1)).tolist():
                self._score_need(r, np.flatnonzero(candidate[r]), best, offer)
            return
        cs = self.cs
        starts, ends, run_of = self.runs
        for p in np.flatnonzero(candidate.any(axis=0)).tolist():
            # every capacity of country p (a run of columns) against the needs that may rank it
            rows = np.flatnonzero(candidate[:, p])
            lo, hi = int(starts[run_of[p]]), int(ends[run_of[p]])
            score = self._exact(rows, slice(lo, hi), p)
            at = score.argmax(axis=1)  # the first of equal scores: the lowest capacity
            top = score[np.arange(rows.size), at]
            hit = np.isfinite(top)
            best[rows[hit], p] = top[hit]
            offer[rows[hit], p] = cs[lo + at[hit]]

    def _score_need(self, r: int, ps: I64, best: F64, offer: I64) -> None:
        """Need row ``r`` against every capacity of the countries ``ps`` in one product."""
        starts, ends, run_of = self.runs
        lo, hi = starts[run_of[ps]], ends[run_of[ps]]
        cols = _ranges(lo, hi)
        score = self._exact(np.array([r]), cols, None)
        # one run of columns per country: its best capacity, the first of equal scores
        tops, at = run_max(score, np.r_[0, np.cumsum(hi - lo)[:-1]])
        top, at = tops[0], at[0]
        hit = np.isfinite(top)
        best[r, ps[hit]] = top[hit]
        offer[r, ps[hit]] = self.cs[cols[at[hit]]]

    def _row_parts(self, rows: I64, cols: I64 | slice) -> F64:
        """rows × cols: the offer parts of those needs and capacities, as a new array (the
        offer table's columns first, then its rows by need: one gather of each)."""
        kept = self.table.parts
        if kept is not None:
            out: F64 = kept[:, cols].take(self.table.combo[rows], axis=0)
            return out
        topic, lang, maturity = self.offer
        return offer_parts(
            self.w,
            topic[:, cols],
            lang[:, cols],
            maturity[cols],
            self.sig.theme_row[rows],
            self.sig.lang_row[rows],
        )

    def _exact(self, rows: I64, cols: I64 | slice, country: int | None) -> F64:
        """rows × cols: the exact scores, text included, of the block's needs ``rows`` against
        its capacities ``cols`` (all of one country when ``country`` is given), added in the
        order of ``weighted`` so the floats are those of the pairwise computation."""
        ix, w, ns = self.ix, self.w, self.ns
        cs = self.cs[cols]
        score = self._row_parts(rows, cols)  # a new array: add the country part in place
        score += (
            self.country[rows, country][:, None]
            if country is not None
            else self.country[np.ix_(rows, ix.cap_country[cs])]
        )
        shut = np.flatnonzero(self.windowed[cols])
        if shut.size:
            n_at, c_at = ns[rows][:, None], cs[shut][None, :]
            ok = (ix.cap_from[c_at] <= ix.need_to[n_at]) & (ix.cap_to[c_at] >= ix.need_from[n_at])
            if ix.cap_vetoes:
                ok &= ~_in_sorted(n_at * len(ix.caps) + c_at, self.vetoed_pairs)
            score[:, shut] = np.where(ok, score[:, shut], -np.inf)
        text = self.text.grid(rows, cols)
        text *= w.text
        score += text
        score /= w.total
        return score

    @cached_property
    def runs(self) -> tuple[I64, I64, I64]:
        """Where each country's capacities start and end among the block's columns, and each
        country's run (-1: none), worked out once for both passes."""
        starts, owners = country_runs(self.ix.cap_country[self.cs])
        run_of = np.full(len(self.ix.codes), -1, dtype=np.int64)
        run_of[owners] = np.arange(owners.size)
        return starts, np.r_[starts[1:], self.cs.size], run_of

    @cached_property
    def vetoed_pairs(self) -> I64:
        return _vetoed_pairs(self.ix)


FEW_NEEDS = 8
"""Blocks of at most this many needs are scored a need at a time (``_ExactPass.score``)."""


def _ranges(lo: I64, hi: I64) -> I64:
    """The concatenation of ``arange(lo[i], hi[i])`` for every i."""
    lengths = hi - lo
    if not lengths.sum():
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    out: I64 = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
    return out


def _by_group(keys: I64) -> list[tuple[int, I64]]:
    """Each distinct key with the positions that hold it (one sort, not one scan a key)."""
    if not keys.size:
        return []
    order = np.argsort(keys, kind="stable")
    distinct, starts = np.unique(keys[order], return_index=True)
    ends = np.r_[starts[1:], keys.size]
    return [
        (g, order[a:b])
        for g, a, b in zip(distinct.tolist(), starts.tolist(), ends.tolist(), strict=True)
    ]


def _grouped_max(table: F64, groups: list[tuple[int, ...]], keys: I64, cols: I64) -> F64:
    """Per pair: the max over the rows ``groups[keys[i]]`` of ``table[:, cols[i]]`` (0 for an
    empty group), one vector operation per distinct group."""
    out = np.zeros(cols.size)
    for g, at in _by_group(keys):
        rows = groups[g]
        if rows:
            out[at] = table[np.ix_(np.asarray(rows, dtype=np.int64), cols[at])].max(axis=0)
    return out


def _grouped_language(
    table: F64, empty: Bool, groups: list[tuple[int, ...]], keys: I64, cols: I64, floor: float
) -> F64:
    """Per pair: the best language credit (at least ``floor``), 0.5 when unknown."""
    out = np.full(cols.size, F.LANGUAGE_UNKNOWN)
    for g, at in _by_group(keys):
        langs = groups[g]
        if langs:
            out[at] = np.maximum(
                table[np.ix_(np.asarray(langs, dtype=np.int64), cols[at])].max(axis=0), floor
            )
    out[empty[cols]] = F.LANGUAGE_UNKNOWN
    return out


def offer_facts(
    ix: Indexes, w: Weights, ns: I64, offers: I64, ps: I64, sig: Signatures | None = None
) -> dict[str, F64]:
    """The topic, language and region of aligned (need, offer) pairs (``offers``: capacity
    positions, or -1 for the fallback offer of the country in ``ps``): what the near-tie order
    asks of many pairs, a part of :func:`pair_components`."""
    is_cap = offers >= 0
    has_caps = len(ix.caps) > 0
    cs = np.where(is_cap, offers, 0)
    sig = Signatures(ix, ns) if sig is None else sig
    cap_sim = (
        _grouped_max(ix.cap_topic, sig.themes, sig.theme_row, cs) if has_caps else np.zeros(ns.size)
    )
    fb_sim = _grouped_max(ix.fallback_topic, sig.themes, sig.theme_row, ps)
    topic = np.where(is_cap, topic_levels(cap_sim), F.FALLBACK_SHARE * topic_levels(fb_sim))
    fb_lang = _grouped_language(
        ix.fallback_lang, ix.fallback_lang_empty, sig.langs, sig.lang_row, ps, w.interpretation
    )
    if has_caps:
        cap_lang = _grouped_language(
            ix.cap_lang, ix.cap_lang_empty, sig.langs, sig.lang_row, cs, w.interpretation
        )
        lang = np.where(is_cap, cap_lang, fb_lang)
    else:
        lang = fb_lang
    return {"topic": topic, "language": lang, "region": ix.region[ix.need_country[ns], ps]}


def pair_components(
    ix: Indexes, tables: Tables, text: Text, w: Weights, ns: I64, offers: I64, ps: I64
) -> dict[str, F64]:
    """Every factor of aligned (need, offer) pairs: ``offers`` are capacity positions, or -1
    for the fallback offer of the country in ``ps``. The same arithmetic as the block scores."""
    rs = ix.need_country[ns]
    is_cap = offers >= 0
    has_caps = len(ix.caps) > 0
    cs = np.where(is_cap, offers, 0)
    sig = Signatures(ix, ns)
    facts = offer_facts(ix, w, ns, offers, ps, sig)
    topical = _grouped_max(tables.topical, sig.themes, sig.theme_row, ps)
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
    return {
        "topic": facts["topic"],
        "text": txt,
        "experience": exp,
        "relationship": tables.relationship[rs, ps],
        "region": facts["region"],
        "language": facts["language"],
        "maturity": np.where(is_cap, ix.cap_maturity[cs] if has_caps else 0.0, F.FALLBACK_MATURITY),
        "follow_through": ix.follow_through[ps],
    }
