"""Proposals standing on an offer that is no longer made: taken out of play.

A proposal is a provider's published capacity put to a need. When the capacity leaves
``published`` (archived, or back to draft: its country no longer offers it as it was), a proposal
built on it that waits for a decision (proposed, confirmed or declined by the provider) must not
stay in the secretariat's queue or a focal point's list of answers to give, where it could be
accepted and a study tour drafted from an offer nobody makes any more. It is superseded, as when
its need is withdrawn: a system step, audited with the code ``offer_withdrawn``, and the provider's
and the recipient's focal points are told (:mod:`sscmatch.workflow.notices`). Decided proposals
(accepted, rejected) are history and stay. Publishing the capacity again does not bring them back:
the next match run proposes it again, unanswered (:func:`sscmatch.workflow.matchruns.store`).

Every way a capacity's status is written goes through :func:`withdraw_unpublished`: its edit
(page, API: :func:`sscmatch.workflow.registry.records.update_capacity`) and a bundle import
(:func:`sscmatch.bundle.load.import_bundle`); ``tests/workflow/test_unpublished_offers.py`` walks
them.

**A vetoed pair.** A veto says the secretariat does not want the provider proposed to the
recipient: the pair's other open proposals (for the recipient's other needs) leave play the
same way (:func:`withdraw_vetoed`, code ``pair_vetoed`` with the veto's id; both countries' focal
points told), as the veto is made (:func:`sscmatch.workflow.proposals.decisions.veto`, which
lists them on its confirmation) and at every run (a veto made by an earlier version left them
open). Before, they stayed in the queue, where one could be accepted for the pair just vetoed.
Lifting the veto, or reverting the decision that made it, puts each back as it was
(:func:`restore_unvetoed`) while nothing else happened to it and its need and offer are still
in play. ``tests/workflow/test_vetoed_pairs.py`` walks the ways and the open statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, Capacity, Need, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.workflow.proposals import notes
from sscmatch.workflow.proposals.lifecycle import OPEN_STATUSES, set_status


def withdraw_unpublished(
    session: Session, user_id: int | None, capacity_ids: Iterable[str] | None = None
) -> list[int]:
    """Supersede the open proposals whose capacity is not published (only those of
    ``capacity_ids`` when given); returns their ids."""
    query = (
        select(StoredProposal)
        .join(Capacity, col(Capacity.id) == col(StoredProposal.capacity))
        .where(col(StoredProposal.status).in_(OPEN_STATUSES), Capacity.status != "published")
        .order_by(col(StoredProposal.id))
    )
    if capacity_ids is not None:
        query = query.where(col(StoredProposal.capacity).in_(list(capacity_ids)))
    found = session.exec(query).all()
    return _out_of_play(
        session,
        user_id,
        [(p, notes.code(notes.OFFER_WITHDRAWN, capacity=p.capacity)) for p in found],
    )


def _out_of_play(
    session: Session, user_id: int | None, steps: list[tuple[StoredProposal, dict[str, Any]]]
) -> list[int]:
    """Supersede each proposal as a system step audited with its note code; their ids."""
    for proposal, note_code in steps:
        set_status(
            session,
            proposal,
            "superseded",
            user_id=user_id,
            version=None,
            action="supersede",
            system=True,
            note_code=note_code,
        )
    if steps:
        session.flush()
    return [proposal.id or 0 for proposal, _code in steps]


def withdraw_vetoed(session: Session, user_id: int | None, veto_id: int | None = None) -> list[int]:
    """Supersede the open proposals of vetoed pairs (only ``veto_id``'s pair when given);
    returns their ids."""
    query = (
        select(StoredProposal, Veto.id)
        .join(
            Veto,
            and_(
                col(Veto.provider) == col(StoredProposal.provider),
                col(Veto.recipient) == col(StoredProposal.recipient),
            ),
        )
        .where(col(StoredProposal.status).in_(OPEN_STATUSES))
        .order_by(col(StoredProposal.id))
    )
    if veto_id is not None:
        query = query.where(Veto.id == veto_id)
    found = session.exec(query).all()
    return _out_of_play(
        session,
        user_id,
        [(p, notes.code(notes.PAIR_VETOED, veto=vetoed)) for p, vetoed in found],
    )


def _latest_event(session: Session, proposal: StoredProposal) -> AuditEvent | None:
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == "proposal", AuditEvent.entity_id == str(proposal.id))
        .order_by(col(AuditEvent.id).desc())
    ).first()


def _still_in_play(session: Session, proposal: StoredProposal) -> bool:
    """Whether the proposal's need may still be matched and its offer is still made."""
    need = session.get(Need, proposal.need)
    capacity = session.get(Capacity, proposal.capacity) if proposal.capacity else None
    if need is None or need.status in ("matched", "closed"):
        return False
    return proposal.capacity is None or (capacity is not None and capacity.status == "published")


def restorable(session: Session, pair_veto: Veto) -> list[tuple[StoredProposal, str]]:
    """The proposals ``pair_veto`` took out of play that lifting it puts back, each with the
    status it goes back to: the veto's step is still the last thing that happened to it, and
    it is still in play (its need not matched or closed, its offer published)."""
    taken = notes.code(notes.PAIR_VETOED, veto=pair_veto.id)
    candidates = session.exec(
        select(StoredProposal)
        .where(
            StoredProposal.provider == pair_veto.provider,
            StoredProposal.recipient == pair_veto.recipient,
            StoredProposal.status == "superseded",
        )
        .order_by(col(StoredProposal.id))
    ).all()
    out = []
    for proposal in candidates:
        event = _latest_event(session, proposal)
        if event is None or event.action != "supersede" or event.note_code != taken:
            continue
        if _still_in_play(session, proposal):
            out.append((proposal, str((event.before or {}).get("status") or "proposed")))
    return out


def restore_unvetoed(
    session: Session, pair_veto: Veto, *, user_id: int | None, note: str | None
) -> list[int]:
    """Put back the proposals :func:`restorable` names (the veto is being lifted); returns
    their ids."""
    back = []
    for proposal, status in restorable(session, pair_veto):
        set_status(
            session,
            proposal,
            status,
            user_id=user_id,
            version=None,
            action="reinstate",
            note=note,
            note_code=notes.code(notes.VETO_LIFTED, veto=pair_veto.id),
            checked=False,
        )
        back.append(proposal.id or 0)
    if back:
        session.flush()
    return back
