"""Remarks on a proposal: a thread between the secretariat and the focal points of its two
countries. Whoever may see the proposal reads them (:mod:`sscmatch.workflow.visibility`); the
secretariat, admins and those focal points write them (analysts read only). A comment is not an
edit of the proposal (its version does not move); it is audited on the proposal."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sscmatch.models import ProposalComment, User
from sscmatch.workflow.audit import record_event
from sscmatch.workflow.base import N_
from sscmatch.workflow.proposals.lifecycle import (
    ForbiddenError,
    ReasonRequiredError,
    clean_text,
    get_proposal,
)
from sscmatch.workflow.proposals.responses import side_of
from sscmatch.workflow.visibility import Viewer

WRITERS = ("secretariat", "admin")


def may_comment(viewer: Viewer, provider: str, recipient: str) -> bool:
    if viewer.role in WRITERS:
        return True
    return viewer.role == "focal_point" and viewer.country in (provider, recipient)


def add_comment(
    session: Session, proposal_id: int, *, viewer: Viewer, user_id: int | None, body: str | None
) -> ProposalComment:
    proposal = get_proposal(session, proposal_id)
    if not may_comment(viewer, proposal.provider, proposal.recipient):
        raise ForbiddenError(
            N_(
                "only the secretariat and the focal points of the two countries comment on a "
                "proposal"
            )
        )
    text = clean_text(body)
    if not text:
        raise ReasonRequiredError(N_("a comment cannot be empty"))
    comment = ProposalComment(proposal_id=proposal.id or 0, author_id=user_id, body=text)
    session.add(comment)
    session.flush()
    side = side_of(proposal, viewer.country) if viewer.role == "focal_point" else None
    record_event(
        session,
        user_id=user_id,
        action="comment",
        entity="proposal",
        entity_id=proposal.id or 0,
        after={"comment": comment.id, "side": side or "secretariat"},
        note=text,
    )
    return comment


def comments_of(session: Session, proposal_id: int) -> list[tuple[ProposalComment, str, str]]:
    """(comment, author's name or e-mail, author's role), oldest first."""
    rows = session.exec(
        select(ProposalComment, User.name, User.email, User.role)
        .join(User, col(User.id) == col(ProposalComment.author_id), isouter=True)
        .where(ProposalComment.proposal_id == proposal_id)
        .order_by(col(ProposalComment.created_at), col(ProposalComment.id))
    ).all()
    return [(c, name or email or "", role or "") for c, name, email, role in rows]
