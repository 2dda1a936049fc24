"""The focal points' answers to a proposal: the provider confirms or declines, the recipient
says whether it fits; each side keeps one line of note in ``Proposal.note``."""

from __future__ import annotations

from sqlmodel import Session

from sscmatch.models import Proposal as StoredProposal
from sscmatch.models import utcnow
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import N_
from sscmatch.workflow.proposals.lifecycle import (
    FINAL,
    PROVIDER_RESPONSES,
    RECIPIENT_RESPONSES,
    RESPONSES,
    ForbiddenError,
    IllegalTransitionError,
    ProposalError,
    check_version,
    clean_text,
    get_proposal,
    set_status,
)


def side_of(proposal: StoredProposal, country: str | None) -> str | None:
    """``provider``, ``recipient`` or None: which side of the proposal ``country`` is on."""
    if country and country == proposal.provider:
        return "provider"
    if country and country == proposal.recipient:
        return "recipient"
    return None


def _with_note(current: str | None, side: str, note: str | None) -> str | None:
    """Keep one line per side (``provider: …`` / ``recipient: …``) in ``Proposal.note``."""
    lines = [line for line in (current or "").splitlines() if not line.startswith(f"{side}: ")]
    if note:
        lines.append(f"{side}: {' '.join(note.split())}")
    return "\n".join(lines) or None


def notes_by_side(proposal: StoredProposal) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (proposal.note or "").splitlines():
        side, sep, text = line.partition(": ")
        if sep and side in ("provider", "recipient"):
            out[side] = text
    return out


def respond(
    session: Session,
    proposal_id: int,
    response: str,
    *,
    user_id: int | None,
    country: str | None,
    version: int | None,
    note: str | None = None,
) -> StoredProposal:
    """A focal point's answer for their country's side of the proposal.

    Provider side: ``confirm`` / ``decline`` availability (status provider_confirmed/declined;
    may be changed to the other answer until the secretariat decides).
    Recipient side: ``fits`` / ``does_not_fit`` (``recipient_fit``; may be changed while the
    proposal is open). Another country's focal point gets :class:`ForbiddenError`.
    """
    proposal = get_proposal(session, proposal_id)
    if response not in RESPONSES:
        raise ProposalError(
            N_("unknown response %(value)s (expected one of %(known)s)"),
            value=repr(response),
            known=", ".join(RESPONSES),
        )
    side = side_of(proposal, country)
    wanted = "provider" if response in PROVIDER_RESPONSES else "recipient"
    if side is None:
        raise ForbiddenError(N_("this proposal does not involve your country"))
    if side != wanted:
        raise ForbiddenError(
            N_("only the provider country's focal point confirms or declines availability")
            if wanted == "provider"
            else N_("only the recipient country's focal point says whether a proposal fits")
        )
    text = clean_text(note)
    check_version(proposal, version)
    if wanted == "provider":
        set_status(
            session,
            proposal,
            PROVIDER_RESPONSES[response],
            user_id=user_id,
            version=version,
            action=response,
            note=text,
            extra={"note": _with_note(proposal.note, "provider", text)},
        )
        session.flush()
        return proposal
    if proposal.status in FINAL:
        raise IllegalTransitionError(
            proposal.status,
            proposal.status,
            N_("this proposal is %(status)s: it can no longer be answered"),
            status=proposal.status,
        )
    before = snapshot(proposal)
    proposal.recipient_fit = RECIPIENT_RESPONSES[response]
    proposal.note = _with_note(proposal.note, "recipient", text)
    proposal.updated_at = utcnow()
    proposal.updated_by = user_id
    session.add(proposal)
    record_event(
        session,
        user_id=user_id,
        action=response,
        entity="proposal",
        entity_id=proposal.id or 0,
        before=before,
        after=snapshot(proposal),
        note=text,
    )
    session.flush()
    return proposal
