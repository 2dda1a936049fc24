"""One decision over many proposals (a filtered set of the queue): each proposal is decided on
its own, in its own savepoint, on the version the reviewer saw, so that one refused or
changed-meanwhile proposal neither stops nor undoes the others. The result says which were
decided, which had changed meanwhile (a stale version: someone else decided or answered) and
which were refused and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from sscmatch.db import StaleVersion
from sscmatch.workflow.audit import changed_by_them_alone
from sscmatch.workflow.base import N_
from sscmatch.workflow.proposals.decisions import decide
from sscmatch.workflow.proposals.lifecycle import ProposalError, required_reason
from sscmatch.workflow.tours.drafting import DraftSettings

BULK_DECISIONS = ("accept", "reject")
MAX_BULK = 500


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    conflicted: list[int] = field(default_factory=list)
    """Changed meanwhile (a stale version): not decided."""
    yours: list[int] = field(default_factory=list)
    """Those of ``conflicted`` changed meanwhile by the one deciding alone (the same decision
    sent twice, another tab of theirs)."""
    refused: list[tuple[int, ProposalError]] = field(default_factory=list)
    """Each refused proposal with why (an error of the catalogue: the edge says it in the
    reader's language)."""
    superseded: list[int] = field(default_factory=list)  # by an acceptance in this batch


def check_bulk(decision: str, items: Sequence[tuple[int, int]], reason: str | None) -> None:
    """Refuse a bulk action that cannot be run at all (before anything is decided)."""
    if decision not in BULK_DECISIONS:
        raise ProposalError(
            N_("unknown bulk decision %(value)s (expected one of %(known)s)"),
            value=repr(decision),
            known=", ".join(BULK_DECISIONS),
        )
    if not items:
        raise ProposalError(N_("choose at least one proposal"))
    if len(items) > MAX_BULK:
        raise ProposalError(N_("at most %(n)s proposals at once"), n=MAX_BULK)
    if decision == "reject":
        required_reason(reason, N_("to reject proposals"))


def decide_many(
    session: Session,
    decision: str,
    items: Sequence[tuple[int, int]],
    *,
    user_id: int | None,
    reason: str | None = None,
    override: bool = False,
    drafting: DraftSettings | None = None,
) -> BulkResult:
    """Decide each (proposal id, version the reviewer saw) of ``items`` (``drafting``: the
    instance's day and rates for the tours the acceptances draft)."""
    check_bulk(decision, items, reason)
    result = BulkResult()
    for proposal_id, version in dict.fromkeys(items):
        if proposal_id in result.superseded:
            superseded = ProposalError(
                N_("superseded: another proposal of its need was accepted above")
            )
            result.refused.append((proposal_id, superseded))
            continue
        savepoint = session.begin_nested()
        try:
            outcome = decide(
                session,
                proposal_id,
                decision,
                user_id=user_id,
                version=version,
                reason=reason,
                override=override,
                drafting=drafting,
            )
            session.flush()
        except StaleVersion:
            savepoint.rollback()
            result.conflicted.append(proposal_id)
            if changed_by_them_alone(session, "proposal", proposal_id, version, user_id):
                result.yours.append(proposal_id)
            continue
        except ProposalError as exc:
            savepoint.rollback()
            result.refused.append((proposal_id, exc))
            continue
        savepoint.commit()
        result.done.append(proposal_id)
        result.superseded.extend(outcome.superseded)
    return result
