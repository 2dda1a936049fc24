"""Drafting a study tour from an accepted proposal (or a need and a capacity): modality, days,
languages and interpretation, dates inside both sides' availability, delegation, agenda, cost and
suggested funders.

The draft follows what the source documents describe as good practice (see
``../shared/research/*.json``, "process_insights"): the recipient's need gives the objective; the
host's capacity gives the agenda (presentations, field visits, meetings with beneficiaries,
discussion rather than only presentations) and ends with a closing session that agrees
commitments; delegations are tripartite where the topic calls for it; language is a cost item
(interpretation), not only a filter; funders are suggested from who funded similar exchanges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from sscmatch.dates import PartialDate, window
from sscmatch.models import Capacity, Institution, Need, Proposal, StudyTour
from sscmatch.relations import exchange_country, exchange_partner, exchange_theme
from sscmatch.vocab import Vocabulary, load_vocabulary
from sscmatch.workflow import ids
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import EDITORS, N_, Actor
from sscmatch.workflow.tours.base import (
    MODALITIES,
    TourConflict,
    TourError,
    TourForbidden,
    TourNotFound,
    _shown,
)
from sscmatch.workflow.tours.costing import estimate_cost
from sscmatch.workflow.tours.programme import (
    EXPECTED_CHANGE,
    HOST_INSTITUTION,
    THE_PRACTICE,
    build_agenda,
    default_delegation,
    needs_tripartite,
)


@dataclass(frozen=True)
class DraftSettings:
    """What a tour is drafted with, from the instance: its day (``config.today``: the setting
    ``TODAY`` when pinned, as in demos and tests) and its cost-rate overrides (``TOUR_RATES``).
    Every way a tour comes to be drafted (the tours' page, an acceptance on any page or in the
    API) passes them; without them, the clock's date and the documented rates."""

    today: date | None = None
    rate_overrides: Mapping[str, Any] | None = None


# Below this intelligibility between the best pair of languages, the tour needs interpretation.
INTERPRETATION_THRESHOLD = 0.7
# A tour is planned at least this far ahead (time to brief the delegation and book travel).
LEAD_DAYS = 30
DEFAULT_DAYS = {"study_tour": 3, "technical_assistance": 5, "expert_exchange": 3}
VIRTUAL_DAYS = 2
# Partners that may fund a tour: agencies, and governments not taking part in it.
FUNDER_KINDS = ("cooperation_agency", "un_agency", "government")


def plan_languages(
    vocab: Vocabulary, host_langs: Sequence[str], visiting_langs: Sequence[str]
) -> tuple[list[str], bool]:
    """Working languages and whether interpretation is needed.

    The best-understood pair decides: same language or intelligibility ≥
    :data:`INTERPRETATION_THRESHOLD` means no interpretation.

    >>> from sscmatch.vocab import load_vocabulary
    >>> v = load_vocabulary()
    >>> plan_languages(v, ["es"], ["es"]), plan_languages(v, ["en"], ["es"])
    ((['es'], False), (['en', 'es'], True))
    """
    if not host_langs or not visiting_langs:
        return list(dict.fromkeys([*host_langs, *visiting_langs])), False
    best = max(
        ((vocab.intelligibility(h, v), h, v) for h in host_langs for v in visiting_langs),
        key=lambda t: t[0],
    )
    score, h, v = best
    if score >= 1.0:
        return [h], False
    return [h, v], score < INTERPRETATION_THRESHOLD


def choose_dates(
    capacity: Capacity | None, need: Need | None, today: date, days: int
) -> tuple[date | None, date | None, str]:
    """The first Monday window of ``days`` days inside both sides' availability, from
    ``today + LEAD_DAYS``; (None, None, why) when the windows do not overlap enough."""
    lows = [today + timedelta(days=LEAD_DAYS)]
    highs: list[date] = []
    for a, b in (
        window(capacity.available_from, capacity.available_to) if capacity else (None, None),
        window(need.desired_from, need.desired_to) if need else (None, None),
    ):
        if a:
            lows.append(a)
        if b:
            highs.append(b)
    low = max(lows)
    start = low + timedelta(days=(7 - low.weekday()) % 7)
    end = start + timedelta(days=days - 1)
    high = min(highs) if highs else None
    if high is not None and end > high:
        return (
            None,
            None,
            f"no {days}-day window from {low.isoformat()} fits both sides' availability "
            f"(ends {high.isoformat()}); agree dates by hand",
        )
    return start, end, "first Monday inside both sides' availability"


def suggest_funders(
    session: Session,
    vocab: Vocabulary,
    themes: Sequence[str],
    countries: Sequence[str] = (),
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Partners that funded similar exchanges, best first.

    Each exchange's partners that are cooperation agencies, UN agencies or foreign governments
    (not taking part in it) earn the exchange's similarity: 1 per shared theme, 0.5 per theme
    with the same parent, plus 0.5 when the exchange involved one of ``countries``. Ties break
    by name. A theme or partner an exchange lists twice counts once.

    Counted by the database from the association rows: at 200,000 exchanges a tour's themes
    are shared by tens of thousands, whose lists took a second to read and decode.
    """
    wanted = set(themes)
    families = {vocab.themes[t].parent or t for t in themes if t in vocab.themes}
    similar = wanted | {t for t, info in vocab.themes.items() if (info.parent or t) in families}
    if not similar:
        return []
    theme = exchange_theme.c.theme
    # each exchange with a similar theme, weighed by its themes (1 shared, 0.5 same family)
    weighed = (
        sql_select(
            exchange_theme.c.exchange,
            func.sum(case((theme.in_(sorted(wanted)), 1.0), else_=0.5)).label("weight"),
        )
        .where(theme.in_(sorted(similar)))
        .group_by(exchange_theme.c.exchange)
        .subquery()
    )
    place = exchange_country.alias("place")
    involves = (
        sql_select(place.c.exchange)
        .where(place.c.exchange == weighed.c.exchange, place.c.country.in_(list(countries)))
        .exists()
    )
    inst = Institution.__table__  # type: ignore[attr-defined]
    takes_part = (
        sql_select(place.c.exchange)
        .where(place.c.exchange == weighed.c.exchange, place.c.country == inst.c.country)
        .exists()
    )
    bonus = case((involves, 0.5), else_=0.0) if countries else literal(0.0)
    found = session.execute(
        sql_select(
            inst.c.id,
            inst.c.name,
            func.sum(weighed.c.weight + bonus),
            func.count(),
        )
        .select_from(weighed)
        .join(exchange_partner, exchange_partner.c.exchange == weighed.c.exchange)
        .join(inst, inst.c.id == exchange_partner.c.partner)
        .where(
            inst.c.constituency.in_(FUNDER_KINDS),
            or_(inst.c.constituency != "government", ~takes_part),
        )
        .group_by(inst.c.id, inst.c.name)
    ).all()
    ranked = sorted(found, key=lambda r: (-float(r[2]), r[1]))
    return [
        {"id": p, "name": name, "score": round(float(score), 2), "exchanges": int(count)}
        for p, name, score, count in ranked[:limit]
    ]


def draft_from_proposal(
    session: Session,
    proposal: Proposal,
    user_id: int | None,
    *,
    vocab: Vocabulary | None = None,
    rate_overrides: Mapping[str, Any] | None = None,
    today: date | None = None,
) -> StudyTour:
    """Draft a study tour for an accepted proposal (the review workflow calls this on accept).

    Returns the proposal's tour when it has one that is not cancelled, so calling it twice is
    harmless; a cancelled one (its acceptance reverted, or the tour called off) is history: the
    proposal accepted again gets a new draft, not the cancelled tour. The caller commits.
    """
    if proposal.id is None:
        raise TourError(N_("the proposal must be stored before a tour is drafted from it"))
    # Hold the proposal's row (an UPDATE that changes nothing) before looking for its tour: of
    # two drafts at the same moment the second waits for the first's commit, then finds its
    # tour, where both found none and drafted two tours from one accepted match.
    session.execute(
        update(Proposal).where(col(Proposal.id) == proposal.id).values(id=col(Proposal.id))
    )
    existing = session.exec(
        select(StudyTour)
        .where(StudyTour.proposal_id == proposal.id, StudyTour.status != "cancelled")
        .order_by(StudyTour.id)
    ).first()
    if existing is not None:
        return existing
    return _draft(
        session,
        need=session.get(Need, proposal.need),
        capacity=session.get(Capacity, proposal.capacity) if proposal.capacity else None,
        host=proposal.provider,
        visiting=proposal.recipient,
        proposal_id=proposal.id,
        user_id=user_id,
        vocab=vocab or load_vocabulary(),
        rate_overrides=rate_overrides,
        today=today or datetime.now(UTC).date(),
    )


def _draft(
    session: Session,
    *,
    need: Need | None,
    capacity: Capacity | None,
    host: str,
    visiting: str,
    proposal_id: int | None,
    user_id: int | None,
    vocab: Vocabulary,
    rate_overrides: Mapping[str, Any] | None,
    today: date,
) -> StudyTour:
    modality = _modality(need, capacity)
    days = VIRTUAL_DAYS if modality == "virtual_exchange" else DEFAULT_DAYS.get(modality, 3)
    themes = list(
        dict.fromkeys([*(need.themes if need else []), *(capacity.themes if capacity else [])])
    )
    tripartite = needs_tripartite(themes, vocab)
    host_inst = (
        session.get(Institution, capacity.institution)
        if capacity and capacity.institution
        else None
    )
    host_langs = list(capacity.languages if capacity and capacity.languages else [])
    host_langs = host_langs or list(
        vocab.countries[host].languages if host in vocab.countries else []
    )
    visiting_langs = list(need.languages if need and need.languages else [])
    visiting_langs = visiting_langs or list(
        vocab.countries[visiting].languages if visiting in vocab.countries else []
    )
    languages, interpretation = plan_languages(vocab, host_langs, visiting_langs)
    start, end, _why = choose_dates(capacity, need, today, days)
    delegation = default_delegation(session, need, visiting, tripartite)
    if host_inst is not None:
        delegation.append(
            {
                "side": "host",
                "name": "",
                "role": HOST_INSTITUTION,
                "institution": host_inst.name,
                "constituency": host_inst.constituency,
            }
        )
    visitors = sum(1 for m in delegation if m["side"] == "visiting")
    cost = estimate_cost(
        vocab,
        host,
        visiting,
        people=visitors,
        days=days,
        interpretation=interpretation,
        modality=modality,
        rate_overrides=rate_overrides,
    )
    funders = suggest_funders(session, vocab, themes, (host, visiting), limit=3)
    visiting_name = vocab.countries[visiting].name() if visiting in vocab.countries else visiting
    # The title names the practice; the countries are the tour's host and visiting fields, which
    # every page shows beside it (a title naming them too read "Guatemala learns from Peru" twice).
    title = capacity.title if capacity and capacity.title else need.title if need else host
    tour = StudyTour(
        id=ids.next_id(session, StudyTour, f"T-{today.year}-"),
        proposal_id=proposal_id,
        need=need.id if need else None,
        capacity=capacity.id if capacity else None,
        modality=modality,
        title=title[:300],
        objective=_objective(need),
        expected_change=EXPECTED_CHANGE
        % {
            "visiting_country": visiting_name,
            "subject": capacity.title if capacity else THE_PRACTICE,
        },
        host_country=host,
        visiting_country=visiting,
        start=PartialDate(start, "day") if start else None,
        end=PartialDate(end, "day") if end else None,
        languages=languages,
        interpretation=interpretation,
        agenda=build_agenda(capacity, need, host_inst.name if host_inst else None, days, modality),
        delegation=delegation,
        cost=cost,
        funders=[f["id"] for f in funders],
        status="draft",
        created_by=user_id,
        updated_by=user_id,
    )
    session.add(tour)
    session.flush()
    record_event(
        session,
        user_id=user_id,
        action="draft",
        entity="study_tour",
        entity_id=tour.id,
        after=snapshot(tour),
        note=f"drafted from proposal {proposal_id}" if proposal_id else "drafted",
    )
    return tour


def _objective(need: Need | None) -> str:
    if need is None:
        return ""
    text = need.title
    if need.description:
        text += ". " + need.description
    return text


def _modality(need: Need | None, capacity: Capacity | None) -> str:
    offered = list(capacity.modalities) if capacity and capacity.modalities else []
    asked = list(need.modalities) if need and need.modalities else []
    for m in asked:
        if m in MODALITIES and (not offered or m in offered):
            return m
    for m in offered:
        if m in MODALITIES:
            return m
    return "study_tour"


def create_tour(
    session: Session,
    *,
    user: Actor,
    need_id: str,
    capacity_id: str,
    vocab: Vocabulary | None = None,
    today: date | None = None,
    rate_overrides: Mapping[str, Any] | None = None,
) -> StudyTour:
    """A tour for a need and a capacity without a stored proposal (drafted the same way)."""
    if user.role not in EDITORS:
        raise TourForbidden(N_("only the secretariat may open a study tour without a proposal"))
    need = session.get(Need, need_id.strip())
    capacity = session.get(Capacity, capacity_id.strip())
    if need is None:
        raise TourNotFound(N_("no need %(id)s"), id=_shown(need_id))
    if capacity is None:
        raise TourNotFound(N_("no capacity %(id)s"), id=_shown(capacity_id))
    if need.country is None or capacity.country is None:
        raise TourError(
            N_("a study tour joins two countries; this record belongs to an international body")
        )
    if need.country == capacity.country:
        raise TourError(N_("the need and the capacity belong to the same country"))
    if "draft" in (need.status, capacity.status):
        # A tour is seen by everyone signed in; a draft only by its country (visibility).
        raise TourConflict(
            N_(
                "a study tour is planned from an endorsed need and a published capacity, not from "
                "a draft"
            )
        )
    return _draft(
        session,
        need=need,
        capacity=capacity,
        host=capacity.country,
        visiting=need.country,
        proposal_id=None,
        user_id=user.id,
        vocab=vocab or load_vocabulary(),
        rate_overrides=rate_overrides,
        today=today or datetime.now(UTC).date(),
    )
