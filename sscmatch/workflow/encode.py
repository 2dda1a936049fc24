"""Encode stored records and vocabulary facts into the engine's input (``matching.Corpus``).

The engine never sees the database or the vocabulary files: this module is its only door.
Records of international and regional bodies (``Institution.international``) are not matched as
their seat country's own (see data/README.md); vetoes come from the secretariat's ``Veto`` rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlmodel import Session, col, select

from sscmatch.dates import parse_partial_date
from sscmatch.matching import (
    CapacityItem,
    CommitmentItem,
    Corpus,
    CountryInfo,
    ExchangeItem,
    NeedItem,
    ThemeInfo,
)
from sscmatch.models import Capacity, Commitment, Exchange, Institution, Need, Theme, Veto
from sscmatch.text import DEFAULT_MODEL, model
from sscmatch.vocab import Vocabulary
from sscmatch.workflow import vectors


def _created(text: str | None, stamp: object) -> date | None:
    """A record's creation day: its ``created`` field, else when it was entered."""
    if text:
        return parse_partial_date(text)
    return stamp.date() if hasattr(stamp, "date") else None


def countries(vocab: Vocabulary) -> dict[str, CountryInfo]:
    return {
        code: CountryInfo(
            code=code,
            region=c.region,
            subregion=c.subregion,
            intermediate_region=c.intermediate_region,
            groupings=c.groupings,
            languages=c.languages,
            name=c.name("en"),
            dac_since=c.dac_since,
            region_codes=(c.region_code, c.subregion_code, c.intermediate_region_code),
        )
        for code, c in vocab.countries.items()
    }


def intelligibility(vocab: Vocabulary) -> dict[tuple[str, str], float]:
    """Partial credits of mutually intelligible language pairs, keyed by the sorted pair."""
    pairs = {}
    for pair, score in vocab.intelligible_pairs().items():
        a, b = sorted(pair)
        pairs[(a, b)] = score
    return pairs


COOPERATION_ROOT = "cooperation"
"""The root of the themes that name a way of cooperating (peer learning, triangular
cooperation, SSC management...) rather than what is learnt (``ThemeInfo.subject``)."""


def themes(session: Session, vocab: Vocabulary) -> dict[str, ThemeInfo]:
    parents = {t.id: t.parent for t in vocab.themes.values()}
    extras = list(session.exec(select(Theme)))
    parents.update({x.id: x.parent for x in extras})

    def root(theme: str) -> str:
        seen = {theme}
        while parents.get(theme) and parents[theme] not in seen:
            theme = parents[theme]  # type: ignore[assignment]
            seen.add(theme)
        return theme

    found = {
        t.id: ThemeInfo(
            id=t.id,
            parent=t.parent,
            terms=(*t.labels.values(), *t.synonyms),
            label=t.label("en"),
            subject=root(t.id) != COOPERATION_ROOT,
        )
        for t in vocab.themes.values()
    }
    for extra in extras:
        labels = [extra.label_en, extra.label_es, extra.label_pt, extra.label_fr, extra.label_ru]
        found[extra.id] = ThemeInfo(
            id=extra.id,
            parent=extra.parent,
            terms=(*(x for x in labels if x), *extra.synonyms),
            label=extra.label_en,
            subject=root(extra.id) != COOPERATION_ROOT,
        )
    return found


def theme_terms(info: Mapping[str, ThemeInfo]) -> dict[str, tuple[str, ...]]:
    """Every theme's labels and synonyms (what the ``words`` text model looks for)."""
    return {t.id: (*t.terms, t.label) for t in info.values()}


def build_corpus(session: Session, vocab: Vocabulary, *, text: bool = True) -> Corpus:
    """Everything the matcher may look at (``as_of`` is applied by the engine). With ``text``,
    the stored text vectors, made first where missing or out of date (``vectors.refresh``)."""
    international = set(session.exec(select(Institution.id).where(col(Institution.international))))
    capacities = [
        CapacityItem(
            id=c.id,
            country=c.country,
            title=c.title,
            description=c.description or "",
            themes=tuple(c.themes),
            languages=tuple(c.languages),
            institution=c.institution,
            maturity=c.maturity,
            max_per_year=c.max_per_year,
            available_from=c.available_from_date,  # the first day of the period
            available_to=c.available_to_date,
            status=c.status,
            created=_created(c.created, c.created_at),
        )
        for c in session.exec(select(Capacity).order_by(Capacity.id))
        if c.country is not None and c.institution not in international
    ]
    needs = [
        NeedItem(
            id=n.id,
            country=n.country,
            title=n.title,
            description=n.description or "",
            themes=tuple(n.themes),
            languages=tuple(n.languages),
            institution=n.institution,
            desired_from=n.desired_from_date,
            desired_to=n.desired_to_date,
            status=n.status,
            created=_created(n.created, n.created_at),
        )
        for n in session.exec(select(Need).order_by(Need.id))
        if n.country is not None and n.institution not in international
    ]
    exchange_rows = list(session.exec(select(Exchange).order_by(Exchange.id)))
    starts = {e.id: e.start_date for e in exchange_rows}
    exchanges = [
        ExchangeItem(
            id=e.id,
            start=starts[e.id],
            providers=tuple(e.providers),
            recipients=tuple(e.recipients),
            participants=tuple(e.participants),
            partners=tuple(e.partners),
            themes=tuple(e.themes),
            title=e.title or "",
            description=e.description or "",
        )
        for e in exchange_rows
    ]
    commitments = [
        CommitmentItem(
            id=k.id,
            owner_country=k.owner_country,
            status=k.status,
            exchange=k.exchange,
            start=starts.get(k.exchange) if k.exchange else None,
        )
        for k in session.exec(select(Commitment).order_by(Commitment.id))
        if k.owner_country is not None  # a body's commitment is no country's follow-through
    ]
    vetoes = frozenset((v.provider, v.recipient) for v in session.exec(select(Veto)))
    text_model = model(DEFAULT_MODEL)
    if text:
        vectors.refresh(session, text_model)
    return Corpus(
        countries=countries(vocab),
        themes=themes(session, vocab),
        capacities=capacities,
        needs=needs,
        exchanges=exchanges,
        commitments=commitments,
        vetoes=vetoes,
        intelligibility=intelligibility(vocab),
        language_names={code: lang.name for code, lang in vocab.languages.items()},
        vectors=vectors.load(session, text_model.name) if text else {},
        text_scale=text_model.scale,
    )
