"""A proposal's lifecycle: its statuses, the legal steps between them, the errors of a refused
step, and the one way every step is written (checked, versioned, audited).

Lifecycle (:data:`TRANSITIONS`)::

    proposed ──► provider_confirmed ──► accepted
       │    └──► provider_declined
       │              │
       ├──────────────┴──► rejected ◄── provider_confirmed
       └──► accepted  (only with the secretariat's explicit override)

    provider_confirmed ◄──► provider_declined  (the provider changes its answer)

The provider's focal point may change its answer until the secretariat decides, as the
recipient's may change theirs: an answer given by mistake ("we cannot provide this") is not
final, and the secretariat decides on the latest one.

``accepted``, ``rejected`` and ``superseded`` are final for everyone's ordinary steps;
``superseded`` is set by the service (a newer run, or another proposal of the same need
accepted), never by a person. Reverting a decision (:mod:`.undo`) is the one way back from a
final status, and it is a step of its own, recorded like any other.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sscmatch.db import BadVersion, expect_version
from sscmatch.enums import OPEN_PROPOSAL_STATUSES, PROPOSAL_STATUSES
from sscmatch.models import Proposal as StoredProposal
from sscmatch.models import Review, utcnow
from sscmatch.schemas import MAX_TEXT
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import (
    N_,
    BadParameter,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
)

STATUSES = PROPOSAL_STATUSES
FINAL = frozenset({"accepted", "rejected", "superseded"})
OPEN_STATUSES = OPEN_PROPOSAL_STATUSES
QUEUE_DEFAULT = ("proposed", "provider_confirmed")

TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"provider_confirmed", "provider_declined", "accepted", "rejected"}),
    "provider_confirmed": frozenset({"accepted", "rejected", "provider_declined"}),
    "provider_declined": frozenset({"rejected", "provider_confirmed"}),
    "accepted": frozenset(),
    "rejected": frozenset(),
    "superseded": frozenset(),
}
# Set by the service only: a newer run, or another proposal of the same need accepted.
SYSTEM_TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset({"superseded"}) for status in OPEN_STATUSES
}
# Accepting before the provider's focal point confirmed is legal only with an explicit override
# (the secretariat says why): the provider may not be able to host what it was proposed for.
NEEDS_OVERRIDE: frozenset[tuple[str, str]] = frozenset({("proposed", "accepted")})

DECISIONS = ("accept", "reject", "alternate", "veto")
RESPONSES = ("confirm", "decline", "fits", "does_not_fit")
PROVIDER_RESPONSES = {"confirm": "provider_confirmed", "decline": "provider_declined"}
RECIPIENT_RESPONSES = {"fits": "fits", "does_not_fit": "does_not_fit"}


class ProposalError(DomainError):
    """A decision or answer that cannot be made; the message says why."""


class NotFoundError(ProposalError, NotFound):
    pass


class ForbiddenError(ProposalError, Forbidden):
    pass


class BadFilterError(ProposalError, BadParameter):
    """A list's filter that cannot be used (400)."""


class IllegalTransitionError(ProposalError, Conflict):
    """The proposal's status does not allow this step."""

    code = "illegal_transition"

    def __init__(
        self, current: str, target: str, message: str | None = None, /, **params: Any
    ) -> None:
        self.current, self.target = current, target
        if message is None:
            message = (
                N_(
                    "this proposal is %(current)s: it cannot become %(target)s "
                    "(that status is final)"
                )
                if current in FINAL
                else N_("this proposal is %(current)s: it cannot become %(target)s")
            )
            params = {"current": current.replace("_", " "), "target": target.replace("_", " ")}
        super().__init__(message, **params)


class OverrideRequiredError(IllegalTransitionError):
    """Accepting a proposal its provider has not confirmed needs the secretariat's override."""

    code = "override_required"

    def __init__(self, current: str) -> None:
        super().__init__(
            current,
            "accepted",
            N_(
                "this proposal is %(current)s: the provider's focal point has not confirmed it "
                "yet; accept it only with an explicit override and a reason"
            ),
            current=current.replace("_", " "),
        )


class ReasonRequiredError(ProposalError):
    code = "reason_required"


def can_transition(
    current: str, target: str, *, system: bool = False, override: bool = False
) -> bool:
    """Whether ``current → target`` is a legal step (``system``: also the service's own steps;
    ``override``: the secretariat accepts what the provider has not confirmed)."""
    if (current, target) in NEEDS_OVERRIDE and not override:
        return False
    if target in TRANSITIONS.get(current, frozenset()):
        return True
    return system and target in SYSTEM_TRANSITIONS.get(current, frozenset())


def check_transition(
    current: str, target: str, *, system: bool = False, override: bool = False
) -> None:
    if (current, target) in NEEDS_OVERRIDE and not override:
        raise OverrideRequiredError(current)
    if not can_transition(current, target, system=system, override=override):
        raise IllegalTransitionError(current, target)


def get_proposal(session: Session, proposal_id: int) -> StoredProposal:
    proposal = session.get(StoredProposal, proposal_id)
    if proposal is None:
        raise NotFoundError(N_("no proposal %(id)s"), id=proposal_id)
    return proposal


def clean_text(text: str | None) -> str | None:
    """A reason or note as stored: stripped, None when blank, refused when too long."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ProposalError(
            N_("the text is too long (at most %(limit)s characters)"), limit=MAX_TEXT
        )
    return text or None


def required_reason(text: str | None, what: str) -> str:
    """A reason that must be given (``what``: "to reject a proposal")."""
    cleaned = clean_text(text)
    if not cleaned:
        raise ReasonRequiredError(N_("a reason is required %(what)s"), what=what)
    return cleaned


def check_version(proposal: StoredProposal, version: int | None) -> None:
    """A stale version is a conflict, whatever the proposal's status now is: ties the change to
    the version the caller saw (None: the one just read; the flush still catches a race)."""
    try:
        expect_version(proposal, version, required=False)
    except BadVersion as exc:
        raise ProposalError(str(exc)) from None


def set_status(
    session: Session,
    proposal: StoredProposal,
    target: str,
    *,
    user_id: int | None,
    version: int | None,
    action: str,
    note: str | None = None,
    note_code: dict[str, Any] | None = None,
    system: bool = False,
    override: bool = False,
    checked: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Move ``proposal`` to ``target`` (checked, claimed, audited); returns the snapshot before.

    ``note`` is a person's words, ``note_code`` what the service says (:mod:`.notes`);
    ``extra`` are further fields to set in the same change; ``checked=False`` skips the
    lifecycle check (a revert, which walks back a step the lifecycle does not offer)."""
    check_version(proposal, version)
    if checked:
        check_transition(proposal.status, target, system=system, override=override)
    before = snapshot(proposal)
    proposal.status = target
    for name, value in (extra or {}).items():
        setattr(proposal, name, value)
    proposal.updated_at = utcnow()
    proposal.updated_by = user_id
    session.add(proposal)
    record_event(
        session,
        user_id=user_id,
        action=action,
        entity="proposal",
        entity_id=proposal.id or 0,
        before=before,
        after=snapshot(proposal),
        note=note,
        note_code=note_code,
    )
    return before


def record_review(
    session: Session,
    proposal: StoredProposal,
    decision: str,
    user_id: int | None,
    reason: str | None = None,
    alternate_id: int | None = None,
    effects: dict[str, Any] | None = None,
) -> Review:
    """Keep a secretariat decision; ``effects`` is what it changed, for a later revert."""
    assert proposal.id is not None
    review = Review(
        proposal_id=proposal.id,
        decision=decision,
        reason=reason,
        alternate_id=alternate_id,
        reviewer_id=user_id,
        effects=effects,
    )
    session.add(review)
    return review
