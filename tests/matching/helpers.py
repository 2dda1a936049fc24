"""Deterministic small corpora for the engine tests."""

from __future__ import annotations

from datetime import date

import pytest

from sscmatch.matching import PreparedCorpus, replay
from sscmatch.matching.model import (
    CapacityItem,
    CommitmentItem,
    Corpus,
    CountryInfo,
    ExchangeItem,
    NeedItem,
    ThemeInfo,
)

THEMES = {
    t.id: t
    for t in (
        ThemeInfo(
            id="social-protection",
            label="Social protection",
            terms=("Social protection", "protección social", "proteção social"),
        ),
        ThemeInfo(
            id="conditional-cash-transfers",
            parent="social-protection",
            label="Conditional cash transfers",
            terms=(
                "Conditional cash transfers",
                "transferencias condicionadas",
                "transferências condicionadas",
                "CCT",
            ),
        ),
        ThemeInfo(
            id="social-assistance",
            parent="social-protection",
            label="Social assistance",
            terms=("Social assistance", "asistencia social"),
        ),
        ThemeInfo(id="enforcement", label="Enforcement", terms=("Enforcement",)),
        ThemeInfo(
            id="labour-inspection",
            parent="enforcement",
            label="Labour inspection",
            terms=("Labour inspection", "inspección del trabajo", "inspeção do trabalho"),
        ),
        ThemeInfo(id="sectors-forms", label="Sectors and forms"),
        ThemeInfo(id="agriculture", parent="sectors-forms", label="Agriculture"),
        ThemeInfo(
            id="commercial-sexual-exploitation",
            parent="sectors-forms",
            label="Commercial sexual exploitation",
        ),
        ThemeInfo(id="cooperation", label="Cooperation", subject=False),
        ThemeInfo(id="peer-learning", parent="cooperation", label="Peer learning", subject=False),
    )
}

COUNTRIES = {
    c.code: c
    for c in (
        CountryInfo(
            code="BRA",
            name="Brazil",
            region="Americas",
            subregion="Latin America and the Caribbean",
            intermediate_region="South America",
            languages=("pt",),
        ),
        CountryInfo(
            code="CRI",
            name="Costa Rica",
            region="Americas",
            subregion="Latin America and the Caribbean",
            intermediate_region="Central America",
            languages=("es",),
        ),
        CountryInfo(
            code="GTM",
            name="Guatemala",
            region="Americas",
            subregion="Latin America and the Caribbean",
            intermediate_region="Central America",
            languages=("es",),
        ),
        CountryInfo(
            code="HTI",
            name="Haiti",
            region="Americas",
            subregion="Latin America and the Caribbean",
            intermediate_region="Caribbean",
            groupings=frozenset({"SIDS", "LDC"}),
            languages=("fr", "ht"),
        ),
        CountryInfo(
            code="FJI",
            name="Fiji",
            region="Oceania",
            subregion="Melanesia",
            groupings=frozenset({"SIDS"}),
            languages=("en",),
        ),
        CountryInfo(
            code="ARG",
            name="Argentina",
            region="Americas",
            subregion="Latin America and the Caribbean",
            intermediate_region="South America",
            languages=("es",),
        ),
        CountryInfo(
            code="ESP",
            name="Spain",
            region="Europe",
            subregion="Southern Europe",
            languages=("es",),
            dac_since=1991,
        ),
        CountryInfo(
            code="KGZ",
            name="Kyrgyzstan",
            region="Asia",
            subregion="Central Asia",
            groupings=frozenset({"LLDC"}),
            languages=("ky", "ru"),
        ),
    )
}


def small_corpus(**changes: object) -> Corpus:
    caps = [
        CapacityItem(
            id="C-BRA-1",
            country="BRA",
            institution="bra-mds",
            title="Bolsa Família conditional cash transfers",
            description="Transferências condicionadas com registro único",
            themes=("conditional-cash-transfers",),
            maturity="institutionalised",
            max_per_year=2,
        ),
        CapacityItem(
            id="C-CRI-1",
            country="CRI",
            institution="cri-imas",
            title="Avancemos: transferencias condicionadas",
            description="Programa de transferencias condicionadas para adolescentes",
            themes=("conditional-cash-transfers",),
            maturity="scaled",
            max_per_year=1,
        ),
        CapacityItem(
            id="C-CRI-2",
            country="CRI",
            title="Labour inspection of child labour",
            themes=("labour-inspection",),
            maturity="pilot",
        ),
        CapacityItem(
            id="C-FJI-1",
            country="FJI",
            title="Social assistance for islands",
            themes=("social-assistance",),
            languages=("en",),
        ),
        CapacityItem(
            id="C-GTM-1",
            country="GTM",
            title="Cash transfers in rural areas",
            themes=("conditional-cash-transfers",),
            status="draft",
        ),
    ]
    needs = [
        NeedItem(
            id="N-GTM-1",
            country="GTM",
            title="Transferencias condicionadas",
            description="Diseño de un programa de transferencias condicionadas",
            themes=("conditional-cash-transfers",),
        ),
        NeedItem(
            id="N-HTI-1",
            country="HTI",
            title="Social protection floor",
            themes=("social-protection",),
        ),
        NeedItem(
            id="N-KGZ-1",
            country="KGZ",
            title="Labour inspection reform",
            themes=("labour-inspection",),
            status="closed",
        ),
    ]
    exchanges = [
        ExchangeItem(
            id="E1",
            start=date(2008, 3, 1),
            providers=("CRI",),
            recipients=("GTM",),
            themes=("conditional-cash-transfers",),
        ),
        ExchangeItem(
            id="E2",
            start=date(2012, 5, 1),
            providers=("CRI",),
            recipients=("HTI",),
            themes=("conditional-cash-transfers",),
        ),
        ExchangeItem(
            id="E3",
            start=date(2015, 6, 1),
            providers=("BRA",),
            recipients=("HTI",),
            themes=("social-assistance",),
        ),
        ExchangeItem(
            id="E4",
            start=date(2016, 1, 1),
            participants=("BRA", "GTM", "FJI"),
            themes=("labour-inspection",),
        ),
        ExchangeItem(
            id="E5",
            start=date(2020, 1, 1),
            providers=("BRA",),
            recipients=("GTM",),
            themes=("conditional-cash-transfers",),
        ),
    ]
    commitments = [
        CommitmentItem(
            id="K1", owner_country="CRI", status="fulfilled", exchange="E1", start=date(2008, 3, 1)
        ),
        CommitmentItem(
            id="K2", owner_country="CRI", status="dropped", exchange="E2", start=date(2012, 5, 1)
        ),
        CommitmentItem(
            id="K3", owner_country="CRI", status="fulfilled", exchange="E2", start=date(2012, 5, 1)
        ),
        CommitmentItem(
            id="K4", owner_country="BRA", status="pending", exchange="E5", start=date(2020, 1, 1)
        ),
    ]
    fields: dict[str, object] = {
        "countries": COUNTRIES,
        "themes": THEMES,
        "capacities": caps,
        "needs": needs,
        "exchanges": exchanges,
        "commitments": commitments,
        "intelligibility": {("es", "pt"): 0.7, ("fr", "ht"): 0.5},
    }
    fields.update(changes)
    return Corpus(**fields)  # type: ignore[arg-type]


def record_prepares(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Corpus, date | None]]:
    """Every corpus the replay prepares for ranking, with its ``as_of``, as it happens."""
    seen: list[tuple[Corpus, date | None]] = []
    real = replay.prepare

    def spy(corpus: Corpus, as_of: date | None = None, **kw: object) -> PreparedCorpus:
        seen.append((corpus, as_of))
        return real(corpus, as_of=as_of, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(replay, "prepare", spy)
    return seen
