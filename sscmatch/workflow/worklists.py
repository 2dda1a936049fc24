"""What needs each person now: the home page's worklist, per role.

- **focal point** (their country): proposals to answer (as provider: not yet confirmed or
  declined; as recipient: not yet said whether it fits), needs returned to them by the
  secretariat, their country's commitments due within :data:`DUE_WITHIN` days or overdue;
- **secretariat** (and admins, who may decide too): needs to endorse, proposals to decide
  (the provider confirmed; or declined, to be rejected), study tours to move (with the next
  step), overdue commitments.

Every list is narrowed with :mod:`sscmatch.workflow.visibility` and capped at :data:`SHOWN`
rows, with the full count beside it (the page links to the full list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from sscmatch.models import Commitment, Need, StudyTour
from sscmatch.models import Proposal as StoredProposal
from sscmatch.workflow import visibility
from sscmatch.workflow.commitments import OPEN, days_left
from sscmatch.workflow.counts import kept_count, kept_ids
from sscmatch.workflow.proposals.lifecycle import FINAL
from sscmatch.workflow.proposals.queue import Row, rows_by_id
from sscmatch.workflow.visibility import Viewer

DUE_WITHIN = 14
SHOWN = 10
# The step a tour in each status waits for.
TOUR_NEXT = {
    "draft": "proposed",
    "proposed": "agreed",
    "agreed": "scheduled",
    "scheduled": "completed",
    "completed": "closed",
}


@dataclass(frozen=True)
class Listed:
    """At most :data:`SHOWN` items and how many there are in all."""

    items: list[Any]
    total: int


@dataclass(frozen=True)
class DueCommitment:
    commitment: Commitment
    days_left: int


@dataclass
class Worklist:
    role: str
    lists: dict[str, Listed] = field(default_factory=dict)
    # Proposals waiting for their providers (the secretariat's view of a run's progress: not
    # its work, so not a list that would make the day's work look non-empty).
    awaiting_providers: int = 0

    @property
    def empty(self) -> bool:
        return all(not listed.total for listed in self.lists.values())


def _count(session: Session, model: Any, *conditions: Any) -> int:
    return kept_count(session, select(model).where(*conditions))


def _proposals(session: Session, viewer: Viewer, *conditions: Any, oldest: bool = False) -> Listed:
    seen = visibility.visible(StoredProposal, viewer)
    order = col(StoredProposal.created_at).asc() if oldest else col(StoredProposal.score).desc()
    ids = session.exec(
        select(StoredProposal.id)
        .where(seen, *conditions)
        .order_by(order, col(StoredProposal.id))
        .limit(SHOWN)
    ).all()
    rows: list[Row] = rows_by_id(session, [i for i in ids if i is not None])
    return Listed(rows, _count(session, StoredProposal, seen, *conditions))


def _commitments(session: Session, today: date, *conditions: Any, overdue_only: bool) -> Listed:
    """Undecided commitments of study tours planned here due within :data:`DUE_WITHIN` days
    (or overdue), soonest first. Those recorded from the documents (no study tour, years past
    due, nobody reports on them here) are the follow-up dashboard's, not work for today."""
    found = []
    # ``study_tour > ''`` rather than ``IS NOT NULL`` (the same rows: a tour's id is never
    # empty): SQLite (3.40) reads an index for a range but not for IS NOT NULL, and scanned all
    # 40,000 commitments of the full corpus, none of a tour, for every visit (12 ms).
    for k in session.exec(
        select(Commitment).where(
            col(Commitment.status).in_(OPEN), col(Commitment.study_tour) > "", *conditions
        )
    ).all():
        left = days_left(k, today)
        if left is None or left > (-1 if overdue_only else DUE_WITHIN):
            continue
        found.append(DueCommitment(k, left))
    found.sort(key=lambda d: (d.days_left, d.commitment.id))
    return Listed(found[:SHOWN], len(found))


def focal_point(session: Session, viewer: Viewer, today: date) -> Worklist:
    country = viewer.country
    work = Worklist("focal_point")
    if not country:
        return work
    work.lists["to_answer"] = _proposals(
        session,
        viewer,
        or_(
            (col(StoredProposal.provider) == country) & (StoredProposal.status == "proposed"),
            (col(StoredProposal.recipient) == country)
            & col(StoredProposal.recipient_fit).is_(None)
            & col(StoredProposal.status).not_in(FINAL),
        ),
        oldest=True,
    )
    returned = (
        Need.country == country,
        Need.status == "draft",
        col(Need.review_note).is_not(None),
        col(Need.submitted_at).is_(None),
    )
    work.lists["returned"] = Listed(
        list(
            session.exec(select(Need).where(*returned).order_by(col(Need.updated_at).desc())).all()[
                :SHOWN
            ]
        ),
        _count(session, Need, *returned),
    )
    work.lists["due"] = _commitments(
        session, today, Commitment.owner_country == country, overdue_only=False
    )
    return work


def secretariat(session: Session, viewer: Viewer, today: date) -> Worklist:
    work = Worklist("secretariat")
    submitted = (Need.status == "draft", col(Need.submitted_at).is_not(None))
    # which ones kept per data version: no index serves the condition (every draft is read)
    first = kept_ids(
        session,
        select(Need.id)
        .where(*submitted)
        .order_by(col(Need.submitted_at), col(Need.id))
        .limit(SHOWN),
    )
    found = {n.id: n for n in session.exec(select(Need).where(col(Need.id).in_(first))).all()}
    work.lists["to_endorse"] = Listed(
        [found[i] for i in first if i in found], _count(session, Need, *submitted)
    )
    work.lists["to_decide"] = _proposals(
        session,
        viewer,
        col(StoredProposal.status).in_(("provider_confirmed", "provider_declined")),
    )
    moving = col(StudyTour.status).in_(tuple(TOUR_NEXT))
    work.lists["tours"] = Listed(
        list(
            session.exec(
                select(StudyTour)
                .where(moving)
                .order_by(col(StudyTour.updated_at).asc(), col(StudyTour.id))
                .limit(SHOWN)
            ).all()
        ),
        _count(session, StudyTour, moving),
    )
    work.lists["overdue"] = _commitments(session, today, overdue_only=True)
    work.awaiting_providers = _count(
        session,
        StoredProposal,
        visibility.visible(StoredProposal, viewer),
        StoredProposal.status == "proposed",
    )
    return work


def for_viewer(session: Session, viewer: Viewer, today: date) -> Worklist | None:
    """The viewer's worklist (None for a role that has none: analysts read, they are not
    asked for anything)."""
    if viewer.role == "focal_point":
        return focal_point(session, viewer, today)
    if viewer.role in ("secretariat", "admin"):
        return secretariat(session, viewer, today)
    return None
