"""Walking decisions back: revert the latest decision on a proposal, lift a veto, reopen a need
(a cancelled study tour reopens its own: :func:`sscmatch.workflow.tours.lifecycle.reopen_need_of`).

A revert reads the :class:`~sscmatch.models.Review`'s ``effects`` (what the decision changed)
and puts each thing back as it was: the proposal's status, the proposals its acceptance
superseded, the need it matched, the draft tour it made (cancelled), the veto it made (lifted).
It refuses when the world has moved on in a way it cannot undo (the tour is already agreed,
another decision came later): the message says what to do first. Every step is versioned,
audited and kept as a review of its own (``revert``). Functions never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from sscmatch.db import BadVersion, expect_version
from sscmatch.models import Need, Review, StudyTour, User, Veto, utcnow
from sscmatch.models import Proposal as StoredProposal
from sscmatch.workflow.audit import change_status, record_event, snapshot
from sscmatch.workflow.base import N_, Conflict, Page
from sscmatch.workflow.proposals import notes
from sscmatch.workflow.proposals.lifecycle import (
    DECISIONS,
    NotFoundError,
    ProposalError,
    check_version,
    get_proposal,
    record_review,
    required_reason,
    set_status,
)
from sscmatch.workflow.proposals.offers import restore_unvetoed
from sscmatch.workflow.tours.lifecycle import live_tours

REOPENABLE_NEED = ("matched", "closed")
# What a revert says of each step it takes back (the person's reason is the note).
REVERTED = notes.code(notes.DECISION_REVERTED)


class UndoRefused(ProposalError, Conflict):
    """The step back cannot be taken now; the message says why and what to do first."""

    code = "not_possible"


def latest_decision(session: Session, proposal_id: int) -> Review | None:
    """The proposal's latest decision that has not been reverted (None: nothing to revert)."""
    return session.exec(
        select(Review)
        .where(
            Review.proposal_id == proposal_id,
            col(Review.decision).in_(DECISIONS),
            col(Review.reverted_at).is_(None),
        )
        .order_by(col(Review.id).desc())
    ).first()


def why_not_revertible(session: Session, proposal: StoredProposal) -> str | None:
    """None when the latest decision on ``proposal`` can be reverted now, else why not (in
    English: :func:`revert_refusal` is the refusal to say in the reader's language)."""
    refusal = revert_refusal(session, proposal)
    return None if refusal is None else str(refusal)


def revert_refusal(
    session: Session, proposal: StoredProposal, *, of: int | None = None
) -> UndoRefused | None:
    """None when the latest decision on ``proposal`` can be reverted now, else the refusal
    saying why (a message of the catalogue; ``of``: the proposal whose revert needs this one's,
    named first)."""
    review = latest_decision(session, proposal.id or 0)
    if review is None:
        return _refusal(
            of,
            N_("there is no decision to revert on this proposal"),
            N_("proposal %(of)s: there is no decision to revert on this proposal"),
        )
    if review.effects is None:
        return _refusal(
            of,
            N_(
                "this decision was recorded before decisions could be reverted; change the "
                "records by hand"
            ),
            N_(
                "proposal %(of)s: this decision was recorded before decisions could be "
                "reverted; change the records by hand"
            ),
        )
    decided = "accepted" if review.decision == "accept" else "rejected"
    if proposal.status != decided:
        return _refusal(
            of,
            N_("this proposal is now %(current)s: it changed after the decision"),
            N_("proposal %(of)s: this proposal is now %(current)s: it changed after the decision"),
            current=proposal.status.replace("_", " "),
        )
    if review.decision == "accept":
        tour_id = review.effects.get("tour")
        tour = session.get(StudyTour, tour_id) if tour_id else None
        if tour is not None and tour.status not in ("draft", "cancelled"):
            return _refusal(
                of,
                N_(
                    "its study tour %(tour)s is %(status)s: cancel the tour first (that "
                    "reopens the need)"
                ),
                N_(
                    "proposal %(of)s: its study tour %(tour)s is %(status)s: cancel the tour "
                    "first (that reopens the need)"
                ),
                tour=tour.id,
                status=tour.status,
            )
    return None


def _refusal(of: int | None, plain: str, named: str, **params: Any) -> UndoRefused:
    """The refusal, named after the proposal ``of`` when another proposal's revert needs it."""
    if of is None:
        return UndoRefused(plain, **params)
    return UndoRefused(named, of=of, **params)


def _put_back(
    session: Session,
    proposal: StoredProposal,
    status: str,
    *,
    user_id: int | None,
    note: str,
    version: int | None = None,
) -> None:
    set_status(
        session,
        proposal,
        status,
        user_id=user_id,
        version=version,
        action="revert",
        note=note,
        note_code=REVERTED,
        checked=False,
    )


def _set_need(
    session: Session,
    need: Need,
    status: str,
    *,
    user_id: int | None,
    action: str,
    note: str,
    note_code: dict[str, Any] | None = None,
) -> None:
    change_status(
        session,
        need,
        status,
        entity="need",
        user_id=user_id,
        action=action,
        note=note,
        note_code=note_code,
    )


def _cancel_tour(session: Session, tour: StudyTour, *, user_id: int | None, note: str) -> None:
    change_status(
        session,
        tour,
        "cancelled",
        entity="study_tour",
        user_id=user_id,
        action="status:cancelled",
        note=note,
        note_code=REVERTED,
    )


def _undo_accept(
    session: Session, proposal: StoredProposal, review: Review, user_id: int | None, note: str
) -> None:
    effects = review.effects or {}
    tour_id = effects.get("tour")
    tour = session.get(StudyTour, tour_id) if tour_id else None
    if tour is not None and tour.status == "draft":
        _cancel_tour(session, tour, user_id=user_id, note=note)
    for other_id, prior in sorted((effects.get("superseded") or {}).items()):
        other = session.get(StoredProposal, int(other_id))
        if other is not None and other.status == "superseded":
            _put_back(session, other, prior, user_id=user_id, note=note)
    need = session.get(Need, proposal.need)
    need_before = effects.get("need_before")
    if need is not None and need_before and need.status == "matched":
        _set_need(
            session,
            need,
            need_before,
            user_id=user_id,
            action="reopen",
            note=note,
            note_code=REVERTED,
        )
    _put_back(
        session, proposal, effects.get("status_before") or "proposed", user_id=user_id, note=note
    )


def _undo_refusal(
    session: Session, proposal: StoredProposal, review: Review, user_id: int | None, note: str
) -> list[int]:
    """Put the refused proposal back and lift the veto the refusal made, if any; returns the
    proposals the lifted veto had taken out of play that are back."""
    effects = review.effects or {}
    _put_back(
        session, proposal, effects.get("status_before") or "proposed", user_id=user_id, note=note
    )
    veto_id = effects.get("veto")
    pair_veto = session.get(Veto, veto_id) if veto_id else None
    if pair_veto is None:
        return []
    return _lift(session, pair_veto, user_id=user_id, note=note, note_code=REVERTED)


def _close(
    session: Session,
    review: Review,
    user_id: int | None,
    text: str,
    restored: tuple[int, ...] | list[int] = (),
) -> Review:
    """Mark ``review`` reverted and record the revert (with the proposals it put back in play
    through a lifted veto, ``restored``)."""
    review.reverted_at = utcnow()
    session.add(review)
    proposal = get_proposal(session, review.proposal_id)
    effects: dict[str, Any] = {"reverted": review.id}
    if restored:
        effects["restored"] = list(restored)
    return record_review(session, proposal, "revert", user_id, text, effects=effects)


def revert(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
) -> Review:
    """Revert the latest decision on the proposal (a reason is required); returns the revert's
    review. An alternate choice is reverted whole, from either of its two proposals: the
    rejected one and the accepted alternate both go back to where they were."""
    proposal = get_proposal(session, proposal_id)
    check_version(proposal, version)
    text = required_reason(reason, N_("to revert a decision"))
    refusal = revert_refusal(session, proposal)
    if refusal is not None:
        raise refusal
    review = latest_decision(session, proposal_id)
    assert review is not None and review.effects is not None
    note = text  # the person's words; what the service says is REVERTED
    restored: list[int] = []
    if review.decision == "accept" and review.alternate_id is not None:
        # Accepted as the alternate of another proposal: revert that choice, both sides.
        chosen = _alternate_review(session, review.alternate_id, proposal_id)
        rejected = get_proposal(session, review.alternate_id)
        if rejected.status != "rejected":
            raise UndoRefused(
                N_(
                    "proposal %(id)s, rejected in favour of this alternate, is now "
                    "%(current)s: it changed after that decision"
                ),
                id=rejected.id,
                current=rejected.status.replace("_", " "),
            )
        _undo_refusal(session, rejected, chosen, user_id, note)
        _close(session, chosen, user_id, text)
        _undo_accept(session, proposal, review, user_id, note)
    elif review.decision == "accept":
        _undo_accept(session, proposal, review, user_id, note)
    elif review.decision == "alternate":
        accepted_id = int(review.effects.get("accepted") or review.alternate_id or 0)
        accepted = get_proposal(session, accepted_id)
        accepted_review = latest_decision(session, accepted_id)
        take_back = accepted.status == "accepted" and accepted_review is not None
        if take_back:
            refusal = revert_refusal(session, accepted, of=accepted_id)
            if refusal is not None:
                raise refusal
        _undo_refusal(session, proposal, review, user_id, note)
        if take_back and accepted_review is not None:
            _undo_accept(session, accepted, accepted_review, user_id, note)
            _close(session, accepted_review, user_id, text)
    else:
        restored = _undo_refusal(session, proposal, review, user_id, note)
    done = _close(session, review, user_id, text, restored)
    session.flush()
    return done


def _alternate_review(session: Session, proposal_id: int, accepted_id: int) -> Review:
    found = session.exec(
        select(Review)
        .where(
            Review.proposal_id == proposal_id,
            Review.decision == "alternate",
            Review.alternate_id == accepted_id,
            col(Review.reverted_at).is_(None),
        )
        .order_by(col(Review.id).desc())
    ).first()
    if found is None or found.effects is None:
        raise UndoRefused(
            N_(
                "the choice of this proposal as an alternate of proposal %(id)s cannot be "
                "reverted (it was recorded before decisions could be reverted)"
            ),
            id=proposal_id,
        )
    return found


# ----------------------------------------------------------------------------- vetoes


def list_vetoes(
    session: Session, country: str | None, page: int, size: int
) -> Page[tuple[Veto, str]]:
    """A page of the vetoed pairs, newest first, each with the name of who vetoed it ('' when
    unknown); only the pairs with ``country`` on either side when given."""
    where = [or_(col(Veto.provider) == country, col(Veto.recipient) == country)] if country else []
    total = int(session.exec(select(func.count(col(Veto.id))).where(*where)).one())
    rows = session.exec(
        select(Veto, User.name, User.email)
        .join(User, col(User.id) == col(Veto.created_by), isouter=True)
        .where(*where)
        .order_by(col(Veto.created_at).desc(), col(Veto.id).desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    items = [(veto, name or email or "") for veto, name, email in rows]
    return Page(items=items, number=page, size=size, total=total)


def get_veto(session: Session, veto_id: int) -> Veto:
    found = session.get(Veto, veto_id)
    if found is None:
        raise NotFoundError(N_("no veto %(id)s (it may have been lifted already)"), id=veto_id)
    return found


def _lift(
    session: Session,
    pair_veto: Veto,
    *,
    user_id: int | None,
    note: str,
    note_code: dict[str, Any] | None = None,
) -> list[int]:
    """Lift ``pair_veto``; returns the proposals it had taken out of play that are back."""
    before = snapshot(pair_veto)
    restored = restore_unvetoed(session, pair_veto, user_id=user_id, note=note)
    session.delete(pair_veto)
    record_event(
        session,
        user_id=user_id,
        action="lift",
        entity="veto",
        entity_id=pair_veto.id or 0,
        before=before,
        note=note,
        note_code=note_code,
    )
    return restored


def lift_veto(
    session: Session, veto_id: int, *, user_id: int | None, reason: str | None
) -> tuple[dict[str, Any], list[int]]:
    """Lift a veto (a reason is required): the pair may be proposed again by later runs, and
    its proposals the veto took out of play are back in it (:func:`.offers.restore_unvetoed`).
    The proposal rejected with it stays rejected (revert that decision to reopen it). Returns the
    veto as it was and the proposals put back. Two people lifting it at once: the second finds
    none (404)."""
    pair_veto = get_veto(session, veto_id)
    text = required_reason(reason, N_("to lift a veto"))
    before = snapshot(pair_veto) or {}
    restored = _lift(session, pair_veto, user_id=user_id, note=text)
    session.flush()
    return before, restored


# ----------------------------------------------------------------------------- needs


def reopen_need(
    session: Session,
    need_id: str,
    *,
    user_id: int | None,
    version: Any,
    reason: str | None,
) -> Need:
    """The secretariat reopens a matched or closed need (a reason is required): it is open
    again, and later runs match it. A need with a study tour under way is refused: cancel the
    tour first (which reopens it)."""
    need = session.get(Need, need_id)
    if need is None:
        raise NotFoundError(N_("no need %(value)s"), value=repr(need_id))
    try:
        expect_version(need, version, required=False)
    except BadVersion as exc:
        raise ProposalError(str(exc)) from None
    text = required_reason(reason, N_("to reopen a need"))
    if need.status not in REOPENABLE_NEED:
        raise UndoRefused(
            N_("need %(id)s is %(status)s: only a matched or closed need can be reopened"),
            id=need.id,
            status=need.status,
        )
    live = live_tours(session, need.id)
    if live:
        raise UndoRefused(
            N_(
                "need %(id)s has a study tour under way (%(tour)s, %(status)s): "
                "cancel the tour first, which reopens the need"
            ),
            id=need.id,
            tour=live[0].id,
            status=live[0].status,
        )
    _set_need(session, need, "open", user_id=user_id, action="reopen", note=text)
    session.flush()
    return need
