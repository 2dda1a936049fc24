"""The fast engine: a corpus prepared once per ``as_of``, then ranked in blocks of needs.

``PreparedCorpus`` turns the records into arrays indexed by country, theme, language and
capacity (region, relationship and experience matrices, a theme-family inverted index of
capacities, the taxonomy similarity of every theme to every capacity). Needs with the same theme
families share their candidate capacities, so they are ranked together, a block at a time, with
whole-matrix operations (``_top_block``); the text-free part of a capacity's score is shared by
needs with the same themes and languages. The text similarity (the only per-pair string work)
is computed for a short list only: first the best text-free capacity of a few promising
countries, which gives a K-th best score the top K cannot fall below, then the capacities whose
score could still reach it given that text similarity is at most 1. Hub damping needs the
undamped winners first; the texts compared for them are kept for the damped ranking. Reasons are
put together from pieces worked out once per country pair, theme or language set. The result is
the same as scoring every pair (``reference.py``), which the tests check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from rapidfuzz import fuzz, process

from sscmatch.matching import factors as F
from sscmatch.matching.graph import (
    common_neighbours,
    indirect_proximity_matrix,
    projection_from_membership,
)
from sscmatch.matching.model import (
    DEFAULT_WEIGHTS,
    FACTORS,
    CapacityItem,
    Corpus,
    CountryInfo,
    NeedItem,
    Proposal,
    Weights,
)
from sscmatch.matching.reference import RANK_DIGITS, exclusion, reference_date

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

DAY_MIN = -(2**40)
DAY_MAX = 2**40
TIE_MARGIN = 1e-9
BLOCK_CELLS = 2_000_000
"""Needs ranked together: at most this many (need, candidate capacity) cells at once."""
BLOCK_MAX = 512
PART_CACHE = 256
ROUND1_EXTRA = 3
"""Countries beyond K whose best text-free capacity has its text compared first."""


PARALLEL_TEXT_PAIRS = 2_000
"""Text-similarity batches at least this large use every core."""


def _day(d: date | None, default: int) -> int:
    return default if d is None else d.toordinal()


def _round_keys(x: F64) -> F64:
    """``round(v, RANK_DIGITS)`` of every element, exactly as Python's ``round`` does it.

    ``rint(v·10^d) / 10^d`` is what Python gets (the nearest double to the decimal rounded half
    to even) unless ``v·10^d`` lies so close to a half that the rounding of the product may
    cross it; those few, and anything too large for that test, go through ``round``.
    """
    scale = 10.0**RANK_DIGITS
    y = x * scale
    out: F64 = np.rint(y) / scale
    with np.errstate(invalid="ignore"):
        odd = ~(np.abs(y - np.floor(y) - 0.5) > 1e-3) | ~(np.abs(y) < 2.0**50)
    for i in np.flatnonzero(odd).tolist():
        out[i] = round(float(x[i]), RANK_DIGITS)
    return out


def _distinct(x: I64) -> I64:
    """Sorted distinct values (``np.unique`` without its slower hashing path)."""
    y = np.sort(x)
    out: I64 = y[np.r_[True, y[1:] != y[:-1]]] if y.size else y
    return out


def _contains(sorted_distinct: I64, x: I64) -> Bool:
    """Which elements of ``x`` are in ``sorted_distinct``."""
    if sorted_distinct.size == 0:
        return np.zeros(x.size, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_distinct, x), sorted_distinct.size - 1)
    out: Bool = sorted_distinct[at] == x
    return out


def _firsts(groups: I64) -> I64:
    """Positions of the first occurrence of each distinct value of ``groups``, ascending."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    out: I64 = np.sort(order[np.r_[True, g[1:] != g[:-1]]]) if g.size else order
    return out


def _saturate(x: F64) -> F64:
    out: F64 = 1.0 - np.power(0.5, np.maximum(x, 0.0))
    return out


@dataclass
class _Features:
    """Graph features that depend on the experience half-life."""

    sexp: F64  # countries × themes, saturated experience
    rel: F64  # recipient × provider relationship factor


@dataclass
class _Scoring:
    """Weight-dependent arrays and the hub-damping state for one ``Weights``."""

    weights: Weights
    arec: F64  # recipient × provider: (w_region·region + w_rel·rel)/W, -inf when not allowed
    wexp: float
    ftterm: F64
    hterm: F64  # per capacity: w_maturity·maturity/W
    ctax: float
    delta: float
    clang: float
    sexp: F64
    rel: F64
    wins: I64 | None = None
    winner: I64 | None = None
    ranked: int = 0
    base_damping: F64 | None = None
    parts: dict[Any, _CapPart] = field(default_factory=dict)
    memo: list[tuple[I64, F64]] | None = None  # texts compared while finding the winners
    memo_keys: I64 | None = None  # those, as need × capacities + capacity, sorted
    memo_texts: F64 | None = None
    reason_cache: dict[Any, str] = field(default_factory=dict)


@dataclass
class _Candidates:
    caps: I64  # capacity positions, ascending (so grouped by country)
    country: I64
    seg: I64  # start of each country's run
    seg_lens: I64  # length of each country's run
    always: Bool  # capacity has no availability window
    seg_start: I64  # per country: start of its run (0 when it has no candidates)
    seg_len: I64  # per country: length of its run
    tm: F64  # themes × candidates: taxonomy similarity
    lr: F64  # languages × candidates: best language credit
    lang_empty: Bool


@dataclass
class _CapPart:
    value: F64  # per candidate: text-free capacity-dependent score part
    vmax: F64  # per country: max of value (-inf without candidates)
    vopen: F64  # per country: max of value over capacities without a window
    amax: I64  # per country: a candidate (position in ``caps``) with value vmax, else -1
    aopen: I64  # per country: a candidate without a window with value vopen, else -1


@dataclass
class PreparedCorpus:
    """Indexes and graph features of one corpus as seen on ``as_of``; build with ``prepare``."""

    corpus: Corpus
    as_of: date | None
    taxonomy: F.Taxonomy = field(init=False)

    def __post_init__(self) -> None:
        corpus, as_of = self.corpus, self.as_of
        self.taxonomy = F.Taxonomy.of(corpus.themes)
        self.terms = F.TermIndex(corpus.themes)
        self.all_needs = {n.id: n for n in corpus.needs}
        self.all_caps = {c.id: c for c in corpus.capacities}
        self.caps: list[CapacityItem] = sorted(
            (
                c
                for c in corpus.capacities
                if c.status == "published" and F.visible(c.created, as_of)
            ),
            key=lambda c: (c.country, c.id),
        )
        self.needs: list[NeedItem] = sorted(
            (n for n in corpus.needs if n.status == "open" and F.visible(n.created, as_of)),
            key=lambda n: n.id,
        )
        self.exchanges = sorted(  # sorted so that sums do not depend on the input order
            (e for e in corpus.exchanges if as_of is None or e.start < as_of), key=lambda e: e.id
        )
        self.commitments = [c for c in corpus.commitments if F.visible(c.start, as_of)]
        self.reference = reference_date(self.exchanges, as_of)
        self._index_countries()
        self._index_themes()
        self._index_languages()
        self._index_capacities()
        self._index_needs()
        self._index_exchanges()
        self._features: dict[float, _Features] = {}
        self._scorings: dict[Weights, _Scoring] = {}
        self._cand_cache: dict[tuple[int, ...], _Candidates] = {}
        self._need_keys: list[str | None] = [None] * len(self.needs)
        self._cap_keys: list[str | None] = [None] * len(self.caps)
        self._title_parts: dict[str, frozenset[str]] = {}
        self._reason_cache: dict[Any, str] = {}

    # ------------------------------------------------------------------ indexes
    def _index_countries(self) -> None:
        codes = set(self.corpus.countries)
        codes.update(c.country for c in self.caps)
        codes.update(n.country for n in self.needs)
        for e in self.exchanges:
            codes.update(e.providers, e.recipients, e.participants)
        codes.update(c.owner_country for c in self.commitments)
        self.codes = sorted(codes)
        self.cidx = {c: i for i, c in enumerate(self.codes)}
        infos = [self.corpus.countries.get(c) for c in self.codes]
        n = len(self.codes)
        # region_score looks at these fields only: score each distinct profile pair once
        profiles: dict[Any, int] = {}
        reps: list[CountryInfo | None] = []
        pid = np.empty(n, dtype=np.int64)
        for i, info in enumerate(infos):
            key = (
                None
                if info is None
                else (info.intermediate_region, info.subregion, info.region, info.groupings)
            )
            if key not in profiles:
                profiles[key] = len(reps)
                reps.append(info)
            pid[i] = profiles[key]
        table = np.array([[F.region_score(a, b)[0] for b in reps] for a in reps])
        self.reg = table[pid[:, None], pid[None, :]] if n else np.zeros((0, 0))
        self.allowed = ~np.eye(n, dtype=bool)
        self.pair_vetoes: dict[str, set[str]] = {}
        for x, y in self.corpus.vetoes:
            if x in self.cidx and y in self.cidx:
                self.allowed[self.cidx[y], self.cidx[x]] = False
            if x in self.all_caps or y in self.all_needs:
                self.pair_vetoes.setdefault(y, set()).add(x)

    def _index_themes(self) -> None:
        ids = set(self.corpus.themes)
        for group in (self.caps, self.needs, self.exchanges):
            ids.update(*[rec.themes for rec in group])
        self.theme_ids = sorted(ids)
        self.tidx = {t: i for i, t in enumerate(self.theme_ids)}
        tx = self.taxonomy
        n = len(self.theme_ids)
        self.sim = np.zeros((n, n))
        for i, a in enumerate(self.theme_ids):
            for j, b in enumerate(self.theme_ids):
                self.sim[i, j] = tx.similarity(a, b)
        root_ids = sorted({tx.root(t) for t in self.theme_ids})
        self.root_ids = root_ids
        ridx = {r: i for i, r in enumerate(root_ids)}
        self.theme_root = np.array([ridx[tx.root(t)] for t in self.theme_ids], dtype=np.int64)

    def _index_languages(self) -> None:
        langs: set[str] = set()
        for info in self.corpus.countries.values():
            langs.update(info.languages)
        for cap in self.caps:
            langs.update(cap.languages)
        for need in self.needs:
            langs.update(need.languages)
        for a, b in self.corpus.intelligibility:
            langs.update((a, b))
        self.lang_ids = sorted(langs)
        self.lidx = {x: i for i, x in enumerate(self.lang_ids)}
        n = len(self.lang_ids)
        self.lraw = np.eye(n)
        for (a, b), v in self.corpus.intelligibility.items():
            i, j = self.lidx[a], self.lidx[b]
            if i != j:
                val = min(1.0, float(v))
                self.lraw[i, j] = max(self.lraw[i, j], val)
                self.lraw[j, i] = max(self.lraw[j, i], val)

    def _country_langs(self, langs: tuple[str, ...], country: str) -> tuple[str, ...]:
        if langs:
            return tuple(dict.fromkeys(langs))
        info = self.corpus.countries.get(country)
        return tuple(dict.fromkeys(info.languages)) if info else ()

    def _index_capacities(self) -> None:
        caps = self.caps
        self.cap_pos = {c.id: i for i, c in enumerate(caps)}
        self.cap_country = np.array([self.cidx[c.country] for c in caps], dtype=np.int64)
        self.cap_mat = np.array([F.maturity_score(c.maturity) for c in caps])
        self.cap_from = np.array([_day(c.available_from, DAY_MIN) for c in caps], dtype=np.int64)
        self.cap_to = np.array([_day(c.available_to, DAY_MAX) for c in caps], dtype=np.int64)
        self.cap_langs = [self._country_langs(c.languages, c.country) for c in caps]
        # taxonomy similarity of every theme to every capacity, through theme-set signatures
        sigs: dict[tuple[int, ...], int] = {}
        cap_sig = np.empty(len(caps), dtype=np.int64)
        fam: dict[int, list[int]] = {}
        for i, c in enumerate(caps):
            key = tuple(sorted({self.tidx[t] for t in c.themes}))
            cap_sig[i] = sigs.setdefault(key, len(sigs))
            for r in {int(self.theme_root[t]) for t in key}:
                fam.setdefault(r, []).append(i)
        tm_sig = np.zeros((len(self.theme_ids), len(sigs)))
        for key, s in sigs.items():
            if key:
                tm_sig[:, s] = self.sim[:, list(key)].max(axis=1)
        self.tm = np.ascontiguousarray(tm_sig[:, cap_sig])
        self.family_caps = {r: np.asarray(v, dtype=np.int64) for r, v in fam.items()}
        lsigs: dict[tuple[int, ...], int] = {}
        cap_lsig = np.empty(len(caps), dtype=np.int64)
        for i, langs in enumerate(self.cap_langs):
            key = tuple(sorted({self.lidx[x] for x in langs}))
            cap_lsig[i] = lsigs.setdefault(key, len(lsigs))
        lr_sig = np.zeros((len(self.lang_ids), len(lsigs)))
        empty_sig = np.zeros(len(lsigs), dtype=bool)
        for key, s in lsigs.items():
            if key:
                lr_sig[:, s] = self.lraw[:, list(key)].max(axis=1)
            else:
                empty_sig[s] = True
        self.lr = np.ascontiguousarray(lr_sig[:, cap_lsig])
        self.cap_lang_empty = empty_sig[cap_lsig]

    def _index_needs(self) -> None:
        needs = self.needs
        self.need_pos = {n.id: i for i, n in enumerate(needs)}
        self.need_country = np.array([self.cidx[n.country] for n in needs], dtype=np.int64)
        self.need_themes = [tuple(dict.fromkeys(self.tidx[t] for t in n.themes)) for n in needs]
        self.need_roots = [
            tuple(sorted({int(self.theme_root[t]) for t in ts})) for ts in self.need_themes
        ]
        self.need_lang_codes = [self._country_langs(n.languages, n.country) for n in needs]
        self.need_langs = [tuple(self.lidx[x] for x in ls) for ls in self.need_lang_codes]
        self.need_from = np.array([_day(n.desired_from, DAY_MIN) for n in needs], dtype=np.int64)
        self.need_to = np.array([_day(n.desired_to, DAY_MAX) for n in needs], dtype=np.int64)

    def _index_exchanges(self) -> None:
        nc, ne = len(self.codes), len(self.exchanges)
        cidx, tidx = self.cidx, self.tidx
        exchanges = self.exchanges

        def pairs(field_: str) -> I64:
            """(exchange, country) pairs of one role, as exchange × countries + country,
            sorted and distinct."""
            groups = [getattr(e, field_) for e in exchanges]
            lens = np.fromiter((len(g) for g in groups), dtype=np.int64, count=ne)
            flat = np.fromiter((cidx[c] for g in groups for c in g), dtype=np.int64)
            return _distinct(np.repeat(np.arange(ne, dtype=np.int64), lens) * nc + flat)

        prov_k = pairs("providers")
        rec_k = pairs("recipients")
        part_k = pairs("participants")
        part_k = part_k[~_contains(prov_k, part_k)]
        mem_k = _distinct(np.concatenate([prov_k, rec_k, part_k]))
        role_v = np.where(
            _contains(prov_k, mem_k),
            F.PROVIDER_ROLE,
            np.where(_contains(part_k, mem_k), F.PARTICIPANT_ROLE, 0.0),
        )
        sigs: dict[tuple[int, ...], int] = {}
        by_themes: dict[tuple[str, ...], int] = {}

        def sig_of(themes: tuple[str, ...]) -> int:
            got = by_themes.get(themes)
            if got is None:
                key = tuple(sorted({tidx[t] for t in themes}))
                got = by_themes[themes] = sigs.setdefault(key, len(sigs))
            return got

        ex_sig = np.fromiter((sig_of(e.themes) for e in exchanges), dtype=np.int64, count=ne)

        def mat(keys: I64, v: F64 | None = None) -> Any:
            data = np.ones(keys.size) if v is None else v
            return sp.csr_matrix((data, (keys % max(nc, 1), keys // max(nc, 1))), shape=(nc, ne))

        self.m_prov = mat(prov_k)
        self.m_rec = mat(rec_k)
        self.m_mem = mat(mem_k)
        self.m_role = mat(mem_k, role_v)
        self.m_role.eliminate_zeros()
        m_part = mat(part_k)
        self.ex_day = np.array([e.start.toordinal() for e in self.exchanges], dtype=np.int64)
        ex_year = np.array([e.start.year for e in self.exchanges], dtype=np.int64)
        nt, ns = len(self.theme_ids), len(sigs)
        self.ex_sig_onehot = sp.csr_matrix(
            (np.ones(ne), (np.arange(ne), ex_sig)), shape=(ne, max(ns, 1))
        )
        self.x_sig = np.zeros((max(ns, 1), nt))
        y_sig = np.zeros((max(ns, 1), nt))
        for key, s in sigs.items():
            if key:
                self.x_sig[s] = self.sim[list(key)].max(axis=0)
                y_sig[s, list(key)] = 1.0
        y = sp.csr_matrix(self.ex_sig_onehot @ sp.csr_matrix(y_sig))
        self.n_co = np.asarray((self.m_mem @ self.m_mem.T).toarray())  # symmetric
        self.n_dir = np.asarray((self.m_prov @ self.m_rec.T).toarray())  # provider × recipient
        adj = projection_from_membership(self.m_mem)
        self.adj = adj.toarray() > 0
        self.indirect = indirect_proximity_matrix(adj)
        self.n_common = common_neighbours(adj).toarray()
        self.prov_count = np.asarray((self.m_prov @ y).toarray())
        self.part_count = np.asarray((m_part @ y).toarray())
        self.prov_first = np.full((nc, nt), 10**6, dtype=np.int64)
        self.prov_last = np.zeros((nc, nt), dtype=np.int64)
        pc = self.m_prov.tocoo()
        y = y.tocsr()
        counts = np.diff(y.indptr)[pc.col]
        if counts.sum():
            p_rep = np.repeat(pc.row, counts)
            e_rep = np.repeat(pc.col, counts)
            starts = np.repeat(y.indptr[pc.col] - np.cumsum(counts) + counts, counts)
            t_rep = y.indices[starts + np.arange(int(counts.sum()))]
            flat = p_rep * nt + t_rep
            np.minimum.at(self.prov_first.reshape(-1), flat, ex_year[e_rep])
            np.maximum.at(self.prov_last.reshape(-1), flat, ex_year[e_rep])
        nr = len(self.root_ids)
        troot = sp.csr_matrix((np.ones(nt), (np.arange(nt), self.theme_root)), shape=(nt, nr))
        yroot = sp.csr_matrix(y @ troot)
        yroot.data[:] = 1.0
        self.fam_count = np.asarray((self.m_prov @ yroot).toarray())
        self.fam_last = np.zeros((nc, nr), dtype=np.int64)
        yrc = yroot.tocsr()
        counts = np.diff(yrc.indptr)[pc.col]
        if counts.sum():
            p_rep = np.repeat(pc.row, counts)
            e_rep = np.repeat(pc.col, counts)
            starts = np.repeat(yrc.indptr[pc.col] - np.cumsum(counts) + counts, counts)
            r_rep = yrc.indices[starts + np.arange(int(counts.sum()))]
            np.maximum.at(self.fam_last.reshape(-1), p_rep * nr + r_rep, ex_year[e_rep])
        fulfilled = np.zeros(nc)
        decided = np.zeros(nc)
        for k in self.commitments:
            i = self.cidx[k.owner_country]
            if k.status == "fulfilled":
                fulfilled[i] += 1
                decided[i] += 1
            elif k.status == "dropped":
                decided[i] += 1
        self.fulfilled, self.decided = fulfilled, decided
        self.ft = np.array(
            [
                F.follow_through_score(int(a), int(b))
                for a, b in zip(fulfilled, decided, strict=True)
            ]
        )

    # ------------------------------------------------------------------ weight-dependent state
    def features(self, half_life: float) -> _Features:
        got = self._features.get(half_life)
        if got is not None:
            return got
        age = np.maximum(0, self.reference.toordinal() - self.ex_day) / 365.25
        dec = np.power(0.5, age / half_life)
        ddiag = sp.diags(dec)
        co = (self.m_mem @ ddiag @ self.m_mem.T).toarray()
        directed = (self.m_prov @ ddiag @ self.m_rec.T).toarray()  # provider × recipient
        d = F.SHARED_TIE * co + (F.DIRECTED_TIE - F.SHARED_TIE) * directed.T
        rel = 1.0 - (1.0 - _saturate(d)) * (1.0 - F.INDIRECT_SHARE * self.indirect)
        rg = (self.m_role @ ddiag @ self.ex_sig_onehot).toarray()
        sexp = _saturate(rg @ self.x_sig)
        got = _Features(sexp=np.ascontiguousarray(sexp.T), rel=rel)  # sexp: themes × countries
        self._features[half_life] = got
        return got

    def scoring(self, weights: Weights) -> _Scoring:
        got = self._scorings.get(weights)
        if got is not None:
            return got
        feats = self.features(weights.experience_half_life)
        total = weights.total
        arec = (weights.region * self.reg + weights.relationship * feats.rel) / total
        arec = np.where(self.allowed, arec, -np.inf)
        share = weights.theme_text_share
        got = _Scoring(
            weights=weights,
            arec=arec,
            wexp=weights.experience / total,
            ftterm=weights.follow_through * self.ft / total,
            hterm=weights.maturity * self.cap_mat / total,
            ctax=weights.theme * (1.0 - share) / total,
            delta=weights.theme * share / total,
            clang=weights.language / total,
            sexp=feats.sexp,
            rel=feats.rel,
        )
        self._scorings[weights] = got
        return got

    # ------------------------------------------------------------------ per-need pieces
    def _candidates(self, roots: tuple[int, ...]) -> _Candidates:
        got = self._cand_cache.get(roots)
        if got is not None:
            return got
        parts = [self.family_caps[r] for r in roots if r in self.family_caps]
        caps = (
            _distinct(np.concatenate(parts))
            if len(parts) > 1
            else (parts[0] if parts else np.zeros(0, dtype=np.int64))
        )
        country = self.cap_country[caps]
        seg = np.flatnonzero(np.r_[True, country[1:] != country[:-1]]) if caps.size else caps
        seg_start = np.zeros(len(self.codes), dtype=np.int64)
        seg_len = np.zeros(len(self.codes), dtype=np.int64)
        if caps.size:
            seg_start[country[seg]] = seg
            seg_len[country[seg]] = np.diff(np.r_[seg, caps.size])
        got = _Candidates(
            caps=caps,
            country=country,
            seg=seg.astype(np.int64),
            seg_lens=np.diff(np.r_[seg, caps.size]).astype(np.int64),
            always=(self.cap_from[caps] == DAY_MIN) & (self.cap_to[caps] == DAY_MAX),
            seg_start=seg_start,
            seg_len=seg_len,
            tm=np.ascontiguousarray(self.tm[:, caps]),
            lr=np.ascontiguousarray(self.lr[:, caps]),
            lang_empty=self.cap_lang_empty[caps],
        )
        self._cand_cache[roots] = got
        return got

    def _cap_part(self, st: _Scoring, n: int, cand: _Candidates) -> _CapPart:
        """The capacity-dependent, text-free part of the score over the need's candidates (the
        same for every need with these themes and languages), with per-country maxima."""
        key = (self.need_roots[n], self.need_themes[n], self.need_langs[n])
        got = st.parts.get(key)
        if got is not None:
            return got
        caps = cand.caps
        themes = list(self.need_themes[n])
        tax = cand.tm[themes[0]] if len(themes) == 1 else cand.tm[themes].mean(0)
        langs = list(self.need_langs[n])
        floor = st.weights.interpretation
        if langs:
            lr = cand.lr[langs[0]] if len(langs) == 1 else cand.lr[langs].max(0)
            lang = np.maximum(lr, floor)
            lang[cand.lang_empty] = F.LANGUAGE_UNKNOWN
        else:
            lang = np.full(caps.size, F.LANGUAGE_UNKNOWN)
        value: F64 = st.hterm[caps] + st.ctax * tax + st.clang * lang
        always = np.where(cand.always, value, -np.inf)
        vmax, amax = self._segment_max(cand, value)
        vopen, aopen = self._segment_max(cand, always)
        got = _CapPart(value=value, vmax=vmax, vopen=vopen, amax=amax, aopen=aopen)
        if len(st.parts) >= PART_CACHE:
            st.parts.clear()
        st.parts[key] = got
        return got

    def _segment_max(self, cand: _Candidates, value: F64) -> tuple[F64, I64]:
        """Per country: the max of ``value`` over its candidates (-inf when none) and the first
        candidate where it is reached (-1 when the max is not finite)."""
        nc = len(self.codes)
        seg_max = np.maximum.reduceat(value, cand.seg)
        hits = np.flatnonzero(value == np.repeat(seg_max, cand.seg_lens))
        arg = hits[np.searchsorted(hits, cand.seg)]
        countries = cand.country[cand.seg]
        vmax = np.full(nc, -np.inf)
        vmax[countries] = seg_max
        amax = np.full(nc, -1, dtype=np.int64)
        amax[countries] = np.where(np.isfinite(seg_max), arg, -1)
        return vmax, amax

    def _country_parts(self, st: _Scoring, ns: I64) -> F64:
        """Per need (row) and provider country: the text- and capacity-free part of the score
        (region, relationship, experience, follow-through), -inf where the pair is not allowed."""
        themes = [self.need_themes[n] for n in ns.tolist()]
        if all(len(t) == 1 for t in themes):
            exp = st.sexp[[t[0] for t in themes]]
        else:
            flat = [t for ts in themes for t in ts]
            starts = np.cumsum([0] + [len(t) for t in themes[:-1]])
            exp = np.maximum.reduceat(st.sexp[flat], starts, axis=0)
        out: F64 = st.arec[self.need_country[ns]] + st.wexp * exp + st.ftterm
        return out

    def _damping_rows(self, st: _Scoring, ns: I64) -> F64:
        """Per need (row) and provider country: the hub-damping multiplier (the need's own
        rank-1 winner does not count its win on this need)."""
        self._ensure_winners(st)
        assert st.base_damping is not None and st.winner is not None and st.wins is not None
        d = np.tile(st.base_damping, (ns.size, 1))
        for row, n in enumerate(ns.tolist()):
            w = int(st.winner[n])
            if w >= 0:
                d[row, w] = 1.0 / (1.0 + st.weights.hub_damping * (st.wins[w] - 1) / st.ranked)
        return d

    def need_key(self, n: int) -> str:
        key = self._need_keys[n]
        if key is None:
            need = self.needs[n]
            key = self._need_keys[n] = self._text_key(need.title, need.description)
        return key

    def cap_key(self, c: int) -> str:
        key = self._cap_keys[c]
        if key is None:
            cap = self.caps[c]
            key = self._cap_keys[c] = self._text_key(cap.title, cap.description)
        return key

    def _text_key(self, title: str, description: str) -> str:
        """``factors.text_key``, with the parts of titles (often repeated) remembered."""
        parts = self._title_parts.get(title)
        if parts is None:
            parts = self._title_parts[title] = F.text_parts(title, self.terms)
        return " ".join(sorted(parts | F.text_parts(description, self.terms)))

    def _texts(self, n: int, caps: I64) -> F64:
        return self._pair_texts(np.full(caps.size, n, dtype=np.int64), caps)

    def _memo_texts(self, st: _Scoring, ns: I64, caps: I64) -> F64:
        """``_pair_texts``, reusing (and, while the winners are found, keeping) texts already
        compared."""
        keys = ns * len(self.caps) + caps
        if st.memo is not None:
            out = self._pair_texts(ns, caps)
            st.memo.append((keys, out))
            return out
        if st.memo_keys is None or st.memo_keys.size == 0 or st.memo_texts is None:
            return self._pair_texts(ns, caps)
        at = np.minimum(np.searchsorted(st.memo_keys, keys), st.memo_keys.size - 1)
        found = st.memo_keys[at] == keys
        out = np.where(found, st.memo_texts[at], 0.0)
        new = np.flatnonzero(~found)
        out[new] = self._pair_texts(ns[new], caps[new])
        return out

    def _pair_texts(self, ns: I64, caps: I64) -> F64:
        """Text similarity of each (need, capacity) pair."""
        if caps.size == 0:
            return np.zeros(0)
        nkeys, ckeys = self._need_keys, self._cap_keys
        queries = [nkeys[n] or self.need_key(n) for n in ns.tolist()]
        choices = [ckeys[c] or self.cap_key(c) for c in caps.tolist()]
        # Large batches are scored on every core (rapidfuzz gives identical numbers either way).
        workers = -1 if len(queries) >= PARALLEL_TEXT_PAIRS else 1
        sims = process.cpdist(
            queries, choices, scorer=fuzz.ratio, dtype=np.float64, workers=workers
        )
        out: F64 = np.asarray(sims, dtype=np.float64) / 100.0
        out[[not q or not c for q, c in zip(queries, choices, strict=True)]] = 0.0
        return out

    def _ensure_winners(self, st: _Scoring) -> None:
        if st.winner is not None:
            return
        winner = np.full(len(self.needs), -1, dtype=np.int64)
        st.memo = []
        tops = self._top(st, range(len(self.needs)), 1, damped=False)
        keys = np.concatenate([x[0] for x in st.memo] + [np.zeros(0, dtype=np.int64)])
        texts = np.concatenate([x[1] for x in st.memo] + [np.zeros(0)])
        order = np.argsort(keys, kind="stable")
        st.memo, st.memo_keys, st.memo_texts = None, keys[order], texts[order]
        for n, top in tops.items():
            if top:
                winner[n] = self.cap_country[top[0][0]]
        wins = np.bincount(winner[winner >= 0], minlength=len(self.codes)).astype(np.int64)
        st.winner, st.wins = winner, wins
        st.ranked = max(1, int((winner >= 0).sum()))
        st.base_damping = 1.0 / (1.0 + st.weights.hub_damping * wins / st.ranked)

    def _batch_order(self, ns: Iterable[int]) -> list[int]:
        return sorted(
            ns, key=lambda n: (self.need_roots[n], self.need_themes[n], self.need_langs[n], n)
        )

    def _top(
        self, st: _Scoring, ns: Iterable[int], k: int, damped: bool
    ) -> dict[int, list[tuple[int, float, float]]]:
        """Top ``k`` (capacity, final score, text similarity) of each need, one per provider
        country, best first; hub-damped when ``damped``.

        Needs are taken in blocks that share their theme families (so their candidates), and
        each block is worked on with whole-matrix operations (``_top_block``).
        """
        order = self._batch_order(ns)
        out: dict[int, list[tuple[int, float, float]]] = {}
        i = 0
        while i < len(order):
            roots = self.need_roots[order[i]]
            cand = self._candidates(roots)
            limit = max(1, min(BLOCK_MAX, BLOCK_CELLS // max(1, cand.caps.size)))
            j = i + 1
            while j < len(order) and j - i < limit and self.need_roots[order[j]] == roots:
                j += 1
            block = np.asarray(order[i:j], dtype=np.int64)
            if cand.caps.size == 0:
                out.update((n, []) for n in block.tolist())
            else:
                out.update(self._top_block(st, block, cand, k, damped))
            i = j
        return out

    def _top_block(
        self, st: _Scoring, ns: I64, cand: _Candidates, k: int, damped: bool
    ) -> dict[int, list[tuple[int, float, float]]]:
        """``_top`` for needs (rows) with the same candidates.

        A capacity's score is a text-free part plus ``delta`` times its text similarity (in
        [0, 1]), times the damping. Round 1 compares texts for the best text-free capacity of
        each of the few most promising countries: actual scores of distinct countries, whose
        K-th best the top K cannot fall below. Round 2 compares texts for every capacity whose
        score could still reach that with a perfect text similarity (its upper bound), and the
        top K is picked among them. Capacities left out are worse than K other countries'
        best, so the outcome is the exact top K of all eligible capacities.
        """
        rows_n, nc = ns.size, len(self.codes)
        sig_rows: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
        parts: list[_CapPart] = []
        sig = np.empty(rows_n, dtype=np.int64)
        for row, n in enumerate(ns.tolist()):
            key = (self.need_themes[n], self.need_langs[n])
            s = sig_rows.get(key)
            if s is None:
                s = sig_rows[key] = len(parts)
                parts.append(self._cap_part(st, n, cand))
            sig[row] = s
        values = np.stack([p.value for p in parts])
        vmax = np.stack([p.vmax for p in parts])[sig]
        a = self._country_parts(st, ns)
        dmat = self._damping_rows(st, ns) if damped and st.weights.hub_damping > 0 else None
        nfrom, nto = self.need_from[ns], self.need_to[ns]
        windowed = (nfrom != DAY_MIN) | (nto != DAY_MAX)
        vetoes = [self.pair_vetoes.get(self.needs[n].id) for n in ns.tolist()]
        vetoed = np.array([bool(v) for v in vetoes], dtype=bool)
        # the K-th best text-free score of a country, a first threshold (with a window or
        # vetoes, only capacities that are always available count)
        limited = (windowed | vetoed)[:, None]
        reach = np.where(limited, np.stack([p.vopen for p in parts])[sig], vmax)
        pick = np.where(
            limited, np.stack([p.aopen for p in parts])[sig], np.stack([p.amax for p in parts])[sig]
        )
        lower = a + reach if dmat is None else dmat * (a + reach)
        if nc >= k:
            kth = np.partition(lower, nc - k, axis=1)[:, nc - k]
        else:
            kth = np.full(rows_n, -np.inf)
        threshold = np.where(vetoed, -np.inf, kth) - TIE_MARGIN
        # round 1: the best text-free capacity of the most promising countries
        m = min(nc, k + ROUND1_EXTRA)
        best_countries = np.argpartition(-lower, m - 1, axis=1)[:, :m]
        r1 = np.repeat(np.arange(rows_n), m)
        c1 = best_countries.reshape(-1)
        ok1 = np.isfinite(lower[r1, c1]) & ~vetoed[r1] & (pick[r1, c1] >= 0)
        r1, c1 = r1[ok1], c1[ok1]
        col1 = pick[r1, c1]
        t1 = self._memo_texts(st, ns[r1], cand.caps[col1])
        f1 = a[r1, c1] + values[sig[r1], col1] + st.delta * t1
        if dmat is not None:
            f1 = f1 * dmat[r1, c1]
        o = np.lexsort((-f1, r1))
        r1s = r1[o]
        rank1 = np.arange(r1s.size) - np.searchsorted(r1s, r1s, side="left")
        bound = np.full(rows_n, -np.inf)
        bound[r1s[rank1 == k - 1]] = f1[o][rank1 == k - 1]
        bound = np.maximum(bound - TIE_MARGIN, threshold)
        # round 2: the short list, among the countries still in the race
        with np.errstate(invalid="ignore"):
            theta = (bound[:, None] if dmat is None else bound[:, None] / dmat) - a
            theta -= st.delta
        theta[~np.isfinite(a)] = np.inf
        lrow, lcountry = np.nonzero(theta <= vmax)
        lens = cand.seg_len[lcountry]
        total = int(lens.sum())
        rows = np.repeat(lrow, lens)
        cols = np.arange(total) + np.repeat(
            cand.seg_start[lcountry] - (np.cumsum(lens) - lens), lens
        )
        countries = cand.country[cols]
        keep = values[sig[rows], cols] >= theta[rows, countries]
        rows, cols, countries = rows[keep], cols[keep], countries[keep]
        caps = cand.caps[cols]
        ok = (self.cap_from[caps] <= nto[rows]) & (self.cap_to[caps] >= nfrom[rows])
        for row in np.flatnonzero(vetoed).tolist():
            bad = [self.cap_pos[c] for c in vetoes[row] or () if c in self.cap_pos]
            if bad:
                here = rows == row
                ok[here] &= ~np.isin(caps[here], bad)
        rows, cols, caps, countries = rows[ok], cols[ok], caps[ok], countries[ok]
        out: dict[int, list[tuple[int, float, float]]] = {n: [] for n in ns.tolist()}
        if rows.size == 0:
            return out
        # texts: those of round 1 again, the others compared now
        known = np.full((rows_n, nc), -1, dtype=np.int64)
        known_text = np.zeros((rows_n, nc))
        known[r1, c1] = col1
        known_text[r1, c1] = t1
        again = known[rows, countries] == cols
        text = np.where(again, known_text[rows, countries], 0.0)
        new = np.flatnonzero(~again)
        text[new] = self._memo_texts(st, ns[rows[new]], caps[new])
        final = a[rows, countries] + values[sig[rows], cols] + st.delta * text
        if dmat is not None:
            final = final * dmat[rows, countries]
        at = np.flatnonzero(final >= bound[rows])
        # the top K: best (rounded) score first, then capacity; one capacity per country
        best = np.lexsort((caps[at], -_round_keys(final[at]), rows[at]))
        at = at[best]
        at = at[_firsts(rows[at] * nc + countries[at])]
        r = rows[at]
        rank0 = np.arange(r.size) - np.searchsorted(r, r, side="left")
        for j in at[rank0 < k].tolist():
            out[int(ns[rows[j]])].append((int(caps[j]), float(final[j]), float(text[j])))
        return out

    # ------------------------------------------------------------------ components and reasons
    def components(self, st: _Scoring, n: int, c: int, text: float) -> dict[str, float]:
        r, p = int(self.need_country[n]), int(self.cap_country[c])
        themes = self.need_themes[n]
        tm, sexp = self.tm, st.sexp
        tax = sum(tm[t, c].item() for t in themes) / len(themes)
        share = st.weights.theme_text_share
        langs = self.need_langs[n]
        if not langs or self.cap_lang_empty[c]:
            lang = F.LANGUAGE_UNKNOWN
        else:
            lang = max(max(self.lr[x, c].item() for x in langs), st.weights.interpretation)
        return {
            "theme": (1.0 - share) * tax + share * text,
            "language": lang,
            "region": self.reg[r, p].item(),
            "experience": max(sexp[t, p].item() for t in themes),
            "relationship": float(st.rel[r, p]),
            "maturity": float(self.cap_mat[c]),
            "follow_through": float(self.ft[p]),
        }

    def _name(self, i: int) -> str:
        code = self.codes[i]
        info = self.corpus.countries.get(code)
        return info.label if info else code

    def _theme_label(self, t: int) -> str:
        tid = self.theme_ids[t]
        info = self.corpus.themes.get(tid)
        return (info.label if info and info.label else tid.replace("-", " ")).lower()

    def _root_label(self, r: int) -> str:
        rid = self.root_ids[r]
        info = self.corpus.themes.get(rid)
        return (info.label if info and info.label else rid.replace("-", " ")).lower()

    def _reasons_many(
        self,
        st: _Scoring,
        rows: list[tuple[int, int, int, float]],
        comps: dict[str, F64],
        damping: list[float],
    ) -> list[tuple[str, ...]]:
        """Readable reasons of many proposals ((need, rank, capacity, text) rows), the factors
        by decreasing contribution. Pieces that depend on the pair only through its countries,
        themes or languages are worked out once."""
        w = st.weights
        shown = [k for k in FACTORS if w.factor(k) > 0]
        # the order of the factors of every proposal: by -w·c, ties in FACTORS order
        keys = np.stack([-w.factor(k) * comps[k] for k in shown], axis=1)
        orders = np.argsort(keys, axis=1, kind="stable").tolist()
        mine, shared = st.reason_cache, self._reason_cache
        nc = len(self.codes)
        with_text = w.theme_text_share > 0
        out: list[tuple[str, ...]] = []
        for (n, _rank, c, text), d, order in zip(rows, damping, orders, strict=True):
            cap = self.caps[c]
            r, p = int(self.need_country[n]), int(self.cap_country[c])
            texts: dict[str, str] = {}
            key: Any = ("theme", self.need_themes[n], cap.themes)
            got = shared.get(key)
            if got is None:
                got = shared[key] = self._theme_reason(n, c)
            if with_text and text >= 0.5:
                got += f"; texts {round(100 * text)}% alike"
            texts["theme"] = got
            themes = self.need_themes[n]
            t = themes[0] if len(themes) == 1 else self._experience_theme(st, themes, p)
            key = ("experience", t, p)
            got = mine.get(key)
            if got is None:
                got = mine[key] = self._experience_reason(t, p)
            texts["experience"] = got
            key = ("language", self.need_lang_codes[n], self.cap_langs[c])
            got = mine.get(key)
            if got is None:
                got = mine[key] = F.language_reason(
                    self.need_lang_codes[n],
                    self.cap_langs[c],
                    self.corpus.intelligibility,
                    w.interpretation,
                    self.corpus.language_names,
                )
            texts["language"] = got
            pair = r * nc + p
            got = shared.get(pair)
            if got is None:
                got = shared[pair] = self._region_reason(r, p)
                shared[-1 - pair] = self._relationship_reason(r, p)
            texts["region"] = got
            texts["relationship"] = shared[-1 - pair]
            texts["maturity"] = (
                f"{cap.maturity} programme" if cap.maturity else "maturity not stated (neutral)"
            )
            key = ("follow_through", p)
            got = shared.get(key)
            if got is None:
                got = shared[key] = self._follow_through_reason(p)
            texts["follow_through"] = got
            reasons = [texts[shown[j]] for j in order]
            if d < 1.0 and st.wins is not None:
                won = st.winner is not None and int(st.winner[n]) == p
                key = ("damped", p, won)
                got = mine.get(key)
                if got is None:
                    others = int(st.wins[p]) - (1 if won else 0)
                    got = mine[key] = (
                        f"score damped {round(100 * (1 - d))}% because {self._name(p)} already "
                        f"leads {others} other need{'s' if others != 1 else ''}"
                    )
                reasons.append(got)
            out.append(tuple(reasons))
        return out

    def _theme_reason(self, n: int, c: int) -> str:
        cap_t = [self.tidx[t] for t in dict.fromkeys(self.caps[c].themes)]
        best = max(
            ((float(self.sim[a, b]), a, b) for a in self.need_themes[n] for b in cap_t),
            key=lambda x: (x[0], -x[1], -x[2]),
            default=(0.0, -1, -1),
        )
        if best[1] < 0:
            return ""
        rel = self.taxonomy.relation(self.theme_ids[best[1]], self.theme_ids[best[2]])
        if best[0] >= F.SAME_THEME:
            return f"offers {self._theme_label(best[2])} ({rel})"
        return f"offers {self._theme_label(best[2])}, {rel} of {self._theme_label(best[1])}"

    def _experience_theme(self, st: _Scoring, themes: tuple[int, ...], p: int) -> int:
        """The need theme the provider is most experienced in (the first of equals)."""
        return max(themes, key=lambda x: (st.sexp[x, p].item(), -x))

    def _experience_reason(self, t: int, p: int) -> str:
        pn = self._name(p)
        count = int(self.prov_count[p, t])
        root = int(self.theme_root[t])
        if count:
            return (
                f"{pn} has provided {self._theme_label(t)} in {count} "
                f"exchange{'s' if count > 1 else ''} since {int(self.prov_first[p, t])}"
            )
        if self.fam_count[p, root]:
            fc = int(self.fam_count[p, root])
            return (
                f"{pn} has provided {fc} exchange{'s' if fc > 1 else ''} on "
                f"{self._root_label(root)} (latest {int(self.fam_last[p, root])})"
            )
        if self.part_count[p, t]:
            return (
                f"{pn} took part in {int(self.part_count[p, t])} exchange(s) on "
                f"{self._theme_label(t)}"
            )
        return f"no recorded exchanges of {pn} on {self._theme_label(t)}"

    def _region_reason(self, r: int, p: int) -> str:
        countries = self.corpus.countries
        return F.region_score(countries.get(self.codes[r]), countries.get(self.codes[p]))[1]

    def _relationship_reason(self, r: int, p: int) -> str:
        pn, rn = self._name(p), self._name(r)
        nd, nco, ncn = int(self.n_dir[p, r]), int(self.n_co[p, r]), int(self.n_common[p, r])
        if nd:
            text = f"{pn} has helped {rn} before ({nd} exchange{'s' if nd > 1 else ''})"
        elif nco:
            text = f"{pn} and {rn} took part in {nco} exchange{'s' if nco > 1 else ''} together"
        else:
            text = f"no past exchanges between {pn} and {rn}"
        if ncn:
            shared = np.flatnonzero(self.adj[p] & self.adj[r])[:3]
            names = ", ".join(self._name(int(i)) for i in shared)
            text += f"; {ncn} shared partner{'s' if ncn > 1 else ''} ({names}"
            text += ", …)" if ncn > 3 else ")"
        return text

    def _follow_through_reason(self, p: int) -> str:
        pn = self._name(p)
        dec, ful = int(self.decided[p]), int(self.fulfilled[p])
        return (
            f"{pn} fulfilled {ful} of {dec} decided commitment{'s' if dec > 1 else ''}"
            if dec
            else f"no decided commitments of {pn} yet (neutral prior 0.5)"
        )

    def _components_many(self, st: _Scoring, ns: I64, cs: I64, texts: F64) -> dict[str, F64]:
        """``components`` of many (need, capacity, text) at once, with the same arithmetic
        (so the same floats)."""
        rs, ps = self.need_country[ns], self.cap_country[cs]
        themes = [self.need_themes[n] for n in ns.tolist()]
        langs = [self.need_langs[n] for n in ns.tolist()]
        counts = np.array([len(t) for t in themes], dtype=np.int64)
        tax = np.zeros(ns.size)
        exp = np.zeros(ns.size)
        for j in range(int(counts.max(initial=0))):
            has = counts > j
            tj = np.array([t[j] if len(t) > j else 0 for t in themes], dtype=np.int64)
            if j == 0:
                tax = self.tm[tj, cs]
                exp = st.sexp[tj, ps]
            else:
                tax = np.where(has, tax + self.tm[tj, cs], tax)
                exp = np.where(has, np.maximum(exp, st.sexp[tj, ps]), exp)
        tax = tax / counts
        share = st.weights.theme_text_share
        lcount = np.array([len(x) for x in langs], dtype=np.int64)
        lang = np.full(ns.size, -np.inf)
        for j in range(int(lcount.max(initial=0))):
            lj = np.array([x[j] if len(x) > j else 0 for x in langs], dtype=np.int64)
            lang = np.where(lcount > j, np.maximum(lang, self.lr[lj, cs]), lang)
        lang = np.maximum(lang, st.weights.interpretation)
        lang[(lcount == 0) | self.cap_lang_empty[cs]] = F.LANGUAGE_UNKNOWN
        return {
            "theme": (1.0 - share) * tax + share * texts,
            "language": lang,
            "region": self.reg[rs, ps],
            "experience": exp,
            "relationship": st.rel[rs, ps],
            "maturity": self.cap_mat[cs],
            "follow_through": self.ft[ps],
        }

    # ------------------------------------------------------------------ public
    def rank(
        self,
        weights: Weights = DEFAULT_WEIGHTS,
        need_ids: Iterable[str] | None = None,
        top_k: int = 5,
        explain: bool = True,
    ) -> list[Proposal]:
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        st = self.scoring(weights)
        if need_ids is None:
            ns: Sequence[int] = range(len(self.needs))
        else:
            ns = sorted({self.need_pos[i] for i in need_ids if i in self.need_pos})
        tops = self._top(st, ns, top_k, damped=True)
        rows = [(n, r, c, t) for n in sorted(tops) for r, (c, _f, t) in enumerate(tops[n], 1)]
        if not rows:
            return []
        nn = np.array([x[0] for x in rows], dtype=np.int64)
        cc = np.array([x[2] for x in rows], dtype=np.int64)
        tt = np.array([x[3] for x in rows], dtype=np.float64)
        pp = self.cap_country[cc]
        if weights.hub_damping == 0:
            dd = np.ones(len(rows))
        else:
            self._ensure_winners(st)
            assert st.base_damping is not None and st.winner is not None and st.wins is not None
            own = 1.0 / (1.0 + weights.hub_damping * (st.wins[pp] - 1) / st.ranked)
            dd = np.where(st.winner[nn] == pp, own, st.base_damping[pp])
        comps = self._components_many(st, nn, cc, tt)
        total = weights.total
        contrib = {k: dd * weights.factor(k) * comps[k] / total for k in FACTORS}
        score = np.zeros(len(rows))
        for k in FACTORS:
            score = score + contrib[k]
        comp_rows = zip(*(comps[k].tolist() for k in FACTORS), strict=True)
        contrib_rows = zip(*(contrib[k].tolist() for k in FACTORS), strict=True)
        dl = dd.tolist()
        reasons = self._reasons_many(st, rows, comps, dl) if explain else [()] * len(rows)
        out: list[Proposal] = []
        for (n, rank, c, _text), d, s, cv, kv, why in zip(
            rows, dl, score.tolist(), comp_rows, contrib_rows, reasons, strict=True
        ):
            need, cap = self.needs[n], self.caps[c]
            out.append(
                Proposal(
                    need_id=need.id,
                    recipient=need.country,
                    rank=rank,
                    provider=cap.country,
                    capacity_id=cap.id,
                    institution=cap.institution,
                    score=s,
                    components=dict(zip(FACTORS, cv, strict=True)),
                    contributions=dict(zip(FACTORS, kv, strict=True)),
                    reasons=why,
                    damping=d,
                )
            )
        return out

    def score_pair(
        self, need_id: str, capacity_id: str, weights: Weights = DEFAULT_WEIGHTS
    ) -> tuple[float, dict[str, float]] | None:
        """Undamped score and components of an eligible pair (None when excluded)."""
        if self.exclusion(need_id, capacity_id) is not None:
            return None
        st = self.scoring(weights)
        n, c = self.need_pos[need_id], self.cap_pos[capacity_id]
        text = float(self._texts(n, np.array([c], dtype=np.int64))[0])
        comps = self.components(st, n, c, text)
        return sum(weights.factor(k) * comps[k] for k in FACTORS) / weights.total, comps

    def exclusion(self, need_id: str, capacity_id: str) -> str | None:
        """Why this pair is never proposed (hard constraints), or None when it may be."""
        need = self.all_needs.get(need_id)
        cap = self.all_caps.get(capacity_id)
        if need is None:
            return f"unknown need {need_id}"
        if cap is None:
            return f"unknown capacity {capacity_id}"
        return exclusion(self.corpus, need, cap, self.as_of, self.taxonomy)


def prepare(corpus: Corpus, as_of: date | None = None) -> PreparedCorpus:
    """Index a corpus as seen on ``as_of`` (None: everything). Reuse it for many rankings."""
    return PreparedCorpus(corpus=corpus, as_of=as_of)


def rank(
    corpus: Corpus | PreparedCorpus,
    weights: Weights = DEFAULT_WEIGHTS,
    as_of: date | None = None,
    need_ids: Iterable[str] | None = None,
    top_k: int = 5,
    explain: bool = True,
) -> list[Proposal]:
    """Top ``top_k`` proposals (one per provider country) for each open need, or the named ones.

    Sorted by need id then rank. Pass a ``PreparedCorpus`` to rank repeatedly without
    re-indexing (its ``as_of`` is used; passing a different one is an error).
    """
    if isinstance(corpus, PreparedCorpus):
        if as_of is not None and as_of != corpus.as_of:
            raise ValueError(f"corpus was prepared as of {corpus.as_of}, not {as_of}")
        prepared = corpus
    else:
        prepared = prepare(corpus, as_of)
    return prepared.rank(weights, need_ids, top_k, explain)


def explain_exclusion(
    corpus: Corpus | PreparedCorpus, need_id: str, capacity_id: str, as_of: date | None = None
) -> str | None:
    """Why a (need, capacity) pair is never proposed, or None when it is eligible."""
    prepared = corpus if isinstance(corpus, PreparedCorpus) else prepare(corpus, as_of)
    return prepared.exclusion(need_id, capacity_id)
