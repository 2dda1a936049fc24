"""Proposals standing on an offer that is no longer made: taken out of play.

A proposal is a provider's published capacity put to a need. When the capacity leaves
``published`` (archived, or back to draft: its country no longer offers it as it was), a proposal
built on it that waits for a decision (proposed, confirmed or declined by the provider) must not
stay in the secretariat's queue or a focal point's list of answers to give, where it could be
accepted and a study tour drafted from an offer nobody makes any more. It is superseded, as when
its need is withdrawn: a system step, audited with the code ``offer_withdrawn``, and the provider's
and the recipient's focal points are told (:mod:`sscmatch.workflow.notices`). Decided proposals
(accepted, rejected) are history and stay. Publishing the capacity again (the edit that undoes
the first) puts each back as it was (:func:`restore_republished`, the code ``offer_published``),
while its withdrawal is still the last thing that happened to it and its need is still in play;
the others the next match run proposes afresh (:func:`sscmatch.workflow.matchruns.store`).

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

from collections.abc import Callable, Iterable
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


def pair_veto_of(session: Session, proposal: StoredProposal) -> Veto | None:
    """The veto of the proposal's provider → recipient pair (one at most), or None."""
    return session.exec(
        select(Veto).where(Veto.provider == proposal.provider, Veto.recipient == proposal.recipient)
    ).first()


def _latest_event(session: Session, proposal: StoredProposal) -> AuditEvent | None:
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == "proposal", AuditEvent.entity_id == str(proposal.id))
        .order_by(col(AuditEvent.id).desc())
    ).first()


def _still_in_play(session: Session, proposal: StoredProposal, lifting: int | None) -> bool:
    """Whether the proposal's need may still be matched, its offer is still made and its pair
    is not vetoed (by a veto other than ``lifting``, the one being lifted)."""
    need = session.get(Need, proposal.need)
    if need is None or need.status in ("matched", "closed"):
        return False
    if proposal.capacity is not None:
        capacity = session.get(Capacity, proposal.capacity)
        if capacity is None or capacity.status != "published":
            return False
    vetoed = pair_veto_of(session, proposal)
    return vetoed is None or vetoed.id == lifting


Taken = Callable[[StoredProposal], dict[str, Any]]
"""A proposal → the note code of a step on it (that took it out of play, or puts it back), as
the audit holds it."""


def _restorable(
    session: Session, candidates: Iterable[StoredProposal], taken: Taken, lifting: int | None
) -> list[tuple[StoredProposal, str]]:
    """The ``candidates`` that ``taken``'s step took out of play and that can come back, each
    with the status it goes back to: that step is still the last thing that happened to it,
    and it is still in play (:func:`_still_in_play`)."""
    out = []
    for proposal in candidates:
        event = _latest_event(session, proposal)
        if event is None or event.action != "supersede" or event.note_code != taken(proposal):
            continue
        if _still_in_play(session, proposal, lifting):
            out.append((proposal, str((event.before or {}).get("status") or "proposed")))
    return out


def _put_back(
    session: Session,
    found: list[tuple[StoredProposal, str]],
    *,
    user_id: int | None,
    note: str | None,
    said: Taken,
) -> list[int]:
    """Each of ``found`` back to its status, audited as a reinstatement with ``said``'s code."""
    for proposal, status in found:
        set_status(
            session,
            proposal,
            status,
            user_id=user_id,
            version=None,
            action="reinstate",
            note=note,
            note_code=said(proposal),
            checked=False,
        )
    if found:
        session.flush()
    return [proposal.id or 0 for proposal, _status in found]


def restorable(session: Session, pair_veto: Veto) -> list[tuple[StoredProposal, str]]:
    """The proposals ``pair_veto`` took out of play that lifting it puts back, each with the
    status it goes back to (:func:`_restorable`)."""
    candidates = session.exec(
        select(StoredProposal)
        .where(
            StoredProposal.provider == pair_veto.provider,
            StoredProposal.recipient == pair_veto.recipient,
            StoredProposal.status == "superseded",
        )
        .order_by(col(StoredProposal.id))
    ).all()
    taken = notes.code(notes.PAIR_VETOED, veto=pair_veto.id)
    return _restorable(session, candidates, lambda _p: taken, pair_veto.id)


def restore_unvetoed(
    session: Session, pair_veto: Veto, *, user_id: int | None, note: str | None
) -> list[int]:
    """Put back the proposals :func:`restorable` names (the veto is being lifted); returns
    their ids."""
    return _put_back(
        session,
        restorable(session, pair_veto),
        user_id=user_id,
        note=note,
        said=lambda _p: notes.code(notes.VETO_LIFTED, veto=pair_veto.id),
    )


def restore_republished(
    session: Session, user_id: int | None, capacity_ids: Iterable[str]
) -> list[int]:
    """Put back the proposals of the capacities of ``capacity_ids`` that are published (again)
    which their withdrawal took out of play (:func:`_restorable`); returns their ids."""
    candidates = session.exec(
        select(StoredProposal)
        .join(Capacity, col(Capacity.id) == col(StoredProposal.capacity))
        .where(
            col(StoredProposal.capacity).in_(list(capacity_ids)),
            StoredProposal.status == "superseded",
            Capacity.status == "published",
        )
        .order_by(col(StoredProposal.id))
    ).all()
    found = _restorable(
        session,
        candidates,
        lambda p: notes.code(notes.OFFER_WITHDRAWN, capacity=p.capacity),
        None,
    )
    return _put_back(
        session,
        found,
        user_id=user_id,
        note=None,
        said=lambda p: notes.code(notes.OFFER_PUBLISHED, capacity=p.capacity),
    )
