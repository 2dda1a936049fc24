"""The records of a corpus as seen on one day, as arrays indexed by country, theme, language,
capacity and need: what every ranking reads and never changes.

Countries, themes and languages are numbered in sorted order of their codes, capacities by
(country, id) (so the capacities of one country are contiguous), needs by id, exchanges by id
(so that sums do not depend on the input order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from sscmatch.matching import factors as F
from sscmatch.matching.model import (
    CapacityItem,
    CommitmentItem,
    Corpus,
    CountryInfo,
    ExchangeItem,
    NeedItem,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

DAY_MIN = -(2**40)
DAY_MAX = 2**40


def reference_date(exchanges: list[ExchangeItem], as_of: date | None) -> date:
    """The date ages are measured from: ``as_of``, else the latest visible exchange start."""
    if as_of is not None:
        return as_of
    return max((e.start for e in exchanges), default=date(2000, 1, 1))


def visible_records(
    corpus: Corpus, as_of: date | None
) -> tuple[list[CapacityItem], list[NeedItem], list[ExchangeItem], list[CommitmentItem]]:
    """What exists on ``as_of``: published capacities of southern countries, open needs (both
    created before it), exchanges started before it, commitments made before it."""
    caps = sorted(
        (
            c
            for c in corpus.capacities
            if c.status == "published"
            and c.country
            and F.visible(c.created, as_of)
            and southern(corpus, c.country, as_of)
        ),
        key=lambda c: (c.country, c.id),
    )
    needs = sorted(
        (
            n
            for n in corpus.needs
            if n.status == "open" and n.country and F.visible(n.created, as_of)
        ),
        key=lambda n: n.id,
    )
    exchanges = sorted(
        (e for e in corpus.exchanges if as_of is None or e.start < as_of), key=lambda e: e.id
    )
    commitments = [c for c in corpus.commitments if F.visible(c.start, as_of)]
    return caps, needs, exchanges, commitments


def _numbered(values: list[tuple[int, ...]]) -> tuple[list[tuple[int, ...]], I64]:
    """The distinct values in order of first appearance, and each value's number."""
    number: dict[tuple[int, ...], int] = {}
    keys = np.array([number.setdefault(v, len(number)) for v in values], dtype=np.int64)
    return list(number), keys


def southern(corpus: Corpus, code: str, as_of: date | None) -> bool:
    """A country may provide South-South cooperation (unknown countries may)."""
    info = corpus.countries.get(code)
    return info is None or info.southern(as_of)


def _day(d: date | None, default: int) -> int:
    return default if d is None else d.toordinal()


def _signatures(groups: list[tuple[int, ...]]) -> tuple[I64, list[tuple[int, ...]]]:
    """Each group's signature number and the distinct groups (sorted tuples), in first-seen
    order: arrays are built once per distinct theme or language set."""
    sigs: dict[tuple[int, ...], int] = {}
    seen: dict[tuple[int, ...], int] = {}  # the groups as given: records share few, sort once
    out = [0] * len(groups)
    for i, g in enumerate(groups):
        got = seen.get(g)
        if got is None:
            got = seen[g] = sigs.setdefault(tuple(sorted(set(g))), len(sigs))
        out[i] = got
    return np.asarray(out, dtype=np.int64), list(sigs)


@dataclass(eq=False)
class Indexes:
    """Arrays of one corpus on one day (build with :meth:`build`)."""

    corpus: Corpus
    as_of: date | None
    caps: list[CapacityItem]
    needs: list[NeedItem]
    exchanges: list[ExchangeItem]
    commitments: list[CommitmentItem]
    reference: date
    taxonomy: F.Taxonomy

    @classmethod
    def build(cls, corpus: Corpus, as_of: date | None) -> Indexes:
        caps, needs, exchanges, commitments = visible_records(corpus, as_of)
        out = cls(
            corpus=corpus,
            as_of=as_of,
            caps=caps,
            needs=needs,
            exchanges=exchanges,
            commitments=commitments,
            reference=reference_date(exchanges, as_of),
            taxonomy=F.Taxonomy.of(corpus.themes),
        )
        out._countries()
        out._themes()
        out._languages()
        out._capacities()
        out._needs()
        out._exchanges()
        return out

    # ------------------------------------------------------------------ countries
    def _countries(self) -> None:
        codes = set(self.corpus.countries)
        codes.update(c.country for c in self.caps)
        codes.update(n.country for n in self.needs)
        for e in self.exchanges:
            codes.update(e.providers, e.recipients, e.participants)
        codes.update(c.owner_country for c in self.commitments)
        self.codes = sorted(codes)
        self.cidx = {c: i for i, c in enumerate(self.codes)}
        infos: list[CountryInfo | None] = [self.corpus.countries.get(c) for c in self.codes]
        n = len(self.codes)
        # region_relation looks at these fields only: score each distinct profile pair once
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
        table = np.array([[F.region_score(a, b) for b in reps] for a in reps])
        self.region = table[pid[:, None], pid[None, :]] if n else np.zeros((0, 0))
        """recipient × provider"""
        self.southern = np.array([southern(self.corpus, c, self.as_of) for c in self.codes])
        allowed = ~np.eye(n, dtype=bool) & self.southern[None, :]
        self.cap_vetoes: dict[str, set[str]] = {}
        for x, y in self.corpus.vetoes:
            if x in self.cidx and y in self.cidx:
                allowed[self.cidx[y], self.cidx[x]] = False
            else:
                self.cap_vetoes.setdefault(y, set()).add(x)
        self.allowed = allowed
        """recipient × provider: may the provider be proposed to the recipient at all"""

    # ------------------------------------------------------------------ themes
    def _themes(self) -> None:
        ids = set(self.corpus.themes)
        for group in (self.caps, self.needs, self.exchanges):
            for rec in group:
                ids.update(rec.themes)
        self.theme_ids = sorted(ids)
        self.tidx = {t: i for i, t in enumerate(self.theme_ids)}
        self._subjects: dict[tuple[str, ...], tuple[int, ...]] = {}
        tx = self.taxonomy
        nt = len(self.theme_ids)
        self.sim = np.array(
            [[tx.similarity(a, b) for b in self.theme_ids] for a in self.theme_ids]
        ).reshape(nt, nt)
        roots = sorted({tx.root(t) for t in self.theme_ids})
        self.root_ids = roots
        ridx = {r: i for i, r in enumerate(roots)}
        self.theme_root = np.array([ridx[tx.root(t)] for t in self.theme_ids], dtype=np.int64)

    def subject(self, themes: tuple[str, ...]) -> tuple[int, ...]:
        """Indexes of a record's subject themes (``factors.subject_themes``), worked out once
        per distinct tuple of themes (records share few)."""
        got = self._subjects.get(themes)
        if got is None:
            subject = F.subject_themes(themes, self.corpus.themes)
            got = self._subjects[themes] = tuple(self.tidx[t] for t in subject)
        return got

    def _subject_similarity(self, groups: list[tuple[int, ...]]) -> F64:
        """themes × groups: the best similarity of each theme to any theme of the group."""
        out = np.zeros((len(self.theme_ids), len(groups)))
        for s, key in enumerate(groups):
            if key:
                out[:, s] = self.sim[:, list(key)].max(axis=1)
        return out

    # ------------------------------------------------------------------ languages
    def _languages(self) -> None:
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
        self.country_langs = [self.languages_of((), c) for c in self.codes]

    def languages_of(self, langs: tuple[str, ...], country: str) -> tuple[str, ...]:
        """A record's working languages, else its country's."""
        if langs:
            return tuple(dict.fromkeys(langs))
        info = self.corpus.countries.get(country)
        return tuple(dict.fromkeys(info.languages)) if info else ()

    def _language_table(self, lang_sets: list[tuple[str, ...]]) -> tuple[F64, Bool]:
        """languages × offers: the best credit of each language against the offer's languages,
        and which offers have no known language."""
        sig, keys = _signatures([tuple(self.lidx[x] for x in ls) for ls in lang_sets])
        table = np.zeros((len(self.lang_ids), len(keys)))
        empty = np.zeros(len(keys), dtype=bool)
        for s, key in enumerate(keys):
            if key:
                table[:, s] = self.lraw[:, list(key)].max(axis=1)
            else:
                empty[s] = True
        return np.ascontiguousarray(table[:, sig]), empty[sig]

    # ------------------------------------------------------------------ capacities
    def _capacities(self) -> None:
        caps = self.caps
        self.cap_pos = {c.id: i for i, c in enumerate(caps)}
        self.cap_country = np.array([self.cidx[c.country] for c in caps], dtype=np.int64)
        self.cap_maturity = np.array([F.maturity_score(c.maturity) for c in caps])
        self.cap_from = np.array([_day(c.available_from, DAY_MIN) for c in caps], dtype=np.int64)
        self.cap_to = np.array([_day(c.available_to, DAY_MAX) for c in caps], dtype=np.int64)
        self.cap_langs = [self.languages_of(c.languages, c.country) for c in caps]
        sig, keys = _signatures([self.subject(c.themes) for c in caps])
        self.cap_topic = np.ascontiguousarray(self._subject_similarity(keys)[:, sig])
        """themes × capacities: best similarity of a theme to the capacity's subject themes"""
        family: dict[int, list[int]] = {}
        for i, c in enumerate(caps):
            for r in {int(self.theme_root[self.tidx[t]]) for t in c.themes}:
                family.setdefault(r, []).append(i)
        self.family_caps = {r: np.asarray(v, dtype=np.int64) for r, v in family.items()}
        self.cap_lang, self.cap_lang_empty = self._language_table(self.cap_langs)
        self.fallback_lang, self.fallback_lang_empty = self._language_table(self.country_langs)

    # ------------------------------------------------------------------ needs
    def _needs(self) -> None:
        needs = self.needs
        self.need_pos = {n.id: i for i, n in enumerate(needs)}
        self.need_country = np.array([self.cidx[n.country] for n in needs], dtype=np.int64)
        self.need_subject = [self.subject(n.themes) for n in needs]
        self.need_roots = [
            tuple(sorted({int(self.theme_root[self.tidx[t]]) for t in n.themes})) for n in needs
        ]
        self.need_lang_codes = [self.languages_of(n.languages, n.country) for n in needs]
        self.need_langs = [tuple(self.lidx[x] for x in ls) for ls in self.need_lang_codes]
        self.subjects, self.need_subject_key = _numbered(self.need_subject)
        """the distinct subjects of the needs, and each need's position among them"""
        self.lang_sets, self.need_langs_key = _numbered(self.need_langs)
        """the distinct language sets of the needs, and each need's position among them"""
        self.need_from = np.array([_day(n.desired_from, DAY_MIN) for n in needs], dtype=np.int64)
        self.need_to = np.array([_day(n.desired_to, DAY_MAX) for n in needs], dtype=np.int64)

    # ------------------------------------------------------------------ exchanges
    def _exchanges(self) -> None:
        nc, ne = len(self.codes), len(self.exchanges)

        # a country is a provider, else a recipient, else a participant of an exchange (each
        # once, whatever the sources repeat): each role's pairs listed flat, then the earlier
        # roles taken out of the later ones with sparse arithmetic
        cidx, exchanges = self.cidx, self.exchanges

        def listed(role: str) -> sp.csr_matrix:
            members = list(map(attrgetter(role), exchanges))
            counts = np.fromiter(map(len, members), dtype=np.int64, count=ne)
            total = int(counts.sum())
            rows = np.fromiter(
                map(cidx.__getitem__, chain.from_iterable(members)), dtype=np.int64, count=total
            )
            cols = np.repeat(np.arange(ne, dtype=np.int64), counts)
            got = sp.csr_matrix((np.ones(total), (rows, cols)), shape=(nc, ne))
            got.data[:] = 1.0  # repeated members were summed
            return got

        earlier = sp.csr_matrix((nc, ne))
        roles: list[sp.csr_matrix] = []
        for role in ("providers", "recipients", "participants"):
            got = listed(role)
            if roles:
                got = (got - got.multiply(earlier)).tocsr()
                got.eliminate_zeros()
            roles.append(got)
            earlier = (earlier + got).tocsr()

        self.provided = roles[0]
        """countries × exchanges: 1 where the country provided the exchange"""
        self.received = roles[1]
        """countries × exchanges: 1 where the country received (and did not also provide)"""
        self.participated = roles[2]
        """countries × exchanges: 1 where the country took part, its role not stated"""
        self.members = (self.provided + self.received + self.participated).tocsr()
        self.members.data[:] = 1.0
        self.member_count = np.asarray(self.members.sum(axis=0)).ravel()
        self.ex_day = np.array([e.start.toordinal() for e in self.exchanges], dtype=np.int64)
        self.ex_year = np.array([e.start.year for e in self.exchanges], dtype=np.int64)
        sig, keys = _signatures([self.subject(e.themes) for e in self.exchanges])
        self.ex_sig = sig
        # at least one signature, as ``onehot`` below has: a corpus with no exchange at all
        # (a new deployment) ranks on its capacities alone
        self.sig_topic = self._subject_similarity(keys or [()]).T
        """exchange signatures × themes: best similarity of a theme to the exchange's subject"""
        onehot = sp.csr_matrix((np.ones(ne), (np.arange(ne), sig)), shape=(ne, max(len(keys), 1)))
        self.ex_onehot = onehot
        # fallback topic: for each country and theme, the closest subject of an exchange the
        # country provided (max, not sum: one exchange on the theme is enough to address it)
        provided_sig = (self.provided @ onehot).toarray() > 0
        nt = len(self.theme_ids)
        self.fallback_topic = np.zeros((nt, nc))
        """themes × countries"""
        for p in np.flatnonzero(provided_sig.any(axis=1)).tolist():
            self.fallback_topic[:, p] = self.sig_topic[provided_sig[p]].max(axis=0)
        self.has_provided = np.asarray(self.provided.sum(axis=1)).ravel() > 0
        self.has_offer = self.has_provided.copy()
        """countries with a fallback offer: they provided an exchange or offer a capacity"""
        self.has_offer[self.cap_country] = True
        self.provided_count = np.asarray(self.provided.sum(axis=1)).ravel().astype(np.int64)
        self.first_year = np.full(nc, 0, dtype=np.int64)
        self.last_year = np.full(nc, 0, dtype=np.int64)
        pc = self.provided.tocoo()
        if pc.nnz:
            self.first_year[:] = 10**6
            np.minimum.at(self.first_year, pc.row, self.ex_year[pc.col])
            np.maximum.at(self.last_year, pc.row, self.ex_year[pc.col])
            self.first_year[self.first_year == 10**6] = 0
        fulfilled = np.zeros(nc)
        decided = np.zeros(nc)
        for k in self.commitments:
            i = self.cidx[k.owner_country]
            if k.status in ("fulfilled", "dropped"):
                decided[i] += 1
                fulfilled[i] += k.status == "fulfilled"
        self.fulfilled, self.decided = fulfilled, decided
        self.follow_through = np.array(
            [
                F.follow_through_score(int(a), int(b))
                for a, b in zip(fulfilled, decided, strict=True)
            ]
        )
