"""A straightforward per-pair implementation of the scores: the specification of the engine.

It looks at one (need, capacity) pair at a time with plain Python loops over the records (it only
keeps, per country, the list of exchanges the country took part in and its graph neighbours).
Tests check that the fast engine gives the same scores and rankings; ``scripts/bench_match`` times
it on a sample of pairs to measure the speed-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

from sscmatch.matching import factors as F
from sscmatch.matching.graph import indirect_proximity, members
from sscmatch.matching.model import (
    DEFAULT_WEIGHTS,
    FACTORS,
    CapacityItem,
    Corpus,
    ExchangeItem,
    NeedItem,
    Weights,
)

RANK_DIGITS = 12
"""Scores are compared after rounding to this many digits, so that the fast engine and the
reference (which add the same numbers in different orders) break ties the same way."""


def reference_date(exchanges: Iterable[ExchangeItem], as_of: date | None) -> date:
    """The date ages are measured from: ``as_of``, else the latest visible exchange start."""
    if as_of is not None:
        return as_of
    return max((e.start for e in exchanges), default=date(2000, 1, 1))


def exclusion(
    corpus: Corpus,
    need: NeedItem,
    capacity: CapacityItem,
    as_of: date | None,
    taxonomy: F.Taxonomy | None = None,
) -> str | None:
    """Why a pair may not be proposed (the hard constraints), or None when it may."""
    if need.status != "open":
        return f"need {need.id} is not open (status {need.status})"
    if not F.visible(need.created, as_of):
        return f"need {need.id} did not exist yet on {as_of}"
    if capacity.status != "published":
        return f"capacity {capacity.id} is not published (status {capacity.status})"
    if not F.visible(capacity.created, as_of):
        return f"capacity {capacity.id} did not exist yet on {as_of}"
    if capacity.country == need.country:
        return "a country is never matched with itself"
    if (capacity.country, need.country) in corpus.vetoes:
        return f"the secretariat vetoed {capacity.country} helping {need.country}"
    if (capacity.id, need.id) in corpus.vetoes:
        return f"the secretariat vetoed capacity {capacity.id} for need {need.id}"
    if not F.windows_overlap(
        capacity.available_from, capacity.available_to, need.desired_from, need.desired_to
    ):
        return "the capacity is not available when the need wants it"
    taxonomy = taxonomy or F.Taxonomy.of(corpus.themes)
    if F.taxonomy_score(need.themes, capacity.themes, taxonomy) <= 0:
        return "no theme of the capacity is in the need's theme family"
    return None


class ReferenceScorer:
    """Scores pairs one at a time, straight from the records."""

    def __init__(
        self, corpus: Corpus, weights: Weights = DEFAULT_WEIGHTS, as_of: date | None = None
    ) -> None:
        self.corpus = corpus
        self.weights = weights
        self.as_of = as_of
        self.taxonomy = F.Taxonomy.of(corpus.themes)
        self.terms = F.TermIndex(corpus.themes)
        self.exchanges = [e for e in corpus.exchanges if as_of is None or e.start < as_of]
        self.commitments = [c for c in corpus.commitments if F.visible(c.start, as_of)]
        self.reference = reference_date(self.exchanges, as_of)
        self.by_country: dict[str, list[ExchangeItem]] = {}
        self.neighbours: dict[str, set[str]] = {}
        for e in self.exchanges:
            ms = members(e)
            for c in ms:
                self.by_country.setdefault(c, []).append(e)
                self.neighbours.setdefault(c, set()).update(x for x in ms if x != c)

    # ------------------------------------------------------------------ factors
    def _langs(self, langs: tuple[str, ...], country: str) -> tuple[str, ...]:
        if langs:
            return langs
        info = self.corpus.countries.get(country)
        return info.languages if info else ()

    def _decay(self, e: ExchangeItem) -> float:
        return F.decay(e.start, self.reference, self.weights.experience_half_life)

    def theme(self, need: NeedItem, cap: CapacityItem) -> float:
        tax = F.taxonomy_score(need.themes, cap.themes, self.taxonomy)
        text = F.text_similarity(
            F.text_key(need.title, need.description, self.terms),
            F.text_key(cap.title, cap.description, self.terms),
        )
        share = self.weights.theme_text_share
        return (1.0 - share) * tax + share * text

    def language(self, need: NeedItem, cap: CapacityItem) -> float:
        return F.language_score(
            self._langs(need.languages, need.country),
            self._langs(cap.languages, cap.country),
            self.corpus.intelligibility,
            self.weights.interpretation,
        )

    def region(self, need: NeedItem, cap: CapacityItem) -> float:
        countries = self.corpus.countries
        return F.region_score(countries.get(need.country), countries.get(cap.country))[0]

    def experience(self, need: NeedItem, cap: CapacityItem) -> float:
        best = 0.0
        for t in dict.fromkeys(need.themes):
            total = 0.0
            for e in self.by_country.get(cap.country, ()):
                if cap.country in e.providers:
                    role = F.PROVIDER_ROLE
                elif cap.country in e.participants:
                    role = F.PARTICIPANT_ROLE
                else:
                    continue
                rel = max((self.taxonomy.similarity(t, u) for u in e.themes), default=0.0)
                total += role * self._decay(e) * rel
            best = max(best, F.saturate(total))
        return best

    def relationship(self, need: NeedItem, cap: CapacityItem) -> float:
        rec, prov = need.country, cap.country
        direct = 0.0
        for e in self.by_country.get(prov, ()):
            if rec not in members(e):
                continue
            tie = F.DIRECTED_TIE if (prov in e.providers and rec in e.recipients) else F.SHARED_TIE
            direct += tie * self._decay(e)
        nr, np_ = self.neighbours.get(rec, set()), self.neighbours.get(prov, set())
        common = nr & np_
        aa = sum(1.0 / math.log(len(self.neighbours[w])) for w in common)
        union = len(nr | np_)
        jac = len(common) / union if union else 0.0
        indirect = indirect_proximity(aa, jac)
        return 1.0 - (1.0 - F.saturate(direct)) * (1.0 - F.INDIRECT_SHARE * indirect)

    def maturity(self, need: NeedItem, cap: CapacityItem) -> float:
        return F.maturity_score(cap.maturity)

    def follow_through(self, need: NeedItem, cap: CapacityItem) -> float:
        mine = [c for c in self.commitments if c.owner_country == cap.country]
        fulfilled = sum(1 for c in mine if c.status == "fulfilled")
        decided = fulfilled + sum(1 for c in mine if c.status == "dropped")
        return F.follow_through_score(fulfilled, decided)

    # ------------------------------------------------------------------ scores
    def components(self, need: NeedItem, cap: CapacityItem) -> dict[str, float]:
        return {name: float(getattr(self, name)(need, cap)) for name in FACTORS}

    def score(self, need: NeedItem, cap: CapacityItem) -> float:
        comps = self.components(need, cap)
        w = self.weights
        return sum(w.factor(k) * comps[k] for k in FACTORS) / w.total

    def exclusion(self, need: NeedItem, cap: CapacityItem) -> str | None:
        return exclusion(self.corpus, need, cap, self.as_of, self.taxonomy)

    # ------------------------------------------------------------------ ranking
    def rank(
        self, need_ids: Iterable[str] | None = None, top_k: int = 5
    ) -> list[tuple[str, int, str, str, float]]:
        """(need id, rank, provider, capacity id, score) with the engine's ranking rules."""
        needs = sorted(self.corpus.needs, key=lambda n: n.id)
        caps = sorted(self.corpus.capacities, key=lambda c: (c.country, c.id))
        scored: dict[str, list[tuple[float, str, str]]] = {}
        for need in needs:
            rows = [
                (self.score(need, cap), cap.country, cap.id)
                for cap in caps
                if self.exclusion(need, cap) is None
            ]
            if rows:
                scored[need.id] = rows
        winner: dict[str, str] = {}
        wins: dict[str, int] = {}
        for nid, rows in scored.items():
            best = min(rows, key=lambda r: (-round(r[0], RANK_DIGITS), r[1], r[2]))
            winner[nid] = best[1]
            wins[best[1]] = wins.get(best[1], 0) + 1
        total = len(scored)
        lam = self.weights.hub_damping
        wanted = None if need_ids is None else set(need_ids)
        out: list[tuple[str, int, str, str, float]] = []
        for nid, rows in scored.items():
            if wanted is not None and nid not in wanted:
                continue
            final = []
            for s, country, cid in rows:
                other_wins = wins.get(country, 0) - (1 if winner[nid] == country else 0)
                d = 1.0 / (1.0 + lam * other_wins / total)
                final.append((d * s, country, cid))
            final.sort(key=lambda r: (-round(r[0], RANK_DIGITS), r[1], r[2]))
            seen: set[str] = set()
            for s, country, cid in final:
                if country in seen:
                    continue
                seen.add(country)
                out.append((nid, len(seen), country, cid, s))
                if len(seen) == top_k:
                    break
        return out
