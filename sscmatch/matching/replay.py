"""Replaying history with time splits: the cases that ``evaluation`` and ``calibration`` use.

For a cut-off year T (1 January of T) the matcher sees ``corpus_as_of(corpus, T)``: exchanges
and commitments that started before T, capacities and needs created before T (undated ones stay,
as in the engine). The *cases* of T are the real exchanges that started in [T, T + window) with
themes and a southern provider: one case per (exchange, recipient that did not also provide).

The knowledge base does not record the need an exchange answered, so each case gets a
*pseudo-need*: country = the recipient, themes = the exchange's themes, languages = the
recipient's, title and description = the exchange's (with country names already blanked out by
the loader, ``workflow/evalsets.py``), text vector = the exchange's. Pseudo-needs are added,
open, to the corpus of T beside the real needs visible at T.

The *pool* of a case is every southern country (on T) with a published capacity visible at T or
an exchange it provided before T, minus the recipient and vetoed pairs: the countries the engine
could ever propose. Every method ranks within the same pool.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sscmatch.matching import factors as F
from sscmatch.matching.engine import PreparedCorpus, prepare
from sscmatch.matching.indexes import southern
from sscmatch.matching.model import Corpus, ExchangeItem, NeedItem


def cutoff_date(year: int) -> date:
    return date(year, 1, 1)


def corpus_as_of(corpus: Corpus, as_of: date) -> Corpus:
    """The corpus as it stood before ``as_of``: later exchanges, commitments, capacities and
    needs removed (undated capacities, needs and commitments stay, as in the engine)."""
    exchanges = [e for e in corpus.exchanges if e.start < as_of]
    return replace(
        corpus,
        exchanges=exchanges,
        commitments=[k for k in corpus.commitments if F.visible(k.start, as_of)],
        capacities=[c for c in corpus.capacities if F.visible(c.created, as_of)],
        needs=[n for n in corpus.needs if F.visible(n.created, as_of)],
    )


@dataclass(frozen=True, kw_only=True)
class Case:
    """A recipient of a real exchange that started in [cut-off, cut-off + window)."""

    id: str
    cutoff: int
    exchange: str
    recipient: str
    providers: frozenset[str]
    repeat: bool
    need: NeedItem


def _members(e: ExchangeItem) -> set[str]:
    return {*e.providers, *e.recipients, *e.participants}


def relevant_providers(corpus: Corpus, exchange: ExchangeItem) -> frozenset[str]:
    """The exchange's providers that were southern when it started."""
    return frozenset(p for p in exchange.providers if southern(corpus, p, exchange.start))


def pseudo_need(corpus: Corpus, exchange: ExchangeItem, recipient: str) -> NeedItem:
    """The need a recipient of ``exchange`` stands for (see the module docstring)."""
    themes = tuple(dict.fromkeys(exchange.themes))
    labels = []
    for t in themes:
        info = corpus.themes.get(t)
        labels.append(info.label if info and info.label else t.replace("-", " "))
    country = corpus.countries.get(recipient)
    return NeedItem(
        id=f"eval:{exchange.id}:{recipient}",
        country=recipient,
        title=exchange.title or "; ".join(labels),
        description=exchange.description,
        themes=themes,
        languages=country.languages if country else (),
        status="open",
    )


def make_cases(
    corpus: Corpus, exchanges: Sequence[ExchangeItem], cutoffs: Sequence[int], window: int
) -> list[Case]:
    """Cases of every cut-off; ``corpus.exchanges`` is the history that decides *repeat*."""
    out: list[Case] = []
    for year in cutoffs:
        start, end = cutoff_date(year), cutoff_date(year + window)
        past = [e for e in corpus.exchanges if e.start < start]
        for e in sorted(exchanges, key=lambda x: (x.start, x.id)):
            providers = relevant_providers(corpus, e)
            if not (start <= e.start < end and providers and e.recipients and e.themes):
                continue
            for r in dict.fromkeys(e.recipients):
                if r in e.providers:
                    continue
                repeat = any(r in _members(p) and providers & _members(p) for p in past)
                out.append(
                    Case(
                        id=f"{year}:{e.id}:{r}",
                        cutoff=year,
                        exchange=e.id,
                        recipient=r,
                        providers=providers,
                        repeat=repeat,
                        need=pseudo_need(corpus, e, r),
                    )
                )
    return out


@dataclass(eq=False)
class Snapshot:
    """The corpus of one cut-off with its pseudo-needs, prepared once for every method, and the
    counts the simple rules use."""

    year: int
    corpus: Corpus
    prepared: PreparedCorpus
    cases: list[Case]
    candidates: frozenset[str] = frozenset()
    provided: Counter[str] = field(default_factory=Counter)  # exchanges provided
    directed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (provider, recipient)
    shared: Counter[tuple[str, str]] = field(default_factory=Counter)  # sorted pair
    themes_of: dict[str, set[str]] = field(default_factory=dict)  # offered or provided themes

    def pool(self, case: Case) -> list[str]:
        vetoed = self.corpus.vetoes
        return sorted(
            c for c in self.candidates if c != case.recipient and (c, case.recipient) not in vetoed
        )


def snapshot(corpus: Corpus, year: int, cases: list[Case], *, family: bool = True) -> Snapshot:
    """The corpus as of ``year`` with the cases' pseudo-needs (and their texts' vectors: the
    exchange's), prepared for ranking. ``family=False`` lifts the theme-family constraint."""
    as_of = cutoff_date(year)
    seen = corpus_as_of(corpus, as_of)
    vectors = dict(corpus.vectors)
    for c in cases:
        v = corpus.vectors.get(c.exchange)
        if v is not None:
            vectors[c.need.id] = v
    seen = replace(seen, needs=[*seen.needs, *(c.need for c in cases)], vectors=vectors)
    snap = Snapshot(
        year=year, corpus=seen, prepared=prepare(seen, as_of=as_of, family=family), cases=cases
    )
    candidates: set[str] = set()
    for cap in seen.capacities:
        if cap.status == "published" and cap.country and southern(seen, cap.country, as_of):
            candidates.add(cap.country)
            snap.themes_of.setdefault(cap.country, set()).update(cap.themes)
    for e in seen.exchanges:
        assert e.start < as_of  # the split never leaks
        for p in set(e.providers):
            snap.provided[p] += 1
            snap.themes_of.setdefault(p, set()).update(e.themes)
            if southern(seen, p, as_of):
                candidates.add(p)
            for r in set(e.recipients) - set(e.providers):
                snap.directed[(p, r)] += 1
        members = sorted(_members(e))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                snap.shared[(a, b)] += 1
    snap.candidates = frozenset(candidates)
    return snap
