"""Commitments after an exchange: recording them, their history, overdue, the outcome ladder.

A commitment is recorded at a tour's closing session or afterwards (tour status ``scheduled`` or
``completed``), with an owner country (and institution), a description, a due date, a status and
evidence. Every change writes a :class:`~sscmatch.models.CommitmentUpdate` row and an audit event.
**Overdue** is derived, never stored: an undecided commitment (pending or in progress) whose due
period has ended before today (``due=2026-05`` is overdue from 2026-06-01).

Focal points record and update commitments owned by their own country; the secretariat and admins
see and update all. A commitment is marked fulfilled only with evidence (text or a link), and
dropped only with a note saying why; a decided commitment is reopened only by the secretariat.

The dashboard and the outcome ladder, which read commitments, are :mod:`sscmatch.workflow.outcomes`
(re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from sscmatch.dates import PartialDate, PartialDateError, as_text
from sscmatch.db import BadVersion, expect_version
from sscmatch.enums import COMMITMENT_STATUSES, OPEN_COMMITMENT_STATUSES
from sscmatch.models import Commitment, CommitmentUpdate, Exchange, Institution, StudyTour, utcnow
from sscmatch.schemas import MAX_REF, MAX_TEXT
from sscmatch.workflow import ids
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import EDITORS, N_, Actor, BadParameter, can_edit, country_filter
from sscmatch.workflow.tours import (
    Problem,
    TourConflict,
    TourError,
    TourForbidden,
    TourNotFound,
    TourProblems,
    get_tour,
)

STATUSES = COMMITMENT_STATUSES
OPEN = OPEN_COMMITMENT_STATUSES
DECIDED = ("fulfilled", "dropped")
RECORDING_STATUSES = ("scheduled", "completed")
LADDER = ("interest", "commitment", "agreement", "exchange", "fulfilled")


class CommitmentError(TourError):
    """Bad input for a commitment."""


class CommitmentBadFilter(CommitmentError, BadParameter):
    """A list's filter that cannot be used (400)."""


NEEDS_EVIDENCE = N_("a fulfilled commitment needs evidence (text or a link)")


class CommitmentProblems(CommitmentError, TourProblems):
    """Every problem of a commitment's fields at once, each naming its field (``due``,
    ``evidence``, ``note``, ``description``), so a form shows each beside its field; nothing was
    written."""


# --------------------------------------------------------------------------- rules


def is_overdue(commitment: Commitment | CommitmentItem, today: date) -> bool:
    """Undecided and its due period ended before ``today``."""
    return _late(commitment.status, _due_end(commitment.due), today)


def _late(status: str, end: date | None, today: date) -> bool:
    return status in OPEN and end is not None and end < today


def _due_end(due: PartialDate | None) -> date | None:
    """The last day of the due period, None when there is none."""
    return due.last if due else None


def is_historical(commitment: Commitment | CommitmentItem) -> bool:
    """Recorded from the documents (no study tour planned here): see
    :mod:`sscmatch.workflow.outcomes`."""
    return commitment.study_tour is None


def days_left(commitment: Commitment | CommitmentItem, today: date) -> int | None:
    """Days from ``today`` to the end of the due period (negative when overdue)."""
    end = _due_end(commitment.due)
    return None if end is None else (end - today).days


def can_update(commitment: Commitment, user: Actor) -> bool:
    return can_edit(user, commitment.owner_country)


def _limited(value: Any, limit: int, what: str) -> str:
    """``value`` as stripped text of at most ``limit`` characters, else CommitmentError."""
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise CommitmentError(
            N_("%(what)s is too long (%(n)s characters; at most %(limit)s)"),
            what=what,
            n=len(text),
            limit=limit,
        )
    return text


def _field_text(value: Any, field: str, what: str, problems: list[Problem]) -> str:
    """:func:`_limited` for a field a person fills: too long is a problem of ``field``."""
    try:
        return _limited(value, MAX_TEXT, what)
    except CommitmentError as exc:
        problems.append(Problem(field, exc.message, exc.params))
        return ""


def _fields(problems: list[Problem]) -> set[str]:
    return {p.field for p in problems}


def _check_date(text: str | None, problems: list[Problem]) -> PartialDate | None:
    """The due period ``text`` names (None when blank); a refusal of the one rule on dates
    (:mod:`sscmatch.dates`: its message and values, never Python's) is a problem of ``due``."""
    if text is None or not text.strip():
        return None
    try:
        return PartialDate.parse(text[: MAX_REF + 1])
    except PartialDateError as exc:
        problems.append(Problem("due", exc.message, exc.params))
        return None


def _raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise CommitmentProblems(problems)


def _exchange_start(session: Session, k: Commitment) -> PartialDate | None:
    """When the exchange the commitment follows began: its tour's start, else its exchange's."""
    tour = session.get(StudyTour, k.study_tour) if k.study_tour else None
    if tour is not None and tour.start:
        return tour.start
    exchange = session.get(Exchange, k.exchange) if k.exchange else None
    return exchange.start if exchange is not None else None


def _check_due_after(
    due: PartialDate | None, start: PartialDate | None, problems: list[Problem]
) -> None:
    """A commitment follows its exchange: its due period may not end before the exchange began.
    The dates go as values (the edge writes them as the reader does)."""
    if due and start and due.last < start.first:
        problems.append(
            Problem(
                "due",
                N_("the due date %(due)s is before the exchange (it began %(start)s)"),
                {"due": due, "start": start},
            )
        )


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
    owner = _limited(owner_country, MAX_REF, N_("the owner country")).upper()
    if not can_edit(user, owner):
        raise TourForbidden(N_("a focal point records commitments of their own country only"))
    if not can_edit(user, tour.host_country, tour.visiting_country):
        raise TourForbidden(N_("only focal points of the host and visiting countries take part"))
    if tour.status not in RECORDING_STATUSES:
        raise TourConflict(
            N_(
                "commitments are recorded at the closing session and afterwards "
                "(tour scheduled or completed); this tour is %(status)s"
            ),
            status=tour.status,
        )
    if owner not in (tour.host_country, tour.visiting_country):
        raise CommitmentError(
            N_("the owner must be one of the tour's countries (%(countries)s), got %(value)s"),
            countries=f"{tour.host_country}, {tour.visiting_country}",
            value=repr(owner),
        )
    if status not in STATUSES:
        raise CommitmentError(
            N_("unknown status %(value)s (expected %(known)s)"),
            value=repr(status),
            known=", ".join(STATUSES),
        )
    problems: list[Problem] = []
    description = _field_text(description, "description", N_("the description"), problems)
    evidence = _field_text(evidence, "evidence", N_("the evidence"), problems) or None
    if not description and "description" not in _fields(problems):
        problems.append(Problem("description", N_("say what was committed (description)")))
    if status == "fulfilled" and not evidence and "evidence" not in _fields(problems):
        problems.append(Problem("evidence", NEEDS_EVIDENCE))
    due_period = _check_date(due, problems)
    _check_due_after(due_period, tour.start, problems)
    _raise_problems(problems)
    institution = _limited(owner_institution, MAX_REF, N_("the institution")) or None
    if institution:
        inst = session.get(Institution, institution)
        if inst is None:
            raise CommitmentError(N_("unknown institution %(value)s"), value=repr(institution))
        if inst.country != owner:
            raise CommitmentError(
                N_("institution %(value)s is not of %(country)s"),
                value=repr(institution),
                country=owner,
            )
    exchange = session.exec(select(Exchange.id).where(Exchange.study_tour == tour.id)).first()
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
        raise TourNotFound(N_("no commitment %(id)s"), id=repr(commitment_id))
    return found


def citation_of(session: Session, k: Commitment) -> str | None:
    """The citation of where the documents recorded ``k`` (``000_….txt:90-92``), which a
    commitment imported from them holds in its evidence until someone gives evidence here;
    None for a commitment of a study tour planned here, or when its evidence was given in the
    service (or it has none)."""
    if k.study_tour or not k.evidence or _given_in_the_service(session, k):
        return None
    return k.evidence


def _given_in_the_service(session: Session, k: Commitment) -> bool:
    """Whether the evidence ``k`` holds was given by someone's update here (not imported with
    the commitment from the documents)."""
    given = select(CommitmentUpdate.id).where(
        CommitmentUpdate.commitment == k.id, CommitmentUpdate.evidence == k.evidence
    )
    return session.exec(given.limit(1)).first() is not None


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
        raise TourForbidden(N_("a focal point updates only the commitments of their own country"))
    try:
        expect_version(k, version)
    except BadVersion:
        raise CommitmentError(N_("the version the change started from is required")) from None
    new_status = status or k.status
    if new_status not in STATUSES:
        raise CommitmentError(
            N_("unknown status %(value)s (expected %(known)s)"),
            value=repr(new_status),
            known=", ".join(STATUSES),
        )
    if k.status in DECIDED and new_status != k.status and user.role not in EDITORS:
        raise TourForbidden(
            N_("the commitment is %(status)s; only the secretariat may reopen it"),
            status=k.status,
        )
    problems: list[Problem] = []  # every field's problem, reported together
    new_evidence = k.evidence
    if evidence is not None:
        new_evidence = _field_text(evidence, "evidence", N_("the evidence"), problems) or None
    clean_note = _field_text(note, "note", N_("the note"), problems) or None
    fulfilling = new_status == "fulfilled" and k.status != "fulfilled"
    if new_status == "fulfilled" and "evidence" not in _fields(problems):
        if not new_evidence:
            problems.append(Problem("evidence", NEEDS_EVIDENCE))
        elif fulfilling and new_evidence == k.evidence and not _given_in_the_service(session, k):
            # What a commitment recorded from the documents holds is the citation of where it
            # was found, not a proof that it was kept (it passed for one: the audit).
            problems.append(
                Problem(
                    "evidence",
                    N_(
                        "give the evidence that the commitment was kept (text or a link): what "
                        "it holds says where it was recorded"
                    ),
                )
            )
    dropping = new_status == "dropped" and k.status != "dropped"
    if dropping and not clean_note and "note" not in _fields(problems):
        problems.append(Problem("note", N_("say why the commitment is dropped (note)")))
    new_due = k.due if due is None else _check_date(due, problems)
    if new_due != k.due:
        _check_due_after(new_due, _exchange_start(session, k), problems)
    _raise_problems(problems)
    if (new_status, new_evidence, new_due) == (k.status, k.evidence, k.due) and not clean_note:
        raise CommitmentError(
            N_("nothing to change: give a new status, evidence, due date or note")
        )
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
    query = _narrowed(select(Commitment), country, tour, status)
    rows = list(session.exec(query.order_by(col(Commitment.id))))
    if overdue:
        rows = [k for k in rows if is_overdue(k, today)]
    return sorted(rows, key=lambda k: _order(k.id, is_overdue(k, today), days_left(k, today)))


def _narrowed(query: Any, country: str | None, tour: str | None, status: str | None) -> Any:
    if status and status not in STATUSES:
        raise CommitmentBadFilter(
            N_("unknown status %(value)s (expected %(known)s)"),
            value=repr(status),
            known=", ".join(STATUSES),
        )
    code = country_filter(country, CommitmentBadFilter)
    if code:
        query = query.where(Commitment.owner_country == code)
    if tour:
        query = query.where(Commitment.study_tour == tour)
    if status:
        query = query.where(Commitment.status == status)
    return query


RECORD_COLUMNS = (
    "id", "owner_country", "owner_institution", "description", "due", "status", "evidence",
    "study_tour", "exchange", "source",
)  # fmt: skip


def commitment_records(
    session: Session,
    *,
    today: date,
    country: str | None = None,
    status: str | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """What :func:`list_commitments` lists, in its order, as plain records of
    :data:`RECORD_COLUMNS` plus ``overdue`` and ``days_left``: the columns read by one query, no
    ORM object, each due period read once (an export of 40,000 commitments)."""
    table = Commitment.__table__  # type: ignore[attr-defined]
    columns = [table.c[c] for c in RECORD_COLUMNS if c != "due"]
    columns += [table.c.due_date, table.c.due_precision]  # the due period's two columns
    query = _narrowed(sql_select(*columns), country, None, status)
    records = []
    for row in session.execute(query):
        record = row._asdict()
        due = PartialDate.of(record.pop("due_date"), record.pop("due_precision"))
        record["due"] = as_text(due)
        end = _due_end(due)
        late = _late(record["status"], end, today)
        if overdue and not late:
            continue
        record["overdue"], record["days_left"] = late, None if end is None else (end - today).days
        records.append(record)
    records.sort(key=lambda r: _order(r["id"], r["overdue"], r["days_left"]))
    return records


@dataclass(frozen=True, slots=True)
class CommitmentItem:
    """A commitment's columns as the follow-up dashboard counts and lists them, read without
    an ORM object: its first render at full scale built 40,188 records to count them."""

    id: str
    status: str
    owner_country: str | None
    owner_institution: str | None
    description: str
    study_tour: str | None
    exchange: str | None
    due: PartialDate | None


def commitment_items(
    session: Session, *, today: date | None = None, country: str | None = None
) -> list[CommitmentItem]:
    """Every commitment (of ``country``) as a :class:`CommitmentItem`, by one query; in
    :func:`list_commitments`' order when ``today`` is given."""
    table = Commitment.__table__  # type: ignore[attr-defined]
    names = [f.name for f in fields(CommitmentItem) if f.name != "due"]
    query = _narrowed(
        sql_select(*(table.c[n] for n in names), table.c.due_date, table.c.due_precision),
        country,
        None,
        None,
    )
    items = [
        CommitmentItem(
            key, status, country, institution, description, tour, exchange, PartialDate.of(d, p)
        )
        for key, status, country, institution, description, tour, exchange, d, p in session.execute(
            query
        )
    ]
    if today is not None:
        items.sort(key=lambda k: _order(k.id, is_overdue(k, today), days_left(k, today)))
    return items


def _order(key: str, late: bool, left: int | None) -> tuple[int, int, str]:
    return (0 if late else 1, left if left is not None else 10**6, key)


__all__ = [
    "CommitmentBadFilter", "CommitmentError", "CommitmentItem", "CommitmentProblems",
    "add_commitment", "can_update",
    "commitment_items", "commitment_records",
    "days_left",
    "get_commitment", "history", "is_historical", "is_overdue", "list_commitments",
    "update_commitment",
]  # fmt: skip
