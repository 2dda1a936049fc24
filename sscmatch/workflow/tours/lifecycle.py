"""A study tour's life: reading, editing and moving it through its states.

**Status.** :data:`TRANSITIONS` is the whole state machine: draft → proposed → agreed → scheduled
→ completed → closed, and cancelled from any open state. Completing a tour records it as an
:class:`~sscmatch.models.Exchange` (the graph the matcher learns from); closing it needs every
commitment decided (fulfilled or dropped).

**Undo and confirmation.** A step is undone by the step back (:func:`undone_by`: agreed →
proposed undoes proposed → agreed, and the other way round). The steps with no step back
(:data:`CONFIRMED_STEPS`: completed, closed, cancelled) cannot be undone, so the pages confirm them
first, saying what will happen; the others are taken at once and offer their undo.

**Agreement.** A tour is agreed when both countries have agreed to it: a focal point's "agreed"
records their side's (:mod:`.agreement`), and the tour moves when the other side has agreed too;
the secretariat's moves it at once (it records the agreement for both). Recording an agreement
moves the tour's version (two sides agreeing at once: the second is told the tour changed, and
on retry its agreement moves the tour); an edit of the tour's content clears the agreements given
before it; and a proposed tour found agreed by both sides moves on either side's "agreed".

**Editing** checks the whole edit and reports every problem at once (:class:`TourProblems`, each
naming its field): the dates (real days, in order, within :data:`MAX_TOUR_DAYS`, and inside the
need's window when it states one), the agenda (its days inside the tour), the delegation (known
sides and constituencies), the languages, and the funders (known institutions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.dates import PartialDate, PartialDateError, as_text, window
from sscmatch.db import BadVersion, expect_version
from sscmatch.enums import OPEN_COMMITMENT_STATUSES, OPEN_TOUR_STATUSES, TOUR_STATUSES
from sscmatch.models import Capacity, Commitment, Exchange, Institution, Need, StudyTour, utcnow
from sscmatch.schemas import MAX_DESCRIPTION, MAX_ITEMS, MAX_TITLE
from sscmatch.vocab import Vocabulary, load_vocabulary
from sscmatch.workflow.audit import change_status, record_event, snapshot
from sscmatch.workflow.base import EDITORS, N_, Actor, Page, can_edit, country_filter
from sscmatch.workflow.tours.agreement import (
    TourAlreadyAgreed,
    agreement,
    country_of,
    record_agreement,
    side_of,
)
from sscmatch.workflow.tours.base import (
    MAX_LANGUAGES,
    MAX_TOUR_DAYS,
    MODALITIES,
    Problem,
    TourBadFilter,
    TourConflict,
    TourError,
    TourForbidden,
    TourNotFound,
    TourProblems,
    _shown,
)
from sscmatch.workflow.tours.costing import cost_for
from sscmatch.workflow.tours.programme import validate_agenda, validate_delegation

STATUSES = TOUR_STATUSES
OPEN_STATUSES = OPEN_TOUR_STATUSES
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


def undone_by(before: str, after: str) -> str | None:
    """The status that undoes the step ``before`` → ``after`` (the step back, when
    :data:`TRANSITIONS` has it), or None: the step cannot be undone.

    >>> undone_by("proposed", "agreed"), undone_by("scheduled", "completed")
    ('proposed', None)
    """
    return before if before in TRANSITIONS.get(after, ()) else None


# The steps that cannot be undone: confirmed before they are taken (completed records the
# exchange the matcher learns from; closed and cancelled are final).
CONFIRMED_STEPS = frozenset(
    (before, after)
    for before, targets in TRANSITIONS.items()
    for after in targets
    if undone_by(before, after) is None
)


def themes_of(session: Session, tour: StudyTour) -> list[str]:
    """The tour's themes: the need's, then the capacity's (the table has no column of its own)."""
    found: list[str] = []
    for model, key in ((Need, tour.need), (Capacity, tour.capacity)):
        row = session.get(model, key) if key else None
        for theme in getattr(row, "themes", []) if row else []:
            if theme not in found:
                found.append(theme)
    return found


def get_tour(session: Session, tour_id: str) -> StudyTour:
    tour = session.get(StudyTour, tour_id.strip())
    if tour is None:
        raise TourNotFound(N_("no study tour %(id)s"), id=_shown(tour_id))
    return tour


def list_tours(
    session: Session,
    *,
    status: str | None = None,
    country: str | None = None,
    page: int = 1,
    size: int = 25,
) -> Page[StudyTour]:
    """Tours newest first, filtered by status and by a country on either side."""
    if status and status not in STATUSES:
        raise TourBadFilter(
            N_("unknown status %(value)s (expected one of %(known)s)"),
            value=_shown(status),
            known=", ".join(STATUSES),
        )
    if page < 1:
        raise TourBadFilter(N_("page must be 1 or more"))
    query = select(StudyTour)
    counter = select(func.count()).select_from(StudyTour)
    conditions = []
    if status:
        conditions.append(col(StudyTour.status) == status)
    code = country_filter(country, TourBadFilter)
    if code:
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


def can_edit_tour(tour: StudyTour, user: Actor) -> bool:
    """The secretariat and admins edit every tour; a focal point of either country edits it."""
    return can_edit(user, tour.host_country, tour.visiting_country)


def allowed_transitions(tour: StudyTour, user: Actor) -> list[str]:
    """The statuses ``user`` may move ``tour`` to now."""
    if not can_edit_tour(tour, user):
        return []
    targets = TRANSITIONS.get(tour.status, ())
    if user.role in EDITORS:
        return list(targets)
    return [t for t in targets if (tour.status, t) in FOCAL_POINT_TRANSITIONS]


def step_refusal(
    session: Session, tour: StudyTour, to: str, today: date | None = None
) -> TourConflict | None:
    """Why ``tour`` cannot move to ``to`` now, whoever asks (its dates, its commitments), or
    None when it may: what :func:`transition` refuses, and what a page says beside a step it
    shows disabled. ``to`` is one of the statuses :data:`TRANSITIONS` allows from the tour's."""
    if to in ("scheduled", "completed") and not (tour.start and tour.end):
        return TourConflict(N_("set the tour's start and end dates before it is %(to)s"), to=to)
    if to == "completed":
        today = today or datetime.now(UTC).date()
        if tour.start and tour.start.first > today:
            return TourConflict(
                N_("the tour starts on %(day)s; it cannot be completed before it took place"),
                day=tour.start,
            )
    if to == "closed":
        open_ones = session.exec(
            select(Commitment.id).where(
                Commitment.study_tour == tour.id,
                col(Commitment.status).in_(OPEN_COMMITMENT_STATUSES),
            )
        ).all()
        if open_ones:
            return TourConflict(
                N_(
                    "close the tour once every commitment is fulfilled or dropped; "
                    "still open: %(ids)s"
                ),
                ids=", ".join(open_ones),
            )
    return None


def steps(
    session: Session, tour: StudyTour, user: Actor, today: date | None = None
) -> list[tuple[str, TourConflict | None]]:
    """Every status ``user`` may move ``tour`` to (:func:`allowed_transitions`), each with why it
    cannot be taken now (:func:`step_refusal`, or their side has already agreed), or None when
    it can."""
    return [
        (to, agreement_refusal(session, tour, to, user) or step_refusal(session, tour, to, today))
        for to in allowed_transitions(tour, user)
    ]


def agreement_refusal(
    session: Session, tour: StudyTour, to: str, user: Actor
) -> TourConflict | None:
    """A focal point whose side has already agreed to ``tour`` waits for the other side."""
    side = side_of(tour, user) if to == "agreed" and tour.status == "proposed" else None
    if side is None:
        return None
    found = agreement(session, tour)
    if not found.has(side) or found.complete:  # both found agreed: this "agreed" moves it
        return None
    other = "visiting" if side == "host" else "host"
    return TourAlreadyAgreed(
        N_(
            "%(side_country)s has already agreed; the study tour becomes agreed when "
            "%(awaited_country)s agrees too, or when the secretariat records it"
        ),
        side_country=country_of(tour, side),
        awaited_country=country_of(tour, other),
    )


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
    if not can_edit_tour(tour, user):
        raise TourForbidden(
            N_(
                "only the secretariat and the focal points of the host and visiting countries "
                "may change this study tour"
            )
        )
    try:
        expect_version(tour, version)
    except BadVersion:
        raise TourError(N_("the version the change started from is required")) from None


def _day(text: str, where: str, problems: list[Problem]) -> date | None:
    """The day ``text`` names, read by the one rule on dates (:mod:`sscmatch.dates`: a real
    day of a year it accepts, refused in its own words); a tour's dates are whole days."""
    try:
        found = PartialDate.parse(text[:100])
    except PartialDateError as exc:
        problems.append(Problem(where, exc.message, exc.params))
        return None
    if found.precision != "day":
        problems.append(
            Problem(where, N_("A date reads YYYY-MM-DD, not %(value)s."), {"value": _shown(text)})
        )
        return None
    return found.first


def _need_window(session: Session, tour: StudyTour) -> tuple[date | None, date | None]:
    """The first and last day the need asked for (partial dates widened), if it says."""
    need = session.get(Need, tour.need) if tour.need else None
    if need is None:
        return None, None
    return window(need.desired_from, need.desired_to)


def _check_dates(
    session: Session,
    tour: StudyTour,
    changes: TourChanges,
    values: dict[str, Any],
    problems: list[Problem],
) -> int | None:
    """Sets ``values`` start and end; returns the tour's length in days when both are known."""
    start = as_text(tour.start) if changes.start is None else (changes.start.strip() or None)
    end = as_text(tour.end) if changes.end is None else (changes.end.strip() or None)
    if changes.clear_dates:
        start = end = None
    if not start:
        if end:
            problems.append(Problem("start", N_("Give a start date with the end date.")))
        values["start"], values["end"] = None, None
        return None
    start_day = _day(start, "start", problems)
    end_day = _day(end, "end", problems) if end else start_day
    if start_day is None or end_day is None:
        return None
    if end_day < start_day:
        problems.append(
            Problem(
                "end",
                N_("The tour ends (%(end)s) before it starts (%(start)s)."),
                {"end": end_day, "start": start_day},
            )
        )
        return None
    if (end_day - start_day).days >= MAX_TOUR_DAYS:
        problems.append(
            Problem("end", N_("A tour lasts at most %(n)s days."), {"n": MAX_TOUR_DAYS})
        )
        return None
    low, high = _need_window(session, tour)
    if low is not None and start_day < low:
        problems.append(
            Problem(
                "start",
                N_("The need asks for dates from %(day)s; the tour starts before."),
                {"day": low},
            )
        )
    if high is not None and end_day > high:
        problems.append(
            Problem(
                "end",
                N_("The need asks for dates until %(day)s; the tour ends after."),
                {"day": high},
            )
        )
    values["start"], values["end"] = start_day.isoformat(), end_day.isoformat()
    return (end_day - start_day).days + 1


def _check_funders(session: Session, funders: list[str], problems: list[Problem]) -> list[str]:
    if len(funders) > MAX_ITEMS:
        problems.append(Problem("funders", N_("At most %(n)s funders."), {"n": MAX_ITEMS}))
        return []
    wanted = list(dict.fromkeys(f.strip() for f in funders if f and f.strip()))
    known = set(session.exec(select(Institution.id).where(col(Institution.id).in_(wanted))).all())
    unknown = [f for f in wanted if f not in known]
    if unknown:
        problems.append(
            Problem(
                "funders",
                N_("Unknown institution(s): %(ids)s."),
                {"ids": ", ".join(_shown(u) for u in unknown)},
            )
        )
    return wanted


def in_stored_order(stored: list[str] | None, chosen: list[str]) -> list[str]:
    """The values of a list that is a set (languages, funders): those already stored in their
    stored order, then the new ones, each once. A form's checkboxes send them in the choices'
    order; a reordering alone would be an edit, which clears the countries' agreements
    (:mod:`sscmatch.workflow.tours.agreement`), so it is not one.

    >>> in_stored_order(["pt", "es"], ["es", "en", "pt", "en"])
    ['pt', 'es', 'en']
    """
    chosen = list(dict.fromkeys(chosen))
    return [v for v in stored or [] if v in chosen] + [v for v in chosen if v not in (stored or [])]


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
    """Apply an edit (all or nothing), bump the version and audit it. The caller commits.

    Every problem of the edit is reported at once (:class:`TourProblems`)."""
    vocab = vocab or load_vocabulary()
    tour = get_tour(session, tour_id)
    _check_guard(tour, user, version)
    if tour.status in ("closed", "cancelled"):
        raise TourConflict(
            N_("study tour %(id)s is %(status)s; it can no longer be edited"),
            id=tour.id,
            status=tour.status,
        )
    before = snapshot(tour)
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    if changes.title is not None:
        title = changes.title.strip()
        if not title:
            problems.append(Problem("title", N_("The title may not be empty.")))
        elif len(title) > MAX_TITLE:
            problems.append(_too_long("title", title, MAX_TITLE))
        values["title"] = title
    if changes.modality is not None:
        if changes.modality not in MODALITIES:
            problems.append(
                Problem(
                    "modality",
                    N_("Unknown modality: %(value)s."),
                    {"value": _shown(changes.modality)},
                )
            )
        values["modality"] = changes.modality
    for name in ("objective", "expected_change"):
        value = getattr(changes, name)
        if value is not None:
            text = value.strip()
            if len(text) > MAX_DESCRIPTION:
                problems.append(_too_long(name, text, MAX_DESCRIPTION))
            values[name] = text
    days = _check_dates(session, tour, changes, values, problems)
    if changes.languages is not None:
        if len(changes.languages) > MAX_LANGUAGES:
            problems.append(
                Problem("languages", N_("At most %(n)s languages."), {"n": MAX_LANGUAGES})
            )
        bad = [_shown(x) for x in changes.languages if vocab.language_code(x) is None]
        if bad:
            problems.append(
                Problem(
                    "languages",
                    N_("unknown language code(s): %(codes)s (ISO 639-1, e.g. es)"),
                    {"codes": ", ".join(bad)},
                )
            )
        codes = [vocab.language_code(x) or x for x in changes.languages]
        values["languages"] = in_stored_order(tour.languages, codes)
    if changes.interpretation is not None:
        values["interpretation"] = changes.interpretation
    if changes.agenda is not None:
        values["agenda"], found = validate_agenda(changes.agenda, days)
        problems += found
    elif days is not None:  # new dates: the agenda already stored must still fit
        _stored, found = validate_agenda(tour.agenda, days)
        problems += [p for p in found if p.message.startswith("Day %(day)s is after")]
    if changes.delegation is not None:
        values["delegation"], found = validate_delegation(changes.delegation)
        problems += found
    if changes.funders is not None:
        funders = _check_funders(session, changes.funders, problems)
        values["funders"] = in_stored_order(tour.funders, funders)
    if problems:
        raise TourProblems(problems)
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


def _too_long(where: str, text: str, limit: int) -> Problem:
    return Problem(
        where,
        N_("Too long (%(n)s characters; at most %(limit)s)."),
        {"n": len(text), "limit": limit},
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
    """Move a tour along :data:`TRANSITIONS`; completing it records the Exchange.

    A focal point's step to agreed records their side's agreement; the tour stays proposed until
    the other side has agreed too (the caller sees it by the status returned)."""
    vocab = vocab or load_vocabulary()
    tour = get_tour(session, tour_id)
    _check_guard(tour, user, version)
    if to not in STATUSES:
        raise TourError(
            N_("unknown status %(value)s (expected one of %(known)s)"),
            value=_shown(to),
            known=", ".join(STATUSES),
        )
    legal = TRANSITIONS[tour.status]
    if to not in legal:
        if legal:
            raise TourConflict(
                N_("a %(status)s study tour cannot become %(to)s; it can go to: %(known)s"),
                status=tour.status,
                to=to,
                known=", ".join(legal),
            )
        raise TourConflict(
            N_("a %(status)s study tour cannot become %(to)s; it is final"),
            status=tour.status,
            to=to,
        )
    if to not in allowed_transitions(tour, user):
        raise TourForbidden(
            N_("only the secretariat may move a %(status)s study tour to %(to)s"),
            status=tour.status,
            to=to,
        )
    refusal = agreement_refusal(session, tour, to, user) or step_refusal(session, tour, to, today)
    if refusal is not None:
        raise refusal
    side = side_of(tour, user) if to == "agreed" else None
    if side is not None:
        found = agreement(session, tour)
        if not found.has(side):  # a versioned change: a concurrent agreement gets StaleVersion
            found = record_agreement(session, tour, side, user.id, note)
        if not found.complete:
            return tour  # the other side has not agreed yet
    before = snapshot(tour)
    tour.status = to
    tour.updated_at = utcnow()
    tour.updated_by = user.id
    session.add(tour)
    if to == "completed":
        record_exchange(session, tour, user.id)
    if to == "cancelled":  # its need goes back to matching (issue 14)
        reopen_need_of(session, tour, user.id)
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


def live_tours(session: Session, need_id: str, but: str | None = None) -> list[StudyTour]:
    """The tours of ``need_id`` still under way (other than ``but``): they keep it matched."""
    query = select(StudyTour).where(
        StudyTour.need == need_id, col(StudyTour.status).in_(OPEN_TOUR_STATUSES)
    )
    if but is not None:
        query = query.where(StudyTour.id != but)
    return list(session.exec(query.order_by(col(StudyTour.id))).all())


def reopen_need_of(session: Session, tour: StudyTour, user_id: int | None) -> bool:
    """A cancelled tour gives its matched need back to matching (status open), unless another
    tour for the same need is still under way. Returns whether the need was reopened."""
    # imported here: the proposals' package imports this module (proposals.undo)
    from sscmatch.workflow.proposals import notes

    need = session.get(Need, tour.need) if tour.need else None
    if need is None or need.status != "matched" or live_tours(session, need.id, but=tour.id):
        return False
    change_status(
        session,
        need,
        "open",
        entity="need",
        user_id=user_id,
        action="reopen",
        note=None,
        note_code=notes.code(notes.TOUR_CANCELLED, tour=tour.id),
    )
    return True


def exchange_id(tour: StudyTour) -> str:
    return f"X-{tour.id}"


def record_exchange(session: Session, tour: StudyTour, user_id: int | None) -> Exchange:
    """The completed tour as an Exchange (provider = host, recipient = visitor), linked to it;
    the tour's commitments are attached to the exchange so the matcher dates them."""
    ex = session.get(Exchange, exchange_id(tour))
    before = snapshot(ex)
    if ex is None:
        ex = Exchange(id=exchange_id(tour), start=tour.start, created_by=user_id)
    ex.title = tour.title
    ex.description = tour.objective
    ex.start = tour.start or PartialDate(datetime.now(UTC).date(), "day")
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
