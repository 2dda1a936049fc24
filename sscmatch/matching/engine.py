"""The fast engine: a corpus prepared once per ``as_of``, then ranked need by need.

``PreparedCorpus`` turns the records into arrays indexed by country, theme, language and
capacity (region, relationship and experience matrices, a theme-family inverted index of
capacities, the taxonomy similarity of every theme to every capacity). Ranking one need is then
a handful of vectorised gathers over the capacities of the need's theme families; the text
similarity (the only per-pair string work) is computed for a short list only: the capacities whose
score could still reach the top K given that text similarity is at most 1. The result is the
same as scoring every pair (``reference.py``), which the tests check.
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
    members,
    projection_from_membership,
)
from sscmatch.matching.model import (
    DEFAULT_WEIGHTS,
    FACTORS,
    CapacityItem,
    Corpus,
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
CHUNK = 24


def _day(d: date | None, default: int) -> int:
    return default if d is None else d.toordinal()


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
    cache_key: Any = None
    cache_value: _CapPart | None = None


@dataclass
class _Candidates:
    caps: I64  # capacity positions, ascending (so grouped by country)
    country: I64
    seg: I64  # start of each country's run
    always: Bool  # capacity has no availability window


@dataclass
class _CapPart:
    value: F64  # per candidate: text-free capacity-dependent score part
    vmax: F64  # per country: max of value (-inf without candidates)
    vopen: F64  # per country: max of value over capacities without a window


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

    # ------------------------------------------------------------------ indexes
    def _index_countries(self) -> None:
        codes = set(self.corpus.countries)
        codes.update(c.country for c in self.caps)
        codes.update(n.country for n in self.needs)
        for e in self.exchanges:
            codes.update(members(e))
        codes.update(c.owner_country for c in self.commitments)
        self.codes = sorted(codes)
        self.cidx = {c: i for i, c in enumerate(self.codes)}
        infos = [self.corpus.countries.get(c) for c in self.codes]
        n = len(self.codes)
        self.reg = np.zeros((n, n))
        for i, a in enumerate(infos):
            for j, b in enumerate(infos):
                self.reg[i, j] = F.region_score(a, b)[0]
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
            for rec in group:
                ids.update(rec.themes)
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
        prov_r: list[int] = []
        prov_c: list[int] = []
        rec_r: list[int] = []
        rec_c: list[int] = []
        mem_r: list[int] = []
        mem_c: list[int] = []
        role_v: list[float] = []
        part_r: list[int] = []
        part_c: list[int] = []
        sigs: dict[tuple[int, ...], int] = {}
        ex_sig = np.empty(ne, dtype=np.int64)
        cidx, tidx = self.cidx, self.tidx
        for j, e in enumerate(self.exchanges):
            provs = {cidx[c] for c in e.providers}
            recs = {cidx[c] for c in e.recipients}
            parts = {cidx[c] for c in e.participants} - provs
            for c in provs:
                prov_r.append(c)
                prov_c.append(j)
            for c in recs:
                rec_r.append(c)
                rec_c.append(j)
            for c in parts:
                part_r.append(c)
                part_c.append(j)
            for c in provs | recs | parts:
                mem_r.append(c)
                mem_c.append(j)
                role_v.append(
                    F.PROVIDER_ROLE if c in provs else F.PARTICIPANT_ROLE if c in parts else 0.0
                )
            key = tuple(sorted({tidx[t] for t in e.themes}))
            ex_sig[j] = sigs.setdefault(key, len(sigs))

        def mat(r: list[int], c: list[int], v: list[float] | None = None) -> Any:
            data = np.ones(len(r)) if v is None else np.asarray(v, dtype=np.float64)
            return sp.csr_matrix(
                (data, (np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64))),
                shape=(nc, ne),
            )

        self.m_prov = mat(prov_r, prov_c)
        self.m_rec = mat(rec_r, rec_c)
        self.m_mem = mat(mem_r, mem_c)
        self.m_role = mat(mem_r, mem_c, role_v)
        self.m_role.eliminate_zeros()
        m_part = mat(part_r, part_c)
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
            np.unique(np.concatenate(parts))
            if len(parts) > 1
            else (parts[0] if parts else np.zeros(0, dtype=np.int64))
        )
        country = self.cap_country[caps]
        seg = np.flatnonzero(np.r_[True, country[1:] != country[:-1]]) if caps.size else caps
        got = _Candidates(
            caps=caps,
            country=country,
            seg=seg.astype(np.int64),
            always=(self.cap_from[caps] == DAY_MIN) & (self.cap_to[caps] == DAY_MAX),
        )
        self._cand_cache[roots] = got
        return got

    def _cap_part(self, st: _Scoring, n: int, cand: _Candidates) -> _CapPart:
        """The capacity-dependent, text-free part of the score over the need's candidates (the
        same for every need with these themes and languages), with per-country maxima."""
        key = (self.need_roots[n], self.need_themes[n], self.need_langs[n])
        if st.cache_key == key and st.cache_value is not None:
            return st.cache_value
        caps = cand.caps
        themes = list(self.need_themes[n])
        tax = self.tm[themes[0], caps] if len(themes) == 1 else self.tm[themes][:, caps].mean(0)
        langs = list(self.need_langs[n])
        floor = st.weights.interpretation
        if langs:
            lr = self.lr[langs[0], caps] if len(langs) == 1 else self.lr[langs][:, caps].max(0)
            lang = np.maximum(lr, floor)
            lang[self.cap_lang_empty[caps]] = F.LANGUAGE_UNKNOWN
        else:
            lang = np.full(caps.size, F.LANGUAGE_UNKNOWN)
        value: F64 = st.hterm[caps] + st.ctax * tax + st.clang * lang
        nc = len(self.codes)
        vmax = np.full(nc, -np.inf)
        vmax[cand.country[cand.seg]] = np.maximum.reduceat(value, cand.seg)
        vopen = np.full(nc, -np.inf)
        always = np.where(cand.always, value, -np.inf)
        vopen[cand.country[cand.seg]] = np.maximum.reduceat(always, cand.seg)
        got = _CapPart(value=value, vmax=vmax, vopen=vopen)
        st.cache_key, st.cache_value = key, got
        return got

    def _country_part(self, st: _Scoring, n: int) -> F64:
        themes = list(self.need_themes[n])
        exp = st.sexp[themes[0]] if len(themes) == 1 else st.sexp[themes].max(0)
        out: F64 = st.arec[self.need_country[n]] + st.wexp * exp + st.ftterm
        return out

    def need_key(self, n: int) -> str:
        key = self._need_keys[n]
        if key is None:
            need = self.needs[n]
            key = self._need_keys[n] = F.text_key(need.title, need.description, self.terms)
        return key

    def cap_key(self, c: int) -> str:
        key = self._cap_keys[c]
        if key is None:
            cap = self.caps[c]
            key = self._cap_keys[c] = F.text_key(cap.title, cap.description, self.terms)
        return key

    def _texts(self, n: int, caps: I64) -> F64:
        q = self.need_key(n)
        if not q or caps.size == 0:
            return np.zeros(caps.size)
        keys = self._cap_keys
        choices = [keys[c] or self.cap_key(c) for c in caps.tolist()]
        sims = process.cdist([q], choices, scorer=fuzz.ratio, dtype=np.float64)[0]
        out: F64 = np.asarray(sims, dtype=np.float64) / 100.0
        out[[not k for k in choices]] = 0.0
        return out

    def _damping(self, st: _Scoring, n: int) -> F64 | None:
        if st.weights.hub_damping == 0:
            return None
        self._ensure_winners(st)
        assert st.base_damping is not None and st.winner is not None and st.wins is not None
        d = st.base_damping
        w = int(st.winner[n])
        if w >= 0:
            d = d.copy()
            d[w] = 1.0 / (1.0 + st.weights.hub_damping * (st.wins[w] - 1) / st.ranked)
        return d

    def _ensure_winners(self, st: _Scoring) -> None:
        if st.winner is not None:
            return
        winner = np.full(len(self.needs), -1, dtype=np.int64)
        for n in self._batch_order(range(len(self.needs))):
            top = self._scan(st, n, 1, None)
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

    def _scan(
        self, st: _Scoring, n: int, k: int, damp: F64 | None
    ) -> list[tuple[int, float, float]]:
        """Top ``k`` (capacity, final score, text similarity), one per provider country.

        Per country, the best text-free score of its capacities in the need's families bounds
        what it can reach; the K-th best of those lower bounds is a threshold that a capacity
        must be able to reach with a perfect text similarity to be looked at any further.
        """
        cand = self._candidates(self.need_roots[n])
        if cand.caps.size == 0:
            return []
        part = self._cap_part(st, n, cand)
        a = self._country_part(st, n)
        nf, nt = int(self.need_from[n]), int(self.need_to[n])
        windowed = nf != DAY_MIN or nt != DAY_MAX
        vetoed = self.pair_vetoes.get(self.needs[n].id)
        reach = part.vopen if windowed or vetoed else part.vmax
        lower = a + reach if damp is None else damp * (a + reach)
        finite = lower[np.isfinite(lower)]
        if finite.size >= k and not vetoed:
            threshold = float(np.partition(finite, finite.size - k)[finite.size - k])
        else:
            threshold = -np.inf
        threshold -= TIE_MARGIN
        with np.errstate(invalid="ignore"):
            theta = (threshold if damp is None else threshold / damp) - a - st.delta
        theta[~np.isfinite(a)] = np.inf
        short = np.flatnonzero(part.value >= theta[cand.country])
        if short.size == 0:
            return []
        caps = cand.caps[short]
        if windowed:
            ok = (self.cap_from[caps] <= nt) & (self.cap_to[caps] >= nf)
            short, caps = short[ok], caps[ok]
        if vetoed:
            bad = {self.cap_pos[c] for c in vetoed if c in self.cap_pos}
            ok = np.array([c not in bad for c in caps.tolist()], dtype=bool)
            short, caps = short[ok], caps[ok]
        if caps.size == 0:
            return []
        countries = cand.country[short]
        lb = a[countries] + part.value[short]
        dc = np.ones(caps.size) if damp is None else damp[countries]
        ub = (lb + st.delta) * dc
        # best first: look at texts in chunks, in decreasing order of what a capacity could
        # reach, and stop once nothing left can beat the K-th best provider found so far
        order = np.lexsort((caps, -ub))
        cl, capl = countries.tolist(), caps.tolist()
        lbl, dcl, ubl = lb.tolist(), dc.tolist(), ub.tolist()
        best: dict[int, tuple[float, int, float]] = {}  # country -> (final, cap, text)
        kth = -np.inf
        delta = st.delta
        for start in range(0, len(order), CHUNK):
            idx = order[start : start + CHUNK].tolist()
            if ubl[idx[0]] < kth - TIE_MARGIN:
                break
            texts = self._texts(n, caps[idx]).tolist()
            for i, text in zip(idx, texts, strict=True):
                final = (lbl[i] + delta * text) * dcl[i]
                country = cl[i]
                cur = best.get(country)
                key = (-round(final, RANK_DIGITS), capl[i])
                if cur is None or key < (-round(cur[0], RANK_DIGITS), cur[1]):
                    best[country] = (final, capl[i], text)
            if len(best) >= k:
                kth = sorted((v[0] for v in best.values()), reverse=True)[k - 1]
        ranked = sorted(best.values(), key=lambda v: (-round(v[0], RANK_DIGITS), v[1]))[:k]
        return [(c, f, t) for f, c, t in ranked]

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

    def reasons(
        self, st: _Scoring, n: int, c: int, comps: dict[str, float], damping: float, text: float
    ) -> tuple[str, ...]:
        need, cap = self.needs[n], self.caps[c]
        r, p = int(self.need_country[n]), int(self.cap_country[c])
        pn, rn = self._name(p), self._name(r)
        texts: dict[str, str] = {}
        # theme
        cap_t = [self.tidx[t] for t in dict.fromkeys(cap.themes)]
        best = max(
            ((float(self.sim[a, b]), a, b) for a in self.need_themes[n] for b in cap_t),
            key=lambda x: (x[0], -x[1], -x[2]),
            default=(0.0, -1, -1),
        )
        if best[1] >= 0:
            rel = self.taxonomy.relation(self.theme_ids[best[1]], self.theme_ids[best[2]])
            if best[0] >= F.SAME_THEME:
                texts["theme"] = f"offers {self._theme_label(best[2])} ({rel})"
            else:
                texts["theme"] = (
                    f"offers {self._theme_label(best[2])}, {rel} of {self._theme_label(best[1])}"
                )
        if st.weights.theme_text_share > 0 and text >= 0.5:
            texts["theme"] = texts.get("theme", "") + f"; texts {round(100 * text)}% alike"
        # experience
        themes = self.need_themes[n]
        t = max(themes, key=lambda x: (st.sexp[x, p].item(), -x))
        count = int(self.prov_count[p, t])
        root = int(self.theme_root[t])
        if count:
            texts["experience"] = (
                f"{pn} has provided {self._theme_label(t)} in {count} "
                f"exchange{'s' if count > 1 else ''} since {int(self.prov_first[p, t])}"
            )
        elif self.fam_count[p, root]:
            fc = int(self.fam_count[p, root])
            texts["experience"] = (
                f"{pn} has provided {fc} exchange{'s' if fc > 1 else ''} on "
                f"{self._root_label(root)} (latest {int(self.fam_last[p, root])})"
            )
        elif self.part_count[p, t]:
            texts["experience"] = (
                f"{pn} took part in {int(self.part_count[p, t])} exchange(s) on "
                f"{self._theme_label(t)}"
            )
        else:
            texts["experience"] = f"no recorded exchanges of {pn} on {self._theme_label(t)}"
        texts["language"] = F.language_reason(
            self.need_lang_codes[n],
            self.cap_langs[c],
            self.corpus.intelligibility,
            st.weights.interpretation,
            self.corpus.language_names,
        )
        texts["region"] = F.region_score(
            self.corpus.countries.get(need.country), self.corpus.countries.get(cap.country)
        )[1]
        nd, nco, ncn = int(self.n_dir[p, r]), int(self.n_co[p, r]), int(self.n_common[p, r])
        if nd:
            rel_text = f"{pn} has helped {rn} before ({nd} exchange{'s' if nd > 1 else ''})"
        elif nco:
            rel_text = f"{pn} and {rn} took part in {nco} exchange{'s' if nco > 1 else ''} together"
        else:
            rel_text = f"no past exchanges between {pn} and {rn}"
        if ncn:
            shared = np.flatnonzero(self.adj[p] & self.adj[r])[:3]
            names = ", ".join(self._name(int(i)) for i in shared)
            rel_text += f"; {ncn} shared partner{'s' if ncn > 1 else ''} ({names}"
            rel_text += ", …)" if ncn > 3 else ")"
        texts["relationship"] = rel_text
        texts["maturity"] = (
            f"{cap.maturity} programme" if cap.maturity else "maturity not stated (neutral)"
        )
        dec, ful = int(self.decided[p]), int(self.fulfilled[p])
        texts["follow_through"] = (
            f"{pn} fulfilled {ful} of {dec} decided commitment{'s' if dec > 1 else ''}"
            if dec
            else f"no decided commitments of {pn} yet (neutral prior 0.5)"
        )
        w = st.weights
        order = sorted(
            (k for k in FACTORS if w.factor(k) > 0),
            key=lambda k: (-w.factor(k) * comps[k], FACTORS.index(k)),
        )
        out = [texts[k] for k in order]
        if damping < 1.0 and st.wins is not None:
            others = int(st.wins[p]) - (1 if st.winner is not None and st.winner[n] == p else 0)
            out.append(
                f"score damped {round(100 * (1 - damping))}% because {pn} already leads "
                f"{others} other need{'s' if others != 1 else ''}"
            )
        return tuple(out)

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
        out: list[Proposal] = []
        total = weights.total
        for n in self._batch_order(ns) if len(ns) > 1 else ns:
            damp = self._damping(st, n)
            need = self.needs[n]
            for rank, (c, _final, text) in enumerate(self._scan(st, n, top_k, damp), start=1):
                p = int(self.cap_country[c])
                d = 1.0 if damp is None else float(damp[p])
                comps = self.components(st, n, c, text)
                contrib = {k: d * weights.factor(k) * comps[k] / total for k in FACTORS}
                cap = self.caps[c]
                out.append(
                    Proposal(
                        need_id=need.id,
                        recipient=need.country,
                        rank=rank,
                        provider=cap.country,
                        capacity_id=cap.id,
                        institution=cap.institution,
                        score=sum(contrib.values()),
                        components=comps,
                        contributions=contrib,
                        reasons=self.reasons(st, n, c, comps, d, text) if explain else (),
                        damping=d,
                    )
                )
        out.sort(key=lambda x: (x.need_id, x.rank))
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
