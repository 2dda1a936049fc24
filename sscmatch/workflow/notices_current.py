"""Whether what a notice says still holds, read from the record as it is now.

A notice is written once, when a step is taken (:mod:`sscmatch.workflow.notices`); the record
it is about moves on (a submission taken back, a withdrawal undone, a decision reverted, a tour
cancelled). A notice that said "need N waits for endorsement" must not go on saying so after
the focal point took it back. Nothing is stored to keep it true (a flag would go stale with the
next step nobody thought of): each kind of notice states here what it claims of the present,
and :func:`moved_on` checks the claim against the record each time the notice is read (on the
pages, in the API, in the daily digest). The notice keeps its words; when the claim no longer
holds, :func:`sscmatch.workflow.notices.render` adds the record's status now.

A kind whose words claim nothing of the present ("commented on", "a match run proposed…") is in
:data:`PAST`; every kind of :data:`sscmatch.workflow.notices.TEMPLATES` is in one of the two
(``tests/workflow/test_notices_follow_state.py`` walks every step against every notice).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.enums import OPEN_PROPOSAL_STATUSES
from sscmatch.models import Need, Notice, StudyTour
from sscmatch.models import Proposal as StoredProposal

NONE_TO_ANSWER = "none_to_answer"
"""The status word of a run's notice whose proposals were all answered or decided since."""


def need_status(need: Need) -> str:
    """A need's status as its pages name it: a draft sent for endorsement is ``submitted``."""
    return "submitted" if need.status == "draft" and need.submitted_at is not None else need.status


Claim = Callable[[Any, Mapping[str, Any]], bool]

CLAIMS: Mapping[str, Claim] = {
    "need.submit": lambda need, _: need_status(need) == "submitted",
    "need.withdraw_endorsement": lambda need, _: need_status(need) == "submitted",
    "need.take_back": lambda need, _: need_status(need) != "submitted",
    "need.return": lambda need, _: need_status(need) == "draft",
    "need.endorse": lambda need, _: need.status == "open",
    "need.reopen": lambda need, _: need.status == "open",
    "need.withdraw": lambda need, _: need.status == "closed",
    "need.reinstate": lambda need, _: need.status != "closed",
    "study_tour.draft": lambda tour, _: tour.status == "draft",
    "study_tour.status": lambda tour, p: tour.status == p.get("status"),
    "study_tour.agree": lambda tour, _: tour.status == "proposed",
    "proposal.confirm": lambda p, _: p.status == "provider_confirmed",
    "proposal.decline": lambda p, _: p.status == "provider_declined",
    "proposal.fits": lambda p, _: p.recipient_fit == "fits" and p.status in OPEN_PROPOSAL_STATUSES,
    "proposal.does_not_fit": lambda p, _: (
        p.recipient_fit == "does_not_fit" and p.status in OPEN_PROPOSAL_STATUSES
    ),
    "proposal.accept": lambda p, _: p.status == "accepted",
    "proposal.reject": lambda p, _: p.status == "rejected",
    "proposal.revert": lambda p, _: p.status not in ("accepted", "rejected"),
    "proposal.need_withdrawn": lambda p, _: p.status == "superseded",
    "proposal.other_chosen": lambda p, _: p.status == "superseded",
    "proposal.offer_withdrawn": lambda p, _: p.status == "superseded",
    "proposal.pair_vetoed": lambda p, _: p.status == "superseded",
    "proposal.back_in_play": lambda p, _: p.status in OPEN_PROPOSAL_STATUSES,
}
"""Notice kind → whether its words still hold of the record now (the record, the params)."""

PAST = frozenset({"proposal.comment", "proposals.for_needs"})
"""Kinds that tell what happened and claim nothing of the present."""

RECORDS: Mapping[str, type[Any]] = {
    "need": Need,
    "study_tour": StudyTour,
    "proposal": StoredProposal,
}


def _status(record: Any) -> str:
    return need_status(record) if isinstance(record, Need) else str(record.status)


def _to_answer_left(session: Session, notice: Notice) -> bool:
    """A run's "proposals to answer": some of them still wait for the country's answer."""
    params = notice.params or {}
    left = session.exec(
        select(func.count(col(StoredProposal.id))).where(
            StoredProposal.run_id == int(params.get("run") or notice.entity_id or 0),
            StoredProposal.provider == params.get("country"),
            StoredProposal.status == "proposed",
        )
    ).one()
    return bool(left)


def moved_on(session: Session, notice: Notice) -> str | None:
    """None while what ``notice`` says still holds; else the status its record has now (a
    status code, or :data:`NONE_TO_ANSWER`). A record gone, or a kind that claims nothing of
    the present, holds."""
    if notice.kind == "proposals.to_answer":
        if not notice.entity_id or not str(notice.entity_id).isdigit():
            return None
        return None if _to_answer_left(session, notice) else NONE_TO_ANSWER
    claim = CLAIMS.get(notice.kind)
    model = RECORDS.get(notice.entity)
    if claim is None or model is None:
        return None
    key: Any = notice.entity_id
    if model is StoredProposal:
        if not str(key).isdigit():
            return None
        key = int(key)
    record = session.get(model, key)
    if record is None or claim(record, notice.params or {}):
        return None
    return _status(record)
