"""A need its country no longer wants: withdrawing it (``closed``) and the undo right after.

**Who.** The country's focal points, the secretariat and admins withdraw a ``draft`` or
``open`` need (a matched need is the secretariat's, through the review). An optional reason is
the audit event's ``note``.

**What is built on it.** A need that a study tour names is refused unless the tour was
cancelled (which gave the need back to matching): the tour is the secretariat's to cancel or
close, so the message says to ask them. The
need's proposals still waiting for a decision (proposed, confirmed or declined by the provider)
are superseded with it, as when another proposal of the need is accepted (a system step, audited
with the code ``need_withdrawn``): a closed need does not stay in the secretariat's review queue,
nor in a provider's list of answers to give. Match runs read open needs only
(:mod:`sscmatch.workflow.matchruns`), so nothing is proposed for it again.

**The undo.** :func:`reinstate_need`, offered by the page right after, puts the need back to the
status it had and its superseded proposals back to theirs, while nothing happened meanwhile:
the need's last event is the withdrawal and it is at the version the withdrawal left (else 409),
and a proposal is put back only if its last event is still that supersession. Later, the
secretariat reopens a closed need (review's *Reopen*, a reason required).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, Need, StudyTour
from sscmatch.models import Proposal as StoredProposal
from sscmatch.schemas import MAX_TEXT
from sscmatch.workflow.base import N_, Actor
from sscmatch.workflow.proposals import notes
from sscmatch.workflow.proposals.lifecycle import OPEN_STATUSES, set_status
from sscmatch.workflow.registry.endorsement import need_step
from sscmatch.workflow.registry.errors import Conflict, InvalidRecord
from sscmatch.workflow.registry.records import require_edit
from sscmatch.workflow.registry.search import get_need

WITHDRAWABLE = ("draft", "open")


def withdrawal_refusal(session: Session, record: Need) -> Conflict | None:
    """Why ``record`` cannot be withdrawn (by anyone), or None."""
    if record.status not in WITHDRAWABLE:
        return Conflict(
            N_(
                "Only a draft or open need can be withdrawn; this one is %(status)s. Ask the "
                "secretariat if it must change."
            ),
            status=record.status,
        )
    # A cancelled tour gave its need back to matching: it is history, and no reason to refuse.
    tours = session.exec(
        select(func.count())
        .select_from(StudyTour)
        .where(StudyTour.need == record.id, StudyTour.status != "cancelled")
    ).one()
    if tours:
        return Conflict(
            N_(
                "A study tour names this need, so it cannot be withdrawn here; ask the "
                "secretariat (they cancel or close the tour)."
            )
        )
    return None


def pending_proposals(session: Session, need_id: str) -> list[StoredProposal]:
    """The need's proposals still waiting for a decision (superseded if it is withdrawn)."""
    return list(
        session.exec(
            select(StoredProposal)
            .where(StoredProposal.need == need_id, col(StoredProposal.status).in_(OPEN_STATUSES))
            .order_by(col(StoredProposal.id))
        ).all()
    )


def withdraw_need(
    session: Session, actor: Actor, need_id: str, reason: str | None = None, version: Any = None
) -> Need:
    """The country no longer needs this: the need is closed, its pending proposals superseded."""
    record = get_need(session, need_id)
    require_edit(actor, record.country, "need")
    refusal = withdrawal_refusal(session, record)
    if refusal is not None:
        raise refusal
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) > MAX_TEXT:
        raise InvalidRecord({"reason": f"too long (at most {MAX_TEXT} characters)"})

    def close(need: Need) -> None:
        need.status = "closed"

    need_step(session, actor, need_id, version, action="withdraw", change=close, note=text or None)
    for proposal in pending_proposals(session, need_id):
        _move(session, actor, proposal, "superseded", action="supersede", system=True)
    session.flush()
    return record


def _move(session: Session, actor: Actor, proposal: StoredProposal, to: str, **step: Any) -> None:
    """A proposal moved by its need's withdrawal or its undo (audited with the code that
    :func:`reinstate_need` finds it by)."""
    set_status(
        session,
        proposal,
        to,
        user_id=actor.id,
        version=None,
        note_code=notes.code(notes.NEED_WITHDRAWN, need=proposal.need),
        **step,
    )


def _events(session: Session, entity: str, entity_id: str) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
            .order_by(col(AuditEvent.id))
        ).all()
    )


def reinstate_need(session: Session, actor: Actor, need_id: str, version: Any = None) -> Need:
    """Undo a withdrawal just made: the need and its superseded proposals as they were."""
    record = get_need(session, need_id)
    require_edit(actor, record.country, "need")
    events = _events(session, "need", need_id)
    withdrawal = events[-1] if events else None
    if record.status != "closed" or withdrawal is None or withdrawal.action != "withdraw":
        raise Conflict(
            N_(
                "This need's withdrawal can no longer be undone: it is %(status)s and has "
                "changed since. Ask the secretariat to reopen it."
            ),
            status=record.status,
        )
    status_before = str((withdrawal.before or {}).get("status") or "open")

    def reopen(need: Need) -> None:
        need.status = status_before

    need_step(session, actor, need_id, version, action="reinstate", change=reopen)
    put_back = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "proposal",
            AuditEvent.action == "supersede",
            col(AuditEvent.id) > (withdrawal.id or 0),
        )
    ).all()
    for event in put_back:
        if event.note_code != notes.code(notes.NEED_WITHDRAWN, need=need_id):
            continue
        proposal = session.get(StoredProposal, int(event.entity_id))
        latest = _events(session, "proposal", event.entity_id)
        if proposal is None or proposal.status != "superseded" or latest[-1].id != event.id:
            continue
        before = str((event.before or {}).get("status") or "proposed")
        _move(session, actor, proposal, before, action="reinstate", checked=False)
    session.flush()
    return record
