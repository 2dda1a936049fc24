"""The secretariat's decisions on a proposal: accept, reject, choose an alternate, veto a pair.

Every decision carries the ``version`` of the proposal it was made on
(:func:`sscmatch.db.expect_version`: the row is written ``WHERE version = :seen``), so that of two
people deciding at once exactly one wins and the other gets :class:`sscmatch.db.StaleVersion`.
Each keeps a :class:`~sscmatch.models.Review` whose ``effects`` say what it changed (statuses
before, the proposals it superseded, the need it matched, the tour it drafted, the veto it made),
which is what :mod:`.undo` walks back, and every change an :class:`~sscmatch.models.AuditEvent`.

Rules: a rejection, a veto and choosing an alternate need a reason (choosing an alternate
rejects the current proposal: the reason says why); accepting needs the provider's confirmation,
or an explicit ``override`` with a reason. Functions never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from sscmatch.models import Need, Review, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.workflow.audit import change_status, record_event, snapshot
from sscmatch.workflow.base import N_, Conflict
from sscmatch.workflow.notices_current import need_status
from sscmatch.workflow.proposals import notes
from sscmatch.workflow.proposals.lifecycle import (
    DECISIONS,
    NEEDS_OVERRIDE,
    OPEN_STATUSES,
    ProposalError,
    check_transition,
    check_version,
    clean_text,
    get_proposal,
    record_review,
    required_reason,
    set_status,
)
from sscmatch.workflow.proposals.offers import pair_veto_of, withdraw_vetoed
from sscmatch.workflow.tours.drafting import DraftSettings, draft_from_proposal


@dataclass
class Outcome:
    """What a decision changed: the proposal, its review, and the side effects."""

    proposal: StoredProposal
    review: Review | None = None
    accepted: StoredProposal | None = None
    superseded: list[int] = field(default_factory=list)
    veto: Veto | None = None
    tour: Any = None
    # The acceptance was made without the provider's confirmation (the secretariat's override).
    overridden: bool = False


def _draft_tour(
    session: Session, proposal: StoredProposal, user_id: int | None, drafting: DraftSettings
) -> Any:
    """Draft a study tour from an accepted proposal, on the instance's day and rates.

    A refusal from the tours (a ``ValueError``) does not undo the acceptance: its savepoint is
    rolled back and ``None`` is returned.
    """
    savepoint = session.begin_nested()
    try:
        tour = draft_from_proposal(
            session,
            proposal,
            user_id,
            rate_overrides=drafting.rate_overrides,
            today=drafting.today,
        )
        session.flush()
    except ValueError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return tour


def _override_reason(proposal: StoredProposal, override: bool, reason: str | None) -> str | None:
    """Accepting what the provider has not confirmed: the override and its reason are due."""
    if (proposal.status, "accepted") not in NEEDS_OVERRIDE:
        return clean_text(reason)
    check_transition(proposal.status, "accepted", override=override)
    return required_reason(reason, N_("to accept without the provider's confirmation"))


class PairVetoedError(ProposalError, Conflict):
    """The proposal's provider → recipient pair is vetoed (409): lift the veto first."""

    code = "pair_vetoed"


class NeedNotOpenError(ProposalError, Conflict):
    """The proposal's need is not open (409): its country changed it after endorsement and it
    waits for endorsement again, or it was returned or withdrawn."""

    code = "need_not_open"


def _may_be_accepted(session: Session, proposal: StoredProposal) -> None:
    """Refuse to accept a proposal of a need that is not open, or of a vetoed pair. A focal
    point's change to an endorsed need sends it back to endorsement with its proposals still
    open (they are its history): accepting one then matched a need nobody had endorsed as it
    now reads, and drafted a tour for it. Both ways into :func:`_accept` (:func:`accept`,
    which decisions, batches and the API call, and :func:`choose_alternate`) ask it before
    anything else they check or write, so the need's state is what a refusal says first."""
    if proposal.status not in OPEN_STATUSES:
        return  # decided or superseded: the lifecycle says why it cannot be accepted
    need = session.get(Need, proposal.need)
    if need is not None and need.status != "open":
        raise NeedNotOpenError(
            N_(
                "need %(need)s is %(status)s, not open: endorse it before accepting one of its "
                "proposals"
            ),
            need=need.id,
            status=need_status(need),
        )
    if pair_veto_of(session, proposal) is not None:
        # its open proposals left play with the veto; one put back by reverting an earlier
        # decision on it is still the pair the secretariat said no to
        raise PairVetoedError(
            N_(
                "the pair %(provider)s → %(recipient)s is vetoed: lift the veto before "
                "accepting one of its proposals"
            ),
            provider=proposal.provider,
            recipient=proposal.recipient,
        )


def _accept(
    session: Session,
    proposal: StoredProposal,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
    override: bool = False,
    alternate_of: int | None = None,
    drafting: DraftSettings,
) -> Outcome:
    status_before = proposal.status
    overridden = (status_before, "accepted") in NEEDS_OVERRIDE
    set_status(
        session,
        proposal,
        "accepted",
        user_id=user_id,
        version=version,
        action="accept",
        note=reason,
        note_code=notes.code(notes.ACCEPTED_WITHOUT_CONFIRMATION) if overridden else None,
        override=override,
    )
    effects: dict[str, Any] = {
        "status_before": status_before,
        "override": overridden,
        "superseded": {},
        "need_before": None,
        "tour": None,
    }
    outcome = Outcome(proposal=proposal, accepted=proposal, overridden=overridden)
    others = session.exec(
        select(StoredProposal)
        .where(
            StoredProposal.need == proposal.need,
            StoredProposal.id != proposal.id,
            col(StoredProposal.status).in_(OPEN_STATUSES),
        )
        .order_by(col(StoredProposal.id))
    ).all()
    for other in others:
        effects["superseded"][str(other.id)] = other.status
        set_status(
            session,
            other,
            "superseded",
            user_id=user_id,
            version=None,
            action="supersede",
            note_code=notes.code(notes.SUPERSEDED_BY, proposal=proposal.id, need=proposal.need),
            system=True,
        )
        outcome.superseded.append(other.id or 0)
    need = session.get(Need, proposal.need)
    if need is not None and need.status != "matched":
        effects["need_before"] = need.status
        change_status(
            session,
            need,
            "matched",
            entity="need",
            user_id=user_id,
            action="match",
            note=None,
            note_code=notes.code(notes.MATCHED_BY, proposal=proposal.id),
        )
    session.flush()
    outcome.tour = _draft_tour(session, proposal, user_id, drafting)
    effects["tour"] = getattr(outcome.tour, "id", None)
    # Written once complete: a JSON column does not see changes made inside its value.
    outcome.review = record_review(
        session, proposal, "accept", user_id, reason, alternate_id=alternate_of, effects=effects
    )
    session.flush()
    return outcome


def accept(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None = None,
    override: bool = False,
    drafting: DraftSettings | None = None,
) -> Outcome:
    """Accept the proposal: the need becomes matched, its other open proposals superseded, and a
    draft study tour is made when the study-tour module offers one (``drafting``: the instance's
    day and rates). A proposal its provider has not confirmed is accepted only with ``override``
    and a reason."""
    proposal = get_proposal(session, proposal_id)
    check_version(proposal, version)
    _may_be_accepted(session, proposal)  # before the override's question: the need's comes first
    text = _override_reason(proposal, override, reason)
    return _accept(
        session,
        proposal,
        user_id=user_id,
        version=version,
        reason=text,
        override=override,
        drafting=drafting or DraftSettings(),
    )


def _refuse(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
    kind: str,
) -> tuple[StoredProposal, Review, str]:
    """What a rejection and a veto share: a reason is required, the proposal becomes rejected
    (a veto's note says so) and the decision is kept as a review of ``kind``."""
    proposal = get_proposal(session, proposal_id)
    text = required_reason(
        reason, N_("to veto a pair") if kind == "veto" else N_("to reject a proposal")
    )
    status_before = proposal.status
    set_status(
        session,
        proposal,
        "rejected",
        user_id=user_id,
        version=version,
        action="reject",
        note=text,
        note_code=notes.code(notes.PAIR_VETOED) if kind == "veto" else None,
    )
    effects = {"status_before": status_before}
    return proposal, record_review(session, proposal, kind, user_id, text, effects=effects), text


def reject(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
) -> Outcome:
    """Reject the proposal; a reason is required."""
    proposal, review, _ = _refuse(
        session, proposal_id, user_id=user_id, version=version, reason=reason, kind="reject"
    )
    session.flush()
    return Outcome(proposal=proposal, review=review)


def choose_alternate(
    session: Session,
    proposal_id: int,
    alternate_id: int | None,
    *,
    user_id: int | None,
    version: int | None,
    alternate_version: int | None = None,
    reason: str | None = None,
    override: bool = False,
    override_reason: str | None = None,
    drafting: DraftSettings | None = None,
) -> Outcome:
    """Accept ``alternate_id`` (same need, same run) instead of this proposal, which is rejected;
    the reason (required) says why this one is rejected. The alternate is accepted under the
    same rule as any acceptance: confirmed by its provider, or ``override`` with its own
    reason (``override_reason``; when not given, ``reason`` serves for both)."""
    proposal = get_proposal(session, proposal_id)
    if alternate_id is None:
        raise ProposalError(N_("choose which alternate to accept"))
    alternate = session.get(StoredProposal, alternate_id)
    if (
        alternate is None
        or alternate.id == proposal.id
        or alternate.need != proposal.need
        or alternate.run_id != proposal.run_id
    ):
        raise ProposalError(
            N_(
                "proposal %(alternate)s is not an alternate of proposal %(id)s "
                "(it must be another proposal of the same need in the same run)"
            ),
            alternate=alternate_id,
            id=proposal_id,
        )
    # Check both steps before changing anything, so a refusal leaves both untouched.
    check_version(proposal, version)
    check_version(alternate, alternate_version)
    _may_be_accepted(session, alternate)
    check_transition(proposal.status, "rejected")
    text = required_reason(reason, N_("to choose an alternate (why this proposal is rejected)"))
    check_transition(alternate.status, "accepted", override=override)
    accept_reason = _override_reason(alternate, override, override_reason or text)
    status_before = proposal.status
    set_status(
        session,
        proposal,
        "rejected",
        user_id=user_id,
        version=version,
        action="reject",
        note=text,
        note_code=notes.code(notes.ALTERNATE_CHOSEN),
    )
    review = record_review(
        session,
        proposal,
        "alternate",
        user_id,
        text,
        alternate.id,
        effects={"status_before": status_before, "accepted": alternate.id},
    )
    outcome = _accept(
        session,
        alternate,
        user_id=user_id,
        version=alternate_version,
        reason=accept_reason,
        override=override,
        alternate_of=proposal.id,
        drafting=drafting or DraftSettings(),
    )
    outcome.proposal, outcome.review = proposal, review
    return outcome


VETOABLE_AFTER = ("rejected", "superseded")


class AlreadyVetoedError(ProposalError, Conflict):
    """The pair of the proposal is vetoed already (someone vetoed it meanwhile)."""

    code = "already_vetoed"


def _make_veto(
    session: Session, proposal: StoredProposal, text: str, user_id: int | None
) -> tuple[Veto, list[int]]:
    """The veto of the proposal's pair, and the pair's other open proposals it took out of play
    (:func:`sscmatch.workflow.proposals.offers.withdraw_vetoed`)."""
    pair_veto = Veto(
        provider=proposal.provider,
        recipient=proposal.recipient,
        reason=text,
        created_by=user_id,
    )
    session.add(pair_veto)
    session.flush()
    record_event(
        session,
        user_id=user_id,
        action="create",
        entity="veto",
        entity_id=pair_veto.id or 0,
        after=snapshot(pair_veto),
        note_code=notes.code(notes.VETOED_FROM, proposal=proposal.id),
    )
    return pair_veto, withdraw_vetoed(session, user_id, pair_veto.id)


def _veto_decided(
    session: Session,
    proposal: StoredProposal,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
) -> Outcome:
    """Veto the pair of a proposal already rejected or superseded: a veto is about the pair,
    not the proposal, which stays as it is. Undone by lifting the veto."""
    check_version(proposal, version)
    text = required_reason(reason, N_("to veto a pair"))
    if pair_veto_of(session, proposal) is not None:
        raise AlreadyVetoedError(N_("this pair is vetoed already"))
    pair_veto, withdrawn = _make_veto(session, proposal, text, user_id)
    record_event(
        session,
        user_id=user_id,
        action="veto",
        entity="proposal",
        entity_id=proposal.id or 0,
        after={"veto": pair_veto.id},
        note=text,
    )
    session.flush()
    return Outcome(proposal=proposal, veto=pair_veto, superseded=withdrawn)


def veto(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
) -> Outcome:
    """Exclude the provider → recipient pair from future runs and reject this proposal; the
    pair's other open proposals leave play (``Outcome.superseded``). A proposal already
    rejected or superseded stays so: only its pair is vetoed (refused when vetoed already); an
    accepted one cannot be vetoed (revert the acceptance first)."""
    found = get_proposal(session, proposal_id)
    if found.status in VETOABLE_AFTER:
        return _veto_decided(session, found, user_id=user_id, version=version, reason=reason)
    proposal, review, text = _refuse(
        session, proposal_id, user_id=user_id, version=version, reason=reason, kind="veto"
    )
    pair_veto = pair_veto_of(session, proposal)
    withdrawn: list[int] = []
    if pair_veto is None:
        pair_veto, withdrawn = _make_veto(session, proposal, text, user_id)
        review.effects = {**(review.effects or {}), "veto": pair_veto.id}  # a new value
        session.add(review)
    session.flush()
    return Outcome(proposal=proposal, review=review, veto=pair_veto, superseded=withdrawn)


def decide(
    session: Session,
    proposal_id: int,
    decision: str,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None = None,
    alternate_id: int | None = None,
    override: bool = False,
    override_reason: str | None = None,
    drafting: DraftSettings | None = None,
) -> Outcome:
    """One secretariat decision: ``accept``, ``reject``, ``alternate`` or ``veto``
    (``override_reason``: an alternate's reason to accept it without its provider's
    confirmation, apart from why this proposal is rejected; ``drafting``: the instance's day
    and rates for the tour an acceptance drafts)."""
    if decision == "accept":
        return accept(
            session,
            proposal_id,
            user_id=user_id,
            version=version,
            reason=reason,
            override=override,
            drafting=drafting,
        )
    if decision == "reject":
        return reject(session, proposal_id, user_id=user_id, version=version, reason=reason)
    if decision == "alternate":
        return choose_alternate(
            session,
            proposal_id,
            alternate_id,
            user_id=user_id,
            version=version,
            reason=reason,
            override=override,
            override_reason=override_reason,
            drafting=drafting,
        )
    if decision == "veto":
        return veto(session, proposal_id, user_id=user_id, version=version, reason=reason)
    raise ProposalError(
        N_("unknown decision %(value)s (expected one of %(known)s)"),
        value=repr(decision),
        known=", ".join(DECISIONS),
    )
