"""Study tours: from an accepted proposal to a planned, agreed, completed and closed exchange.

A tour (or another modality: technical assistance, expert or virtual exchange) is drafted
automatically from an accepted :class:`~sscmatch.models.Proposal` by :func:`draft_from_proposal`
and then edited by the secretariat and the focal points of the two countries.

The draft follows what the source documents describe as good practice (see
``../shared/research/*.json``, "process_insights"): the recipient's need gives the objective; the
host's capacity gives the agenda (presentations, field visits, meetings with beneficiaries,
discussion rather than only presentations) and ends with a closing session that agrees
commitments; delegations are tripartite where the topic calls for it; language is a cost item
(interpretation), not only a filter; funders are suggested from who funded similar exchanges.

**Tripartite rule.** A tour calls for a tripartite visiting delegation (government, employers and
workers) when one of its themes, or that theme's parent, is in :data:`TRIPARTITE_THEMES`: the
social-dialogue family, labour inspection and enforcement, hazardous-work lists, national action
plans, legislation and the ratification of ILO conventions. These are the subjects that ILO
standards (C144, C138 art. 3, C182 art. 4, C81) have the three constituents decide together.

**Cost.** ``travel = people × 2 × distance(capitals) × per_km`` (at least ``air_minimum`` a
ticket), ``per diem = people × (days + 1 travel day) × per_diem``, ``local transport = days ×
local_transport``, ``interpretation = days × interpretation`` when needed. Virtual exchanges
cost only interpretation. Defaults are :data:`DEFAULT_RATES`; the app setting
``SSCMATCH_TOUR_RATES`` (a JSON object) or the ``rates`` argument overrides any of them.

**Status.** :data:`TRANSITIONS` is the whole state machine: draft → proposed → agreed → scheduled
→ completed → closed, and cancelled from any open state. Completing a tour records it as an
:class:`~sscmatch.models.Exchange` (the graph the matcher learns from); closing it needs every
commitment decided (fulfilled or dropped).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from icalendar import Calendar, Event
from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.dates import PartialDateError, parse_partial_date, period_end
from sscmatch.db import BadVersion, expect_version
from sscmatch.models import (
    Capacity,
    Commitment,
    Exchange,
    Institution,
    Need,
    Proposal,
    StudyTour,
    utcnow,
)
from sscmatch.schemas import (
    MAX_DESCRIPTION,
    MAX_ITEMS,
    MAX_REF,
    MAX_TITLE,
    whole_number,
)
from sscmatch.vocab import Vocabulary, load_vocabulary
from sscmatch.workflow import ids
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.proposals.undo import reopen_for_cancelled_tour

# --------------------------------------------------------------------------- vocabulary

STATUSES = ("draft", "proposed", "agreed", "scheduled", "completed", "closed", "cancelled")
OPEN_STATUSES = ("draft", "proposed", "agreed", "scheduled")
TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "draft": ("proposed", "cancelled"),
    "proposed": ("agreed", "draft", "cancelled"),
    "agreed": ("scheduled", "proposed", "cancelled"),
    "scheduled": ("completed", "agreed", "cancelled"),
    "completed": ("closed",),
    "closed": (),
    "cancelled": (),
}
# Transitions the focal points of the host and visiting countries may make themselves (the
# secretariat and admins may make every legal one).
FOCAL_POINT_TRANSITIONS = frozenset({("draft", "proposed"), ("proposed", "agreed")})
EDITORS = ("secretariat", "admin")

MODALITIES = ("study_tour", "technical_assistance", "expert_exchange", "virtual_exchange")
SESSION_KINDS = (
    "opening",
    "presentation",
    "discussion",
    "field_visit",
    "beneficiaries",
    "closing",
    "travel",
    "other",
)
SIDES = ("visiting", "host")
TRIPARTITE = ("government", "employers", "workers")
TRIPARTITE_THEMES = frozenset(
    {
        "social-dialogue",
        "tripartite-dialogue",
        "trade-union-engagement",
        "employer-engagement",
        "enforcement",
        "labour-inspection",
        "hazardous-work-lists",
        "national-action-plans",
        "legislation",
        "ratification-ilo-conventions",
    }
)
# Below this intelligibility between the best pair of languages, the tour needs interpretation.
INTERPRETATION_THRESHOLD = 0.7
# A tour is planned at least this far ahead (time to brief the delegation and book travel).
LEAD_DAYS = 30
DEFAULT_DAYS = {"study_tour": 3, "technical_assistance": 5, "expert_exchange": 3}
VIRTUAL_DAYS = 2

DEFAULT_RATES: Mapping[str, Any] = {
    "currency": "USD",
    "air_per_km": 0.12,  # economy return fare per km of one-way great-circle distance, per leg
    "air_minimum": 300.0,  # smallest return ticket
    "per_diem": 220.0,  # lodging and meals per person per night (UN-style DSA order of size)
    "local_transport": 150.0,  # per day, for the whole delegation (field visits)
    "interpretation": 900.0,  # per day, a pair of interpreters
    "delegation_size": 4,  # when the delegation is not named yet
}


class TourError(ValueError):
    """Bad input for a study tour; the message says what is wrong."""

    status = 400


class TourNotFound(TourError):
    status = 404


class TourForbidden(TourError):
    """The user may not change this record (403)."""

    status = 403


class TourConflict(TourError):
    """The change does not fit the record's state (409); a stale version is StaleVersion."""

    status = 409


MAX_DAYS = 60
MAX_SESSIONS = 40
MAX_MEMBERS = 100
MAX_LANGUAGES = 20
MAX_TOUR_DAYS = 366


def _shown(value: Any) -> str:
    """A value quoted in a message, cut short (a message must not echo megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _limited(value: Any, limit: int, what: str) -> str:
    """``value`` as stripped text of at most ``limit`` characters, else TourError."""
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise TourError(f"{what} is too long ({len(text)} characters; at most {limit})")
    return text


class Actor(Protocol):
    """Who acts: the signed-in user (``web.auth.CurrentUser`` fits) or a test stand-in."""

    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...

    @property
    def country(self) -> str | None: ...


@dataclass(frozen=True)
class User:
    """A plain :class:`Actor` for commands and tests."""

    id: int | None
    role: str
    country: str | None = None


# --------------------------------------------------------------------------- rules


def themes_of(session: Session, tour: StudyTour) -> list[str]:
    """The tour's themes: the need's, then the capacity's (the table has no column of its own)."""
    found: list[str] = []
    for model, key in ((Need, tour.need), (Capacity, tour.capacity)):
        row = session.get(model, key) if key else None
        for theme in getattr(row, "themes", []) if row else []:
            if theme not in found:
                found.append(theme)
    return found


def needs_tripartite(themes: Sequence[str], vocab: Vocabulary) -> bool:
    """Whether a topic calls for a tripartite delegation (see the module's rule)."""
    for theme in themes:
        parent = vocab.themes[theme].parent if theme in vocab.themes else None
        if theme in TRIPARTITE_THEMES or parent in TRIPARTITE_THEMES:
            return True
    return False


def delegation_problems(
    delegation: Sequence[Mapping[str, Any]], themes: Sequence[str], vocab: Vocabulary
) -> list[str]:
    """What is missing from the visiting delegation (empty when it is fine)."""
    if not needs_tripartite(themes, vocab):
        return []
    present = {m.get("constituency") for m in delegation if m.get("side", "visiting") == "visiting"}
    missing = [c for c in TRIPARTITE if c not in present]
    if not missing:
        return []
    return ["this topic calls for a tripartite visiting delegation; missing: " + ", ".join(missing)]


def rates(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The cost rates: :data:`DEFAULT_RATES` with ``overrides`` applied (unknown keys refused)."""
    merged = dict(DEFAULT_RATES)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_RATES:
            raise TourError(f"unknown cost rate {key!r} (known: {', '.join(DEFAULT_RATES)})")
        if key != "currency" and (not isinstance(value, int | float) or value < 0):
            raise TourError(f"cost rate {key!r} must be a number ≥ 0, got {value!r}")
        merged[key] = value
    return merged


def estimate_cost(
    vocab: Vocabulary,
    host: str,
    visiting: str,
    *,
    people: int,
    days: int,
    interpretation: bool,
    modality: str = "study_tour",
    rate_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A cost estimate with its items, the rates used and the total (rounded to whole units).

    >>> from sscmatch.vocab import load_vocabulary
    >>> c = estimate_cost(load_vocabulary(), "ARG", "ARG", people=2, days=3, interpretation=False)
    >>> [i["item"] for i in c["items"]], c["total"]
    (['travel', 'per_diem', 'local_transport'], 2810)
    """
    r = rates(rate_overrides)
    try:
        km = vocab.distance_km(host, visiting)
    except KeyError:
        km = None
    people = max(people, 0) or int(r["delegation_size"])
    items: list[dict[str, Any]] = []
    virtual = modality == "virtual_exchange"
    if not virtual:
        ticket = max(float(r["air_minimum"]), 2 * (km or 0.0) * float(r["air_per_km"]))
        items.append(
            {
                "item": "travel",
                "amount": round(people * ticket),
                "basis": f"{people} × return ticket {round(ticket)}"
                + (f" ({round(km)} km between capitals)" if km is not None else ""),
            }
        )
        nights = days + 1
        items.append(
            {
                "item": "per_diem",
                "amount": round(people * nights * float(r["per_diem"])),
                "basis": f"{people} × {nights} nights × {r['per_diem']}",
            }
        )
        items.append(
            {
                "item": "local_transport",
                "amount": round(days * float(r["local_transport"])),
                "basis": f"{days} days × {r['local_transport']}",
            }
        )
    if interpretation:
        items.append(
            {
                "item": "interpretation",
                "amount": round(days * float(r["interpretation"])),
                "basis": f"{days} days × {r['interpretation']}",
            }
        )
    return {
        "currency": r["currency"],
        "distance_km": round(km) if km is not None else None,
        "people": people,
        "days": days,
        "items": items,
        "total": sum(int(i["amount"]) for i in items),
        "rates": r,
    }


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


def _window(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    try:
        return (
            parse_partial_date(start) if start else None,
            period_end(end) if end else None,
        )
    except PartialDateError:
        return None, None


def choose_dates(
    capacity: Capacity | None, need: Need | None, today: date, days: int
) -> tuple[date | None, date | None, str]:
    """The first Monday window of ``days`` days inside both sides' availability, from
    ``today + LEAD_DAYS``; (None, None, why) when the windows do not overlap enough."""
    lows = [today + timedelta(days=LEAD_DAYS)]
    highs: list[date] = []
    for a, b in (
        _window(capacity.available_from, capacity.available_to) if capacity else (None, None),
        _window(need.desired_from, need.desired_to) if need else (None, None),
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


def build_agenda(
    capacity: Capacity | None,
    need: Need | None,
    host_institution: str | None,
    days: int,
    modality: str,
) -> list[dict[str, Any]]:
    """Days of sessions drawn from the capacity; the last day ends with the closing session."""
    title = capacity.title if capacity else "the host's experience"
    place = host_institution or ""
    need_title = need.title if need else "the visiting country's need"

    def s(start: str, end: str, kind: str, text: str, where: str = place) -> dict[str, Any]:
        return {"start": start, "end": end, "kind": kind, "title": text, "place": where}

    if modality == "virtual_exchange":
        return [
            {
                "day": 1,
                "sessions": [
                    s("14:00", "14:30", "opening", "Opening: objectives and expectations", ""),
                    s("14:30", "16:00", "presentation", f"Presentation: {title}", ""),
                    s("16:00", "17:00", "discussion", f"Discussion: applying it to {need_title}"),
                ],
            },
            {
                "day": 2,
                "sessions": [
                    s("14:00", "15:30", "discussion", "Questions from the visiting team", ""),
                    s("15:30", "17:00", "closing", "Closing session: agree commitments", ""),
                ],
            },
        ]
    agenda: list[dict[str, Any]] = [
        {
            "day": 1,
            "sessions": [
                s("09:00", "09:45", "opening", "Opening and introductions: objectives of the tour"),
                s("09:45", "12:30", "presentation", f"Presentation: {title}"),
                s("14:00", "16:30", "discussion", f"Working discussion: {need_title}"),
            ],
        }
    ]
    for day in range(2, max(days, 2)):
        agenda.append(
            {
                "day": day,
                "sessions": [
                    s("08:30", "12:30", "field_visit", f"Field visit: {title} in practice", ""),
                    s(
                        "14:00",
                        "16:00",
                        "beneficiaries",
                        "Meeting with beneficiaries, local authorities and social partners",
                        "",
                    ),
                    s("16:30", "17:30", "discussion", "Daily review: lessons for the visitors"),
                ],
            }
        )
    agenda.append(
        {
            "day": max(days, 2),
            "sessions": [
                s("09:00", "11:00", "discussion", "Adapting the practice: peer discussion"),
                s(
                    "11:30",
                    "13:00",
                    "closing",
                    "Closing session: agree commitments, owners and due dates",
                ),
            ],
        }
    )
    return agenda


def suggest_funders(
    session: Session,
    vocab: Vocabulary,
    themes: Sequence[str],
    countries: Sequence[str] = (),
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Partners that funded similar exchanges, best first.

    Each exchange's partners that are cooperation agencies, UN agencies or foreign governments
    earn the exchange's similarity: 1 per shared theme, 0.5 per theme with the same parent, plus
    0.5 when the exchange involved one of ``countries``. Ties break by name.
    """
    wanted = set(themes)
    families = {vocab.themes[t].parent or t for t in themes if t in vocab.themes}
    institutions = {i.id: i for i in session.exec(select(Institution))}
    scores: dict[str, float] = {}
    counts: dict[str, int] = {}
    for ex in session.exec(select(Exchange)):
        same = len(wanted & set(ex.themes))
        family = sum(
            1
            for t in ex.themes
            if t not in wanted and t in vocab.themes and (vocab.themes[t].parent or t) in families
        )
        if not same and not family:
            continue
        involved = set(ex.providers) | set(ex.recipients) | set(ex.participants)
        weight = same + 0.5 * family + (0.5 if involved & set(countries) else 0.0)
        for partner in ex.partners:
            inst = institutions.get(partner)
            if inst is None or not _funds(inst, involved):
                continue
            scores[partner] = scores.get(partner, 0.0) + weight
            counts[partner] = counts.get(partner, 0) + 1
    ranked = sorted(scores, key=lambda p: (-scores[p], institutions[p].name))
    return [
        {
            "id": p,
            "name": institutions[p].name,
            "score": round(scores[p], 2),
            "exchanges": counts[p],
        }
        for p in ranked[:limit]
    ]


def _funds(inst: Institution, involved: set[str]) -> bool:
    if inst.constituency in ("cooperation_agency", "un_agency"):
        return True
    return inst.constituency == "government" and inst.country not in involved


# --------------------------------------------------------------------------- drafting


def _default_delegation(
    session: Session, need: Need | None, country: str, tripartite: bool
) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    lead = session.get(Institution, need.institution) if need and need.institution else None
    if lead is not None:
        members.append(
            {
                "side": "visiting",
                "name": "",
                "role": "Head of delegation",
                "institution": lead.name,
                "constituency": lead.constituency,
            }
        )
    wanted = list(TRIPARTITE) if tripartite else (["government"] if lead is None else [])
    for constituency in wanted:
        if any(m["constituency"] == constituency for m in members):
            continue
        inst = session.exec(
            select(Institution)
            .where(Institution.country == country, Institution.constituency == constituency)
            .order_by(Institution.id)
        ).first()
        members.append(
            {
                "side": "visiting",
                "name": "",
                "role": "Head of delegation" if not members else "Delegate",
                "institution": inst.name if inst else "",
                "constituency": constituency,
            }
        )
    return members


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

    Returns the proposal's existing tour when there is one, so calling it twice is harmless.
    The caller commits.
    """
    if proposal.id is None:
        raise TourError("the proposal must be stored before a tour is drafted from it")
    existing = session.exec(
        select(StudyTour).where(StudyTour.proposal_id == proposal.id).order_by(StudyTour.id)
    ).first()
    if existing is not None:
        return existing
    return _draft(
        session,
        need=session.get(Need, proposal.need),
        capacity=session.get(Capacity, proposal.capacity),
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
    delegation = _default_delegation(session, need, visiting, tripartite)
    if host_inst is not None:
        delegation.append(
            {
                "side": "host",
                "name": "",
                "role": "Host institution",
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
    host_name = vocab.countries[host].name() if host in vocab.countries else host
    visiting_name = vocab.countries[visiting].name() if visiting in vocab.countries else visiting
    title = f"{visiting_name} learns from {host_name}: {capacity.title if capacity else ''}".strip()
    tour = StudyTour(
        id=ids.next_id(session, StudyTour, f"T-{today.year}-"),
        proposal_id=proposal_id,
        need=need.id if need else None,
        capacity=capacity.id if capacity else None,
        modality=modality,
        title=title[:300],
        objective=_objective(need),
        expected_change=(
            f"{visiting_name} adapts {capacity.title if capacity else 'the practice'} "
            "to its context and agrees at the closing session who does what, by when."
        ),
        host_country=host,
        visiting_country=visiting,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
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


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Page:
    items: list[StudyTour]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def get_tour(session: Session, tour_id: str) -> StudyTour:
    tour = session.get(StudyTour, tour_id.strip())
    if tour is None:
        raise TourNotFound(f"no study tour {tour_id!r}")
    return tour


def list_tours(
    session: Session,
    *,
    status: str | None = None,
    country: str | None = None,
    page: int = 1,
    size: int = 25,
) -> Page:
    """Tours newest first, filtered by status and by a country on either side."""
    if status and status not in STATUSES:
        raise TourError(f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
    if page < 1:
        raise TourError("page must be 1 or more")
    query = select(StudyTour)
    counter = select(func.count()).select_from(StudyTour)
    conditions = []
    if status:
        conditions.append(col(StudyTour.status) == status)
    if country:
        code = country.strip().upper()
        conditions.append(
            (col(StudyTour.host_country) == code) | (col(StudyTour.visiting_country) == code)
        )
    for c in conditions:
        query = query.where(c)
        counter = counter.where(c)
    total = session.exec(counter).one()
    rows = session.exec(
        query.order_by(col(StudyTour.created_at).desc(), col(StudyTour.id).desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return Page(list(rows), page, size, int(total))


def can_edit(tour: StudyTour, user: Actor) -> bool:
    """The secretariat and admins edit every tour; a focal point edits its own country's."""
    if user.role in EDITORS:
        return True
    return user.role == "focal_point" and user.country in (tour.host_country, tour.visiting_country)


def allowed_transitions(tour: StudyTour, user: Actor) -> list[str]:
    """The statuses ``user`` may move ``tour`` to now."""
    if not can_edit(tour, user):
        return []
    targets = TRANSITIONS.get(tour.status, ())
    if user.role in EDITORS:
        return list(targets)
    return [t for t in targets if (tour.status, t) in FOCAL_POINT_TRANSITIONS]


# --------------------------------------------------------------------------- changing


@dataclass
class TourChanges:
    """Fields an edit may change (None: leave as it is)."""

    title: str | None = None
    modality: str | None = None
    objective: str | None = None
    expected_change: str | None = None
    start: str | None = None
    end: str | None = None
    languages: list[str] | None = None
    interpretation: bool | None = None
    agenda: list[dict[str, Any]] | None = None
    delegation: list[dict[str, Any]] | None = None
    funders: list[str] | None = None
    recalculate_cost: bool = False
    clear_dates: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _check_guard(tour: StudyTour, user: Actor, version: int | None) -> None:
    """May ``user`` change ``tour``, and is ``version`` the one it is at (else StaleVersion)?"""
    if not can_edit(tour, user):
        raise TourForbidden(
            "only the secretariat and the focal points of the host and visiting countries "
            "may change this study tour"
        )
    try:
        expect_version(tour, version)
    except BadVersion:
        raise TourError("the version the change started from is required") from None


def _parse_day(text: str, what: str) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise TourError(f"{what} must be a date YYYY-MM-DD, got {_shown(text)}") from None
    return value


def validate_agenda(agenda: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A clean copy of the agenda, or a TourError naming the first problem."""
    out: list[dict[str, Any]] = []
    if len(agenda) > MAX_DAYS:
        raise TourError(f"an agenda has at most {MAX_DAYS} days")
    for d in agenda:
        day = whole_number(d.get("day", 0), 1, MAX_DAYS)
        if day is None:
            raise TourError(f"agenda day {_shown(d.get('day'))} must be between 1 and {MAX_DAYS}")
        if len(d.get("sessions") or []) > MAX_SESSIONS:
            raise TourError(f"day {day}: at most {MAX_SESSIONS} sessions a day")
        sessions = []
        for s in d.get("sessions") or []:
            start, end = str(s.get("start", "")), str(s.get("end", ""))
            for t in (start, end):
                if not _is_time(t):
                    raise TourError(f"day {day}: time {_shown(t)} is not HH:MM")
            if end <= start:
                raise TourError(f"day {day}: session {s.get('title')!r} ends before it starts")
            kind = str(s.get("kind") or "other")
            if kind not in SESSION_KINDS:
                raise TourError(
                    f"day {day}: unknown session kind {_shown(kind)} "
                    f"(expected one of {', '.join(SESSION_KINDS)})"
                )
            title = _limited(s.get("title"), MAX_TITLE, f"day {day}: a session's title")
            if not title:
                raise TourError(f"day {day}: a session at {start} has no title")
            sessions.append(
                {
                    "start": start,
                    "end": end,
                    "kind": kind,
                    "title": title,
                    "place": _limited(s.get("place"), MAX_TITLE, f"day {day}: a place"),
                }
            )
        sessions.sort(key=lambda x: x["start"])
        out.append({"day": day, "sessions": sessions})
    days = [d["day"] for d in out]
    if len(set(days)) != len(days):
        raise TourError("each agenda day may appear only once")
    return sorted(out, key=lambda x: x["day"])


def _is_time(text: str) -> bool:
    if len(text) != 5 or text[2] != ":":
        return False
    hh, mm = whole_number(text[:2], 0, 23), whole_number(text[3:], 0, 59)  # ASCII digits only
    return hh is not None and mm is not None and " " not in text


def validate_delegation(delegation: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    if len(delegation) > MAX_MEMBERS:
        raise TourError(f"a delegation has at most {MAX_MEMBERS} members")
    for i, m in enumerate(delegation, 1):
        side = str(m.get("side") or "visiting")
        if side not in SIDES:
            raise TourError(f"delegation member {i}: side must be 'visiting' or 'host'")
        constituency = _limited(m.get("constituency") or "other", MAX_REF, "a constituency")
        name = _limited(m.get("name"), MAX_TITLE, f"delegation member {i}: the name")
        role = _limited(m.get("role"), MAX_TITLE, f"delegation member {i}: the role")
        institution = _limited(m.get("institution"), MAX_TITLE, f"member {i}: the institution")
        if not (name or role or institution):
            raise TourError(f"delegation member {i}: give a name, a role or an institution")
        out.append(
            {
                "side": side,
                "name": name,
                "role": role,
                "institution": institution,
                "constituency": constituency,
            }
        )
    return out


def update_tour(
    session: Session,
    tour_id: str,
    changes: TourChanges,
    *,
    version: int | None,
    user: Actor,
    vocab: Vocabulary | None = None,
    rate_overrides: Mapping[str, Any] | None = None,
) -> StudyTour:
    """Apply an edit (all or nothing), bump the version and audit it. The caller commits."""
    vocab = vocab or load_vocabulary()
    tour = get_tour(session, tour_id)
    _check_guard(tour, user, version)
    if tour.status in ("closed", "cancelled"):
        raise TourConflict(f"study tour {tour.id} is {tour.status}; it can no longer be edited")
    before = snapshot(tour)
    values: dict[str, Any] = {}
    if changes.title is not None:
        values["title"] = _limited(changes.title, MAX_TITLE, "the title")
        if not values["title"]:
            raise TourError("the title may not be empty")
    if changes.modality is not None:
        if changes.modality not in MODALITIES:
            raise TourError(
                f"unknown modality {changes.modality!r} (expected one of {', '.join(MODALITIES)})"
            )
        values["modality"] = changes.modality
    for name in ("objective", "expected_change"):
        value = getattr(changes, name)
        if value is not None:
            values[name] = _limited(value, MAX_DESCRIPTION, f"the {name.replace('_', ' ')}")
    start = tour.start if changes.start is None else (changes.start.strip() or None)
    end = tour.end if changes.end is None else (changes.end.strip() or None)
    if changes.clear_dates:
        start = end = None
    if start:
        start_day = _parse_day(start, "start")
        end_day = _parse_day(end, "end") if end else start_day
        if end_day < start_day:
            raise TourError(f"the tour ends ({end_day}) before it starts ({start_day})")
        if (end_day - start_day).days >= MAX_TOUR_DAYS:
            raise TourError(f"a tour lasts at most {MAX_TOUR_DAYS} days")
        start, end = start_day.isoformat(), end_day.isoformat()
    elif end:
        raise TourError("give a start date with the end date")
    values["start"], values["end"] = start, end
    if changes.languages is not None:
        if len(changes.languages) > MAX_LANGUAGES:
            raise TourError(f"at most {MAX_LANGUAGES} languages")
        bad = [_shown(x) for x in changes.languages if vocab.language_code(x) is None]
        if bad:
            raise TourError(f"unknown language code(s): {', '.join(bad)} (ISO 639-1, e.g. es)")
        values["languages"] = [vocab.language_code(x) for x in changes.languages]
    if changes.interpretation is not None:
        values["interpretation"] = changes.interpretation
    if changes.agenda is not None:
        values["agenda"] = validate_agenda(changes.agenda)
    if changes.delegation is not None:
        values["delegation"] = validate_delegation(changes.delegation)
    if changes.funders is not None:
        if len(changes.funders) > MAX_ITEMS:
            raise TourError(f"at most {MAX_ITEMS} funders")
        funders = [_limited(f, MAX_TITLE, "a funder") for f in changes.funders]
        values["funders"] = [f for f in funders if f]
    for key, value in values.items():
        setattr(tour, key, value)
    if changes.recalculate_cost:
        tour.cost = cost_for(tour, vocab, rate_overrides)
    tour.updated_at = utcnow()
    tour.updated_by = user.id
    session.add(tour)
    session.flush()
    record_event(
        session,
        user_id=user.id,
        action="update",
        entity="study_tour",
        entity_id=tour.id,
        before=before,
        after=snapshot(tour),
    )
    return tour


def tour_days(tour: StudyTour) -> int:
    if tour.start and tour.end:
        return (date.fromisoformat(tour.end) - date.fromisoformat(tour.start)).days + 1
    return max([int(d.get("day", 1)) for d in tour.agenda] or [1])


def cost_for(
    tour: StudyTour, vocab: Vocabulary, rate_overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The tour's cost estimate recomputed from its delegation, days and interpretation."""
    visitors = sum(1 for m in tour.delegation if m.get("side", "visiting") == "visiting")
    return estimate_cost(
        vocab,
        tour.host_country,
        tour.visiting_country,
        people=visitors,
        days=tour_days(tour),
        interpretation=tour.interpretation,
        modality=tour.modality,
        rate_overrides=rate_overrides,
    )


def transition(
    session: Session,
    tour_id: str,
    to: str,
    *,
    version: int | None,
    user: Actor,
    vocab: Vocabulary | None = None,
    today: date | None = None,
    note: str | None = None,
) -> StudyTour:
    """Move a tour along :data:`TRANSITIONS`; completing it records the Exchange."""
    vocab = vocab or load_vocabulary()
    tour = get_tour(session, tour_id)
    _check_guard(tour, user, version)
    if to not in STATUSES:
        raise TourError(f"unknown status {to!r} (expected one of {', '.join(STATUSES)})")
    legal = TRANSITIONS[tour.status]
    if to not in legal:
        hint = f"it can go to: {', '.join(legal)}" if legal else "it is final"
        raise TourConflict(f"a {tour.status} study tour cannot become {to}; {hint}")
    if to not in allowed_transitions(tour, user):
        raise TourForbidden(f"only the secretariat may move a {tour.status} study tour to {to}")
    if to in ("scheduled", "completed") and not (tour.start and tour.end):
        raise TourConflict(f"set the tour's start and end dates before it is {to}")
    if to == "completed":
        today = today or datetime.now(UTC).date()
        if tour.start and date.fromisoformat(tour.start) > today:
            raise TourConflict(
                f"the tour starts on {tour.start}; it cannot be completed before it took place"
            )
    if to == "closed":
        open_ones = session.exec(
            select(Commitment.id).where(
                Commitment.study_tour == tour.id,
                col(Commitment.status).in_(("pending", "in_progress")),
            )
        ).all()
        if open_ones:
            raise TourConflict(
                "close the tour once every commitment is fulfilled or dropped; still open: "
                + ", ".join(open_ones)
            )
    before = snapshot(tour)
    tour.status = to
    tour.updated_at = utcnow()
    tour.updated_by = user.id
    session.add(tour)
    if to == "completed":
        record_exchange(session, tour, user.id)
    if to == "cancelled":  # its need goes back to matching (issue 14)
        reopen_for_cancelled_tour(session, tour, user.id)
    session.flush()
    record_event(
        session,
        user_id=user.id,
        action=f"status:{to}",
        entity="study_tour",
        entity_id=tour.id,
        before=before,
        after=snapshot(tour),
        note=note,
    )
    return tour


def exchange_id(tour: StudyTour) -> str:
    return f"X-{tour.id}"


def record_exchange(session: Session, tour: StudyTour, user_id: int | None) -> Exchange:
    """The completed tour as an Exchange (provider = host, recipient = visitor), linked to it;
    the tour's commitments are attached to the exchange so the matcher dates them."""
    ex = session.get(Exchange, exchange_id(tour))
    before = snapshot(ex)
    if ex is None:
        ex = Exchange(id=exchange_id(tour), start=tour.start or "", created_by=user_id)
    ex.title = tour.title
    ex.description = tour.objective
    ex.start = tour.start or datetime.now(UTC).date().isoformat()
    ex.end = tour.end
    ex.providers = [tour.host_country]
    ex.recipients = [tour.visiting_country]
    ex.partners = list(tour.funders)
    ex.themes = themes_of(session, tour) or ["peer-learning"]
    ex.modality = tour.modality
    ex.languages = list(tour.languages)
    ex.direction = "one_way"
    ex.source = f"study tour {tour.id}"
    ex.study_tour = tour.id
    ex.updated_by = user_id
    ex.updated_at = utcnow()
    session.add(ex)
    session.flush()
    for k in session.exec(select(Commitment).where(Commitment.study_tour == tour.id)):
        if k.exchange is None:
            k.exchange = ex.id
            session.add(k)
    record_event(
        session,
        user_id=user_id,
        action="create" if before is None else "update",
        entity="exchange",
        entity_id=ex.id,
        before=before,
        after=snapshot(ex),
        note=f"recorded from completed study tour {tour.id}",
    )
    return ex


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
        raise TourForbidden("only the secretariat may open a study tour without a proposal")
    need = session.get(Need, need_id.strip())
    capacity = session.get(Capacity, capacity_id.strip())
    if need is None:
        raise TourNotFound(f"no need {need_id!r}")
    if capacity is None:
        raise TourNotFound(f"no capacity {capacity_id!r}")
    if need.country is None or capacity.country is None:
        raise TourError(
            "a study tour joins two countries; this record belongs to an international body"
        )
    if need.country == capacity.country:
        raise TourError("the need and the capacity belong to the same country")
    if "draft" in (need.status, capacity.status):
        # A tour is seen by everyone signed in; a draft only by its country (visibility).
        raise TourConflict(
            "a study tour is planned from an endorsed need and a published capacity, not from "
            "a draft"
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


# --------------------------------------------------------------------------- iCalendar


def agenda_ics(tour: StudyTour, stamp: datetime | None = None, domain: str = "sscmatch") -> str:
    """The agenda as an iCalendar (RFC 5545) text: one VEVENT per session, in floating local
    time of the host (times are as the agenda states them, where the tour takes place).

    Written by the ``icalendar`` package, which escapes and folds every value (a title holding
    a lone carriage return or a semicolon cannot break a line or add a property)."""
    if not tour.start:
        raise TourConflict("set the tour's start date before exporting its agenda")
    first = date.fromisoformat(tour.start)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{domain}//study tours//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", tour.title)
    for d in tour.agenda:
        day = first + timedelta(days=int(d.get("day", 1)) - 1)
        for i, s in enumerate(d.get("sessions") or [], 1):
            event = Event()
            event.add("uid", f"{tour.id}-d{d.get('day')}-s{i}@{domain}")
            event.add("dtstamp", stamp)
            event.add("dtstart", datetime.combine(day, _clock(str(s["start"]))))
            event.add("dtend", datetime.combine(day, _clock(str(s["end"]))))
            event.add("summary", str(s.get("title", "")))
            event.add("categories", [str(s.get("kind", "other")).upper()])
            if s.get("place"):
                event.add("location", str(s["place"]))
            event.add("description", tour.title)
            calendar.add_component(event)
    return bytes(calendar.to_ical()).decode("utf-8")


def _clock(text: str) -> time:
    """A stored agenda time ``HH:MM`` (validated when the agenda was saved)."""
    return time(int(text[:2]), int(text[3:5]))
