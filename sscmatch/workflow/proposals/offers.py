"""Proposals standing on an offer that is no longer published: taken out of play.

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
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from sscmatch.models import Capacity
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
    moved = []
    for proposal in session.exec(query).all():
        set_status(
            session,
            proposal,
            "superseded",
            user_id=user_id,
            version=None,
            action="supersede",
            system=True,
            note_code=notes.code(notes.OFFER_WITHDRAWN, capacity=proposal.capacity),
        )
        moved.append(proposal.id or 0)
    if moved:
        session.flush()
    return moved
