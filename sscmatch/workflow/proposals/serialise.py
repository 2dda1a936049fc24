"""The public JSON shapes of proposals, reviews and match runs (the API and ``match --json``)."""

from __future__ import annotations

from typing import Any

from sscmatch.models import MatchRun, Review
from sscmatch.models import Proposal as StoredProposal
from sscmatch.schemas import moment_text
from sscmatch.workflow.proposals.evidence import rank_for, reasons_for
from sscmatch.workflow.proposals.responses import notes_by_side
from sscmatch.workflow.visibility import SYSTEM, Viewer


def to_dict(proposal: StoredProposal, viewer: Viewer = SYSTEM) -> dict[str, Any]:
    """The public JSON shape of a stored proposal (``sscmatch match --json`` plus review state)
    as ``viewer`` may read it: rank null and no near-tie reason for a provider's focal point
    (:func:`~sscmatch.workflow.visibility.sees_rank`)."""
    stored = proposal.components or {}
    return {
        "id": proposal.id,
        "run": proposal.run_id,
        "need": proposal.need,
        "recipient": proposal.recipient,
        "rank": rank_for(proposal, viewer),
        "provider": proposal.provider,
        "capacity": proposal.capacity,
        # capacity (a registered offer) or experience (a fallback: no capacity of the provider
        # fits the need; proposed for its record of exchanges, capacity null)
        "basis": stored.get("basis") or ("capacity" if proposal.capacity else "experience"),
        "addresses": bool(stored.get("addresses", True)),
        "score": round(proposal.score, 6),
        "components": stored.get("components", {}),
        "contributions": stored.get("contributions", {}),
        "damping": stored.get("damping", 1.0),
        "reasons": reasons_for(proposal, viewer),
        "status": proposal.status,
        "recipient_fit": proposal.recipient_fit,
        "notes": notes_by_side(proposal),
        "version": proposal.version,
        "created_at": moment_text(proposal.created_at),
        "updated_at": moment_text(proposal.updated_at),
    }


def review_to_dict(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "decision": review.decision,
        "reason": review.reason,
        "alternate": review.alternate_id,
        "reviewer": review.reviewer_id,
        "at": moment_text(review.created_at),
        "override": bool((review.effects or {}).get("override")),
        "reverted_at": moment_text(review.reverted_at) if review.reverted_at else None,
    }


def run_to_dict(run: MatchRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "created_at": moment_text(run.created_at),
        "created_by": run.created_by,
        "finished_at": moment_text(run.finished_at) if run.finished_at else None,
        "as_of": run.as_of,
        "top": run.top_k,
        "needs": (run.params or {}).get("needs", []),
        "needs_total": run.needs_total,
        "needs_done": run.needs_done,
        "proposals": run.proposal_count,
        "error": run.error,
    }
