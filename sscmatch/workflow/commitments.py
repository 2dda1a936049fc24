"""Commitments after an exchange: recording them, their history, overdue, the outcome ladder.

A commitment is recorded at a tour's closing session or afterwards (tour status ``scheduled`` or
``completed``), with an owner country (and institution), a description, a due date, a status and
evidence. Every change writes a :class:`~sscmatch.models.CommitmentUpdate` row and an audit event.
**Overdue** is derived, never stored: an undecided commitment (pending or in progress) whose due
period has ended before today (``due=2026-05`` is overdue from 2026-06-01).

Focal points record and update commitments owned by their own country; the secretariat and admins
see and update all. A commitment is marked fulfilled only with evidence (text or a link), and
dropped only with a note saying why; a decided commitment is reopened only by the secretariat.

**Outcome ladder** (:func:`outcome_ladder`). One *cooperation* is one study tour, or one accepted
or provider-confirmed proposal without a tour, or one recorded exchange without a tour. Its step
is derived from the data, never stored:

1. ``interest``: an accepted/confirmed proposal, a draft or cancelled tour, or anything above;
2. ``commitment``: the tour was proposed to both countries (status proposed or later);
3. ``agreement``: both sides agreed it (agreed, scheduled, completed, closed);
4. ``exchange``: it took place (tour completed or closed; any recorded exchange);
5. ``fulfilled``: it has commitments and every one of them is fulfilled.

A cooperation counts once for each country involved and once for each of its themes; a step's
count includes every cooperation that reached it or went further.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Text, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sscmatch.columns import json_list_reader
from sscmatch.dates import PartialDateError, normalise_partial_date, period_end
from sscmatch.db import BadVersion, change_version, database_key, expect_version
from sscmatch.models import (
    Commitment,
    CommitmentUpdate,
    Exchange,
    Institution,
    Need,
    Proposal,
    StudyTour,
    utcnow,
)
from sscmatch.schemas import MAX_REF, MAX_TEXT
from sscmatch.workflow import ids
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.tours import (
    EDITORS,
    Actor,
    TourConflict,
    TourError,
    TourForbidden,
    TourNotFound,
    get_tour,
    themes_of,
)

STATUSES = ("pending", "in_progress", "fulfilled", "dropped")
OPEN = ("pending", "in_progress")
DECIDED = ("fulfilled", "dropped")
RECORDING_STATUSES = ("scheduled", "completed")
LADDER = ("interest", "commitment", "agreement", "exchange", "fulfilled")


class CommitmentError(TourError):
    """Bad input for a commitment."""


# --------------------------------------------------------------------------- rules


def is_overdue(commitment: Commitment, today: date) -> bool:
    """Undecided and its due period ended before ``today``."""
    if commitment.status not in OPEN or not commitment.due:
        return False
    try:
        return period_end(commitment.due) < today
    except PartialDateError:
        return False


def days_left(commitment: Commitment, today: date) -> int | None:
    """Days from ``today`` to the end of the due period (negative when overdue)."""
    if not commitment.due:
        return None
    try:
        return (period_end(commitment.due) - today).days
    except PartialDateError:
        return None


def can_update(commitment: Commitment, user: Actor) -> bool:
    return user.role in EDITORS or (
        user.role == "focal_point" and user.country == commitment.owner_country
    )


def _limited(value: Any, limit: int, what: str) -> str:
    """``value`` as stripped text of at most ``limit`` characters, else CommitmentError."""
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise CommitmentError(f"{what} is too long ({len(text)} characters; at most {limit})")
    return text


def _check_date(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_REF:
        raise CommitmentError("due: not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    try:
        return normalise_partial_date(text)
    except PartialDateError as exc:
        raise CommitmentError(f"due: {exc}") from None


# --------------------------------------------------------------------------- changing


def add_commitment(
    session: Session,
    tour_id: str,
    *,
    user: Actor,
    owner_country: str,
    description: str,
    owner_institution: str | None = None,
    due: str | None = None,
    status: str = "pending",
    evidence: str | None = None,
) -> Commitment:
    """Record a commitment on a tour (at its closing session or afterwards). Caller commits."""
    tour = get_tour(session, tour_id)
    owner = _limited(owner_country, MAX_REF, "the owner country").upper()
    if user.role not in EDITORS and not (user.role == "focal_point" and user.country == owner):
        raise TourForbidden("a focal point records commitments of their own country only")
    if user.role not in EDITORS and user.country not in (tour.host_country, tour.visiting_country):
        raise TourForbidden("only focal points of the host and visiting countries take part")
    if tour.status not in RECORDING_STATUSES:
        raise TourConflict(
            f"commitments are recorded at the closing session and afterwards "
            f"(tour scheduled or completed); this tour is {tour.status}"
        )
    if owner not in (tour.host_country, tour.visiting_country):
        raise CommitmentError(
            f"the owner must be one of the tour's countries ({tour.host_country}, "
            f"{tour.visiting_country}), got {owner!r}"
        )
    description = _limited(description, MAX_TEXT, "the description")
    evidence = _limited(evidence, MAX_TEXT, "the evidence") or None
    if not description:
        raise CommitmentError("say what was committed (description)")
    if status not in STATUSES:
        raise CommitmentError(f"unknown status {status!r} (expected {', '.join(STATUSES)})")
    if status == "fulfilled" and not (evidence and evidence.strip()):
        raise CommitmentError("a fulfilled commitment needs evidence (text or a link)")
    institution = _limited(owner_institution, MAX_REF, "the institution") or None
    if institution:
        inst = session.get(Institution, institution)
        if inst is None:
            raise CommitmentError(f"unknown institution {institution!r}")
        if inst.country != owner:
            raise CommitmentError(f"institution {institution!r} is not of {owner}")
    exchange = session.exec(select(Exchange.id).where(Exchange.study_tour == tour.id)).first()
    due_period = _check_date(due)
    commitment = Commitment(
        id=ids.next_id(session, Commitment, f"{tour.id}-k", width=2),  # once all is checked
        study_tour=tour.id,
        exchange=exchange,
        owner_country=owner,
        owner_institution=institution,
        description=description,
        due=due_period,
        status=status,
        evidence=evidence,
        source=f"study tour {tour.id}",
        created_by=user.id,
        updated_by=user.id,
    )
    session.add(commitment)
    session.flush()
    session.add(
        CommitmentUpdate(
            commitment=commitment.id,
            user_id=user.id,
            status=status,
            evidence=commitment.evidence,
            note="recorded",
        )
    )
    record_event(
        session,
        user_id=user.id,
        action="create",
        entity="commitment",
        entity_id=commitment.id,
        after=snapshot(commitment),
    )
    return commitment


def get_commitment(session: Session, commitment_id: str) -> Commitment:
    found = session.get(Commitment, commitment_id.strip())
    if found is None:
        raise TourNotFound(f"no commitment {commitment_id!r}")
    return found


def update_commitment(
    session: Session,
    commitment_id: str,
    *,
    user: Actor,
    version: int | None,
    status: str | None = None,
    evidence: str | None = None,
    note: str | None = None,
    due: str | None = None,
) -> Commitment:
    """Change status, evidence or due date; writes a history row and an audit event."""
    k = get_commitment(session, commitment_id)
    if not can_update(k, user):
        raise TourForbidden("a focal point updates only the commitments of their own country")
    try:
        expect_version(k, version)
    except BadVersion:
        raise CommitmentError("the version the change started from is required") from None
    new_status = status or k.status
    if new_status not in STATUSES:
        raise CommitmentError(f"unknown status {new_status!r} (expected {', '.join(STATUSES)})")
    if k.status in DECIDED and new_status != k.status and user.role not in EDITORS:
        raise TourForbidden(f"the commitment is {k.status}; only the secretariat may reopen it")
    new_evidence = k.evidence
    if evidence is not None:
        new_evidence = _limited(evidence, MAX_TEXT, "the evidence") or None
    clean_note = _limited(note, MAX_TEXT, "the note") or None
    if new_status == "fulfilled" and not new_evidence:
        raise CommitmentError("a fulfilled commitment needs evidence (text or a link)")
    if new_status == "dropped" and k.status != "dropped" and not clean_note:
        raise CommitmentError("say why the commitment is dropped (note)")
    new_due = k.due if due is None else _check_date(due)
    if (new_status, new_evidence, new_due) == (k.status, k.evidence, k.due) and not clean_note:
        raise CommitmentError("nothing to change: give a new status, evidence, due date or note")
    before = snapshot(k)
    k.status, k.evidence, k.due = new_status, new_evidence, new_due
    k.updated_at = utcnow()
    k.updated_by = user.id
    session.add(k)
    session.add(
        CommitmentUpdate(
            commitment=k.id,
            user_id=user.id,
            status=new_status,
            evidence=new_evidence if new_evidence != before_value(before, "evidence") else None,
            note=clean_note,
        )
    )
    session.flush()
    record_event(
        session,
        user_id=user.id,
        action="update",
        entity="commitment",
        entity_id=k.id,
        before=before,
        after=snapshot(k),
        note=clean_note,
    )
    return k


def before_value(before: dict[str, Any] | None, key: str) -> Any:
    return (before or {}).get(key)


def history(session: Session, commitment_id: str) -> list[CommitmentUpdate]:
    return list(
        session.exec(
            select(CommitmentUpdate)
            .where(CommitmentUpdate.commitment == commitment_id)
            .order_by(col(CommitmentUpdate.at), col(CommitmentUpdate.id))
        )
    )


# --------------------------------------------------------------------------- reading


def list_commitments(
    session: Session,
    *,
    today: date,
    country: str | None = None,
    tour: str | None = None,
    status: str | None = None,
    overdue: bool = False,
) -> list[Commitment]:
    """Commitments, overdue first then by due date (no due date last)."""
    if status and status not in STATUSES:
        raise CommitmentError(f"unknown status {status!r} (expected {', '.join(STATUSES)})")
    query = select(Commitment)
    if country:
        query = query.where(Commitment.owner_country == country.strip().upper())
    if tour:
        query = query.where(Commitment.study_tour == tour)
    if status:
        query = query.where(Commitment.status == status)
    rows = list(session.exec(query.order_by(col(Commitment.id))))
    if overdue:
        rows = [k for k in rows if is_overdue(k, today)]
    return sorted(rows, key=lambda k: _order(k, today))


def _order(k: Commitment, today: date) -> tuple[int, int, str]:
    left = days_left(k, today)
    return (0 if is_overdue(k, today) else 1, left if left is not None else 10**6, k.id)


@dataclass
class Tally:
    """Commitment counts of a group (a country, a tour, a year)."""

    pending: int = 0
    in_progress: int = 0
    fulfilled: int = 0
    dropped: int = 0
    overdue: int = 0

    def add(self, k: Commitment, today: date) -> None:
        setattr(self, k.status, getattr(self, k.status, 0) + 1)
        if is_overdue(k, today):
            self.overdue += 1

    @property
    def total(self) -> int:
        return self.pending + self.in_progress + self.fulfilled + self.dropped

    @property
    def rate(self) -> float | None:
        """Fulfilled among decided (None while nothing is decided)."""
        decided = self.fulfilled + self.dropped
        return self.fulfilled / decided if decided else None


@dataclass
class Dashboard:
    today: date
    overdue: list[Commitment]
    due_soon: list[Commitment]
    by_country: dict[str, Tally]
    by_tour: dict[str, Tally]
    over_time: dict[str, Tally]
    tour_titles: dict[str, str] = field(default_factory=dict)


def decided_on(session: Session, commitments: Sequence[Commitment]) -> dict[str, date | None]:
    """When each decided commitment was decided: its last history row with its status, else its
    due date, else the start of its exchange (two queries for all of them, not two each)."""
    ids = [k.id for k in commitments]
    last: dict[tuple[str, str], date] = {}
    if ids:
        rows = session.exec(
            select(CommitmentUpdate.commitment, CommitmentUpdate.status, CommitmentUpdate.at).where(
                col(CommitmentUpdate.commitment).in_(ids)
            )
        )
        for commitment, status, at in rows:
            key = (commitment, status)
            if key not in last or at.date() > last[key]:
                last[key] = at.date()
    exchange_ids = {k.exchange for k in commitments if k.exchange}
    starts = (
        dict(
            session.exec(
                select(Exchange.id, Exchange.start).where(col(Exchange.id).in_(exchange_ids))
            ).all()
        )
        if exchange_ids
        else {}
    )
    out: dict[str, date | None] = {}
    for k in commitments:
        when: date | None = last.get((k.id, k.status))
        if when is None and k.due:
            try:
                when = period_end(k.due)
            except PartialDateError:
                when = None
        start = starts.get(k.exchange or "")
        if when is None and start and start[:4].isdigit():
            when = date(int(start[:4]), 1, 1)
        out[k.id] = when
    return out


def dashboard(
    session: Session, *, today: date, country: str | None = None, soon_days: int = 30
) -> Dashboard:
    """Overdue first, due soon, counts by owner country and by tour, fulfilment rate by year
    in which commitments were decided."""
    rows = list_commitments(session, today=today, country=country)
    by_country: dict[str, Tally] = defaultdict(Tally)
    by_tour: dict[str, Tally] = defaultdict(Tally)
    over_time: dict[str, Tally] = defaultdict(Tally)
    decided = decided_on(session, [k for k in rows if k.status in DECIDED])
    for k in rows:
        if k.owner_country:  # an international or regional body is not a country to count
            by_country[k.owner_country].add(k, today)
        if k.study_tour:
            by_tour[k.study_tour].add(k, today)
        when = decided.get(k.id)
        if when is not None:
            over_time[str(when.year)].add(k, today)
    titles = {
        t.id: t.title
        for t in session.exec(select(StudyTour).where(col(StudyTour.id).in_(list(by_tour))))
    }
    soon = [
        k
        for k in rows
        if k.status in OPEN
        and not is_overdue(k, today)
        and (left := days_left(k, today)) is not None
        and left <= soon_days
    ]
    return Dashboard(
        today=today,
        overdue=[k for k in rows if is_overdue(k, today)],
        due_soon=soon,
        by_country=dict(sorted(by_country.items(), key=lambda kv: (-kv[1].overdue, kv[0]))),
        by_tour=dict(sorted(by_tour.items(), key=lambda kv: (-kv[1].overdue, kv[0]))),
        over_time=dict(sorted(over_time.items())),
        tour_titles=titles,
    )


# --------------------------------------------------------------------------- outcome ladder


@dataclass(frozen=True)
class Cooperation:
    key: str
    countries: tuple[str, ...]
    themes: tuple[str, ...]
    step: int  # index into LADDER


@dataclass
class Ladder:
    cooperations: list[Cooperation]
    total: list[int]
    by_country: dict[str, list[int]]
    by_theme: dict[str, list[int]]


def _tour_step(tour: StudyTour, commitments: Sequence[Commitment]) -> int:
    order = {"draft": 0, "cancelled": 0, "proposed": 1, "agreed": 2, "scheduled": 2}
    step = order.get(tour.status, 3)
    if step == 3 and commitments and all(k.status == "fulfilled" for k in commitments):
        step = 4
    return step


def _counts(steps: Iterable[int]) -> list[int]:
    c = Counter(steps)
    return [sum(n for s, n in c.items() if s >= i) for i in range(len(LADDER))]


_LADDER: dict[tuple[Any, ...], Ladder] = {}


def forget_ladder() -> None:
    """Drop the kept ladder (for tests)."""
    _LADDER.clear()


def outcome_ladder(session: Session) -> Ladder:
    """Cooperations and how far each went, with counts per step overall, per country and per
    theme (see the module's definition). Kept while the records are unchanged
    (:func:`sscmatch.db.change_version`): the follow-up dashboard shows it on every visit."""
    changes = change_version(session)
    if changes is None:  # this session has uncommitted writes: compute, keep nothing
        return _compute_ladder(session)
    version = (database_key(session), changes)
    cached = _LADDER.get(version)
    if cached is None:
        cached = _compute_ladder(session)
        _LADDER.clear()
        _LADDER[version] = cached
    return cached


def _need_themes(session: Session, need_ids: set[str]) -> dict[str, tuple[str, ...]]:
    if not need_ids:
        return {}
    parse = json_list_reader()
    rows = session.exec(
        select(Need.id, type_coerce(col(Need.themes), Text)).where(col(Need.id).in_(need_ids))
    )
    return {need_id: parse(themes) for need_id, themes in rows}


def _exchanges_without_tour(
    session: Session,
) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """``(id, countries, themes)`` of every exchange not recorded from a study tour, by id."""
    parse = json_list_reader()
    rows = session.connection().execute(
        sa_select(
            col(Exchange.id),
            type_coerce(col(Exchange.providers), Text),
            type_coerce(col(Exchange.recipients), Text),
            type_coerce(col(Exchange.participants), Text),
            type_coerce(col(Exchange.themes), Text),
        )
        .where(col(Exchange.study_tour).is_(None))
        .order_by(col(Exchange.id))
    )
    for exchange_id, providers, recipients, participants, themes in rows:
        countries = tuple(
            dict.fromkeys((*parse(providers), *parse(recipients), *parse(participants)))
        )
        yield exchange_id, countries, parse(themes)


def _compute_ladder(session: Session) -> Ladder:
    by_tour: dict[str, list[Commitment]] = defaultdict(list)
    by_exchange: dict[str, list[Commitment]] = defaultdict(list)
    for k in session.exec(select(Commitment)):
        if k.study_tour:
            by_tour[k.study_tour].append(k)
        elif k.exchange:
            by_exchange[k.exchange].append(k)
    coops: list[Cooperation] = []
    proposals_with_tour: set[int] = set()
    for tour in session.exec(select(StudyTour).order_by(col(StudyTour.id))):
        if tour.proposal_id is not None:
            proposals_with_tour.add(tour.proposal_id)
        coops.append(
            Cooperation(
                key=f"tour:{tour.id}",
                countries=(tour.host_country, tour.visiting_country),
                themes=tuple(themes_of(session, tour)),
                step=_tour_step(tour, by_tour.get(tour.id, [])),
            )
        )
    agreed = [
        p
        for p in session.exec(
            select(Proposal).where(col(Proposal.status).in_(("accepted", "provider_confirmed")))
        )
        if p.id not in proposals_with_tour
    ]
    need_themes = _need_themes(session, {p.need for p in agreed})
    for p in agreed:
        coops.append(
            Cooperation(
                key=f"proposal:{p.id}",
                countries=(p.provider, p.recipient),
                themes=need_themes.get(p.need, ()),
                step=0,
            )
        )
    for exchange_id, countries, themes in _exchanges_without_tour(session):
        ks = by_exchange.get(exchange_id, [])
        coops.append(
            Cooperation(
                key=f"exchange:{exchange_id}",
                countries=countries,
                themes=themes,
                step=4 if ks and all(k.status == "fulfilled" for k in ks) else 3,
            )
        )
    per_country: dict[str, list[int]] = defaultdict(list)
    per_theme: dict[str, list[int]] = defaultdict(list)
    for c in coops:
        for code in set(c.countries):
            per_country[code].append(c.step)
        for theme in set(c.themes):
            per_theme[theme].append(c.step)
    return Ladder(
        cooperations=coops,
        total=_counts(c.step for c in coops),
        by_country={k: _counts(v) for k, v in sorted(per_country.items())},
        by_theme={k: _counts(v) for k, v in sorted(per_theme.items())},
    )
