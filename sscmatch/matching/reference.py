"""A straightforward per-pair implementation of the scores: the specification of the engine.

It looks at one (need, offer) pair at a time with plain Python loops over the records. Tests
check that the fast engine (``engine.py``) gives the same scores and rankings;
``scripts/bench_match`` times it, and its memoised form (``MemoisedReference``), to measure the
speed-up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar, cast

import numpy as np

from sscmatch.matching import factors as F
from sscmatch.matching.graph import TIE_MEMBERS, indirect_proximity, members
from sscmatch.matching.indexes import reference_date, southern, visible_records
from sscmatch.matching.model import (
    DEFAULT_WEIGHTS,
    FACTORS,
    CapacityItem,
    Corpus,
    ExchangeItem,
    NeedItem,
    Reason,
    Weights,
)
from sscmatch.matching.scoring import rank_keys, weighted
from sscmatch.matching.texts import profile, relevance
from sscmatch.matching.ties import Candidate, near_tie, order

_T = TypeVar("_T")


def exclusion(
    corpus: Corpus,
    need: NeedItem,
    capacity: CapacityItem,
    as_of: date | None,
    taxonomy: F.Taxonomy | None = None,
) -> Reason | None:
    """Why a capacity may not be proposed for a need (the hard constraints), or None."""
    if need.status != "open":
        return Reason("excluded.need_not_open", {"need": need.id, "status": need.status})
    if not F.visible(need.created, as_of):
        return Reason("excluded.need_later", {"need": need.id})
    if capacity.status != "published":
        return Reason(
            "excluded.capacity_not_published",
            {"capacity": capacity.id, "status": capacity.status},
        )
    if not F.visible(capacity.created, as_of):
        return Reason("excluded.capacity_later", {"capacity": capacity.id})
    if not capacity.country:
        return Reason("excluded.body", {"capacity": capacity.id})
    if capacity.country == need.country:
        return Reason("excluded.same_country", {})
    if not southern(corpus, capacity.country, as_of):
        return Reason("excluded.donor", {"country": capacity.country})
    if (capacity.country, need.country) in corpus.vetoes:
        return Reason(
            "excluded.veto_pair", {"provider": capacity.country, "recipient": need.country}
        )
    if (capacity.id, need.id) in corpus.vetoes:
        return Reason("excluded.veto_offer", {"capacity": capacity.id, "need": need.id})
    if not F.windows_overlap(
        capacity.available_from, capacity.available_to, need.desired_from, need.desired_to
    ):
        return Reason("excluded.window", {})
    taxonomy = taxonomy or F.Taxonomy.of(corpus.themes)
    if F.taxonomy_score(need.themes, capacity.themes, taxonomy) <= 0:
        return Reason("excluded.family", {})
    return None


class ReferenceScorer:
    """Scores (need, offer) pairs one at a time, straight from the records. An offer is a
    capacity, or ``None`` with a country: that country's fallback offer (its experience)."""

    def __init__(
        self, corpus: Corpus, weights: Weights = DEFAULT_WEIGHTS, as_of: date | None = None
    ) -> None:
        self.corpus = corpus
        self.weights = weights
        self.as_of = as_of
        self.taxonomy = F.Taxonomy.of(corpus.themes)
        self.caps, self.needs, self.exchanges, self.commitments = visible_records(corpus, as_of)
        self.reference = reference_date(self.exchanges, as_of)
        self.by_country: dict[str, list[ExchangeItem]] = {}
        self.neighbours: dict[str, set[str]] = {}
        for e in self.exchanges:
            ms = members(e)
            for c in ms:
                self.by_country.setdefault(c, []).append(e)
                if len(ms) <= TIE_MEMBERS:
                    self.neighbours.setdefault(c, set()).update(x for x in ms if x != c)
        self.most_provided = max(
            (
                sum(self._decay(e) for e in self.by_country.get(c, ()) if c in e.providers)
                for c in self.by_country
            ),
            default=0.0,
        )

    # ------------------------------------------------------------------ helpers
    def _decay(self, e: ExchangeItem) -> float:
        return F.decay(e.start, self.reference, self.weights.half_life)

    def _subject(self, themes: Iterable[str]) -> tuple[str, ...]:
        return F.subject_themes(themes, self.corpus.themes)

    def _langs(self, langs: tuple[str, ...], country: str) -> tuple[str, ...]:
        if langs:
            return langs
        info = self.corpus.countries.get(country)
        return info.languages if info else ()

    def _role(self, e: ExchangeItem, country: str) -> float:
        if country in e.providers:
            return 1.0
        if country in e.participants and country not in e.recipients:
            return F.PARTICIPANT_ROLE
        return 0.0

    def _relevance(self, a: str, vector: np.ndarray | None) -> float:
        va = self.corpus.vectors.get(a)
        if va is None or vector is None or not np.any(vector):
            return 0.0
        dot = int(np.dot(np.asarray(va, dtype=np.int64), np.asarray(vector, dtype=np.int64)))
        low, high = self.corpus.text_scale
        return float(relevance(np.array([dot]), low, high)[0])

    def profile(self, country: str) -> np.ndarray | None:
        """The direction of the sum of the vectors of the exchanges the country provided and
        of its visible capacities, as a stored vector."""
        ids = [e.id for e in self.by_country.get(country, ()) if country in e.providers]
        ids += [c.id for c in self.caps if c.country == country]
        vs = [self.corpus.vectors[x] for x in ids if x in self.corpus.vectors]
        if not vs:
            return None
        out: np.ndarray = profile(np.sum(np.asarray(vs, dtype=np.int64), axis=0))[0]
        return out

    def has_offer(self, country: str) -> bool:
        """A fallback offer exists for a country that provided an exchange or offers a
        capacity."""
        return any(country in e.providers for e in self.by_country.get(country, ())) or any(
            c.country == country for c in self.caps
        )

    # ------------------------------------------------------------------ factors
    def topic(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        subject = self._subject(need.themes)
        if cap is not None:
            sim = F.best_similarity(subject, self._subject(cap.themes), self.taxonomy)
            return F.topic_level(sim)
        sim = max(
            (
                F.best_similarity(subject, self._subject(e.themes), self.taxonomy)
                for e in self.by_country.get(country, ())
                if country in e.providers
            ),
            default=0.0,
        )
        return F.FALLBACK_SHARE * F.topic_level(sim)

    def text(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        if cap is not None:
            return self._relevance(need.id, self.corpus.vectors.get(cap.id))
        return F.FALLBACK_SHARE * self._relevance(need.id, self.profile(country))

    def experience(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        general = 0.0
        mine = self.by_country.get(country, ())
        for e in mine:
            general += self._role(e, country) * self._decay(e)
        topical = 0.0
        for t in self._subject(need.themes):
            total = 0.0
            for e in mine:
                role = self._role(e, country)
                if role:
                    sim = F.best_similarity((t,), self._subject(e.themes), self.taxonomy)
                    total += role * self._decay(e) * sim
            topical = max(topical, total)
        return F.experience_score(0.5 * general + 0.5 * topical, self.most_provided)

    def relationship(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        rec, prov = need.country, country
        ties = 0.0
        for e in self.by_country.get(prov, ()):
            ms = members(e)
            if rec not in ms or len(ms) < 2:
                continue
            directed = prov in e.providers and rec in e.recipients and rec not in e.providers
            ties += self._decay(e) * (1.0 if directed else 1.0 / (len(ms) - 1))
        nr, np_ = self.neighbours.get(rec, set()), self.neighbours.get(prov, set())
        common = nr & np_
        aa = sum(1.0 / math.log(len(self.neighbours[w])) for w in common)
        union = len(nr | np_)
        jac = len(common) / union if union else 0.0
        indirect = indirect_proximity(aa, jac)
        return 1.0 - (1.0 - F.saturate(ties)) * (1.0 - F.INDIRECT_SHARE * indirect)

    def region(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        countries = self.corpus.countries
        return F.region_score(countries.get(need.country), countries.get(country))

    def language(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        offer = self._langs(cap.languages if cap else (), country)
        return F.language_score(
            self._langs(need.languages, need.country),
            offer,
            self.corpus.intelligibility,
            self.weights.interpretation,
        )

    def maturity(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        return F.maturity_score(cap.maturity) if cap else F.FALLBACK_MATURITY

    def follow_through(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        mine = [c for c in self.commitments if c.owner_country == country]
        fulfilled = sum(1 for c in mine if c.status == "fulfilled")
        decided = fulfilled + sum(1 for c in mine if c.status == "dropped")
        return F.follow_through_score(fulfilled, decided)

    # ------------------------------------------------------------------ scores
    def components(
        self, need: NeedItem, cap: CapacityItem | None, country: str | None = None
    ) -> dict[str, float]:
        owner = cap.country if cap is not None else country
        assert owner is not None, "a fallback offer needs its country"
        return {name: float(getattr(self, name)(need, cap, owner)) for name in FACTORS}

    def score(self, need: NeedItem, cap: CapacityItem | None, country: str | None = None) -> float:
        comps = self.components(need, cap, country)
        return float(weighted(self.weights, comps, fallback=cap is None))

    def exclusion(self, need: NeedItem, cap: CapacityItem) -> Reason | None:
        return exclusion(self.corpus, need, cap, self.as_of, self.taxonomy)

    def fallback_allowed(self, need: NeedItem, country: str) -> bool:
        return (
            country != need.country
            and southern(self.corpus, country, self.as_of)
            and (country, need.country) not in self.corpus.vetoes
            and self.has_offer(country)
        )

    # ------------------------------------------------------------------ ranking
    def best_offers(self, need: NeedItem) -> dict[str, tuple[float, str | None]]:
        """Per country: (score, capacity id or None for the fallback) of its best offer."""
        best: dict[str, tuple[float, str | None]] = {}
        for country in sorted({*self.by_country, *(c.country for c in self.caps)}):
            if self.fallback_allowed(need, country):
                best[country] = (self.score(need, None, country), None)
        for cap in self.caps:  # sorted by (country, id): the first of equal scores stays
            if self.exclusion(need, cap) is not None:
                continue
            s = self.score(need, cap)
            held = best.get(cap.country)
            if held is None:
                best[cap.country] = (s, cap.id)
            elif held[1] is None:  # the fallback: a capacity wins a tie (rounded, as engine)
                key, held_key = rank_keys(np.array([s, held[0]])).tolist()
                if key >= held_key:
                    best[cap.country] = (s, cap.id)
            elif s > held[0]:  # capacities: the exact maximum, the first of equals
                best[cap.country] = (s, cap.id)
        return best

    def rank(
        self, need_ids: Iterable[str] | None = None, top_k: int = 5
    ) -> list[tuple[str, int, str, str | None, float]]:
        """(need id, rank, provider, capacity id or None, score) with the engine's rules."""
        need_by_id = {n.id: n for n in self.needs}
        cap_by_id = {c.id: c for c in self.caps}
        scored = {n.id: self.best_offers(n) for n in self.needs}
        scored = {k: v for k, v in scored.items() if v}
        winner: dict[str, str] = {}
        wins: dict[str, int] = {}
        for nid, offers in scored.items():
            key = rank_keys(np.array([s for s, _ in offers.values()]))
            ordered = sorted(zip(offers, key.tolist(), strict=True), key=lambda x: (-x[1], x[0]))
            winner[nid] = ordered[0][0]
            wins[winner[nid]] = wins.get(winner[nid], 0) + 1
        total = len(scored)
        lam = self.weights.hub_damping
        wanted = None if need_ids is None else set(need_ids)
        out: list[tuple[str, int, str, str | None, float]] = []
        for nid in sorted(scored):
            if wanted is not None and nid not in wanted:
                continue
            rows = []
            for country, (s, cid) in scored[nid].items():
                other = wins.get(country, 0) - (1 if winner[nid] == country else 0)
                d = 1.0 / (1.0 + lam * other / total) if lam else 1.0
                rows.append((d * s, country, cid))
            keys = rank_keys(np.array([r[0] for r in rows])).tolist()
            need = need_by_id[nid]
            position = {c: i for i, c in enumerate(sorted(scored[nid]))}
            candidates = []
            for (_s, country, cid), key in zip(rows, keys, strict=True):
                cap = cap_by_id[cid] if cid is not None else None
                comps = self.components(need, cap, country)
                floor = F.ON_TOPIC_MIN if cap is not None else F.FALLBACK_SHARE * F.ON_TOPIC_MIN
                candidates.append(
                    Candidate(
                        key,
                        position[country],
                        comps["language"],
                        comps["region"],
                        comps["topic"] >= floor,
                    )
                )
            placed = order(candidates, near_tie(self.weights))[:top_k]
            for r, at in enumerate(placed, 1):
                s, country, cid = rows[at.index]
                out.append((nid, r, country, cid, s))
        return out


class MemoisedReference(ReferenceScorer):
    """The reference with every factor's value kept by what it depends on (a country's
    experience of a set of themes, a pair of countries' relationship, a country's profile...):
    the fair per-pair baseline ``scripts/bench_match`` quotes the engine's speed-up against.
    Scores equal the reference's (the same code computes each value once)."""

    def __init__(
        self, corpus: Corpus, weights: Weights = DEFAULT_WEIGHTS, as_of: date | None = None
    ) -> None:
        super().__init__(corpus, weights, as_of)
        self._memo: dict[tuple[object, ...], object] = {}

    def _kept(self, key: tuple[object, ...], compute: Callable[[], _T]) -> _T:
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(_T, self._memo[key])

    def _subject(self, themes: Iterable[str]) -> tuple[str, ...]:
        key = tuple(themes)
        return self._kept(("subject", key), lambda: ReferenceScorer._subject(self, key))

    def profile(self, country: str) -> np.ndarray | None:
        return self._kept(("profile", country), lambda: ReferenceScorer.profile(self, country))

    def topic(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        held = cap.themes if cap is not None else country
        key = ("topic", need.themes, cap is not None, held)
        return self._kept(key, lambda: ReferenceScorer.topic(self, need, cap, country))

    def experience(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        key = ("experience", country, need.themes)
        return self._kept(key, lambda: ReferenceScorer.experience(self, need, cap, country))

    def relationship(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        key = ("relationship", need.country, country)
        return self._kept(key, lambda: ReferenceScorer.relationship(self, need, cap, country))

    def language(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        offer = cap.languages if cap is not None else None
        key = ("language", need.languages, need.country, offer, country)
        return self._kept(key, lambda: ReferenceScorer.language(self, need, cap, country))

    def follow_through(self, need: NeedItem, cap: CapacityItem | None, country: str) -> float:
        key = ("follow_through", country)
        return self._kept(key, lambda: ReferenceScorer.follow_through(self, need, cap, country))
