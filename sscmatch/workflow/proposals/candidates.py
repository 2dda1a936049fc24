"""A need's candidates side by side: every provider proposed for it, with what a reviewer weighs
(score and factors, availability against the need's window, modalities, the focal points'
answers, comments), for the secretariat's page per need."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.dates import window
from sscmatch.models import Capacity, Need, ProposalComment, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.workflow import visibility
from sscmatch.workflow.proposals.evidence import breakdown, is_fallback
from sscmatch.workflow.proposals.lifecycle import FINAL
from sscmatch.workflow.proposals.responses import notes_by_side
from sscmatch.workflow.visibility import Viewer


def availability(need: Need, capacity: Capacity | None) -> str:
    """``overlaps``, ``outside`` (the capacity's window misses the need's) or ``unknown``."""
    if capacity is None:
        return "unknown"
    need_from, need_to = window(need.desired_from, need.desired_to)
    cap_from, cap_to = window(capacity.available_from, capacity.available_to)
    if not (need_from or need_to) or not (cap_from or cap_to):
        return "unknown"
    starts = max(d for d in (need_from, cap_from, date.min) if d is not None)
    ends = min(d for d in (need_to, cap_to, date.max) if d is not None)
    return "overlaps" if starts <= ends else "outside"


@dataclass(frozen=True)
class Candidate:
    proposal: StoredProposal
    capacity: Capacity | None
    fallback: bool
    factors: dict[str, tuple[float, float]]  # factor → (value, contribution)
    availability: str
    shared_modalities: list[str]
    offered_modalities: list[str]
    notes: dict[str, str]
    comments: int
    vetoed: bool

    @property
    def open(self) -> bool:
        return self.proposal.status not in FINAL


@dataclass(frozen=True)
class NeedReview:
    need: Need
    candidates: list[Candidate]  # open first (in the matcher's rank order), then decided
    factors: list[str]  # every factor any candidate has, the weightiest first
    superseded: int  # proposals of older runs or of an accepted competitor, not shown
    runs: list[int] = field(default_factory=list)

    @property
    def open(self) -> list[Candidate]:
        return [c for c in self.candidates if c.open]


def need_review(session: Session, need: Need, *, viewer: Viewer) -> NeedReview:
    """The proposals of ``need`` that ``viewer`` may see, superseded ones counted only."""
    seen = visibility.visible(StoredProposal, viewer)
    proposals = list(
        session.exec(
            select(StoredProposal)
            .where(StoredProposal.need == need.id, StoredProposal.status != "superseded", seen)
            .order_by(
                col(StoredProposal.rank), col(StoredProposal.score).desc(), col(StoredProposal.id)
            )
        ).all()
    )
    superseded = session.exec(
        select(func.count(col(StoredProposal.id))).where(
            StoredProposal.need == need.id, StoredProposal.status == "superseded", seen
        )
    ).one()
    capacity_ids = [p.capacity for p in proposals if p.capacity]
    capacities = (
        {c.id: c for c in session.exec(select(Capacity).where(col(Capacity.id).in_(capacity_ids)))}
        if capacity_ids
        else {}
    )
    ids = [p.id for p in proposals]
    comment_counts = (
        dict(
            session.exec(
                select(ProposalComment.proposal_id, func.count(col(ProposalComment.id)))
                .where(col(ProposalComment.proposal_id).in_(ids))
                .group_by(col(ProposalComment.proposal_id))
            ).all()
        )
        if ids
        else {}
    )
    vetoed = {
        (v.provider, v.recipient)
        for v in session.exec(select(Veto).where(Veto.recipient == (need.country or "")))
    }
    weights: dict[str, float] = {}
    candidates = []
    for p in proposals:
        capacity = capacities.get(p.capacity or "")
        factors = {f: (value, contribution) for f, value, contribution in breakdown(p)}
        for f, (_, contribution) in factors.items():
            weights[f] = weights.get(f, 0.0) + contribution
        offered = list(capacity.modalities) if capacity else []
        candidates.append(
            Candidate(
                proposal=p,
                capacity=capacity,
                fallback=is_fallback(p),
                factors=factors,
                availability=availability(need, capacity),
                shared_modalities=[m for m in need.modalities if m in offered],
                offered_modalities=offered,
                notes=notes_by_side(p),
                comments=int(comment_counts.get(p.id or 0, 0)),
                vetoed=(p.provider, p.recipient) in vetoed,
            )
        )
    # Ready to decide first (the provider confirmed), then those awaiting an answer, then the
    # declined and the decided ones; in the matcher's order within each (its rank: by score,
    # save near-ties, which a shared language then a closer region decide: matching/ties.py).
    ready_first = ("provider_confirmed", "proposed", "provider_declined", "accepted", "rejected")
    order = {s: i for i, s in enumerate(ready_first)}
    candidates.sort(key=lambda c: order.get(c.proposal.status, 9))  # stable: keeps the rank
    return NeedReview(
        need=need,
        candidates=candidates,
        factors=sorted(weights, key=lambda f: -weights[f]),
        superseded=int(superseded),
        runs=sorted({p.run_id for p in proposals}),
    )
