"""The review of proposals, one concept a module:

- :mod:`.lifecycle`: statuses, legal steps, the errors of a refused step, how a step is written;
- :mod:`.queue`: the review queue's filters, sorting and paging;
- :mod:`.decisions`: the secretariat's decisions (accept, reject, alternate, veto);
- :mod:`.undo`: reverting a decision, lifting a veto, reopening a need;
- :mod:`.bulk`: one decision over many proposals, each checked on its own version;
- :mod:`.responses`: the focal points' answers;
- :mod:`.comments`: remarks on a proposal;
- :mod:`.candidates`: a need's candidates side by side;
- :mod:`.evidence`: breakdown, past exchanges, alternates, decisions made;
- :mod:`.serialise`: the public JSON shapes.

Everything is re-exported here: ``from sscmatch.workflow import proposals as wf`` then
``wf.accept(...)``, ``wf.list_proposals(...)``.
"""

from sscmatch.workflow.base import Page
from sscmatch.workflow.proposals.bulk import (
    BULK_DECISIONS,
    MAX_BULK,
    BulkResult,
    check_bulk,
    decide_many,
)
from sscmatch.workflow.proposals.candidates import Candidate, NeedReview, availability, need_review
from sscmatch.workflow.proposals.comments import add_comment, comments_of, may_comment
from sscmatch.workflow.proposals.decisions import (
    AlreadyVetoedError,
    Outcome,
    accept,
    choose_alternate,
    decide,
    reject,
    veto,
)
from sscmatch.workflow.proposals.evidence import (
    Evidence,
    alternates,
    breakdown,
    evidence,
    history,
    is_fallback,
    placed_above_higher,
    rank_for,
    reasons_for,
    sees_every_alternate,
)
from sscmatch.workflow.proposals.lifecycle import (
    DECISIONS,
    FINAL,
    NEEDS_OVERRIDE,
    OPEN_STATUSES,
    PROVIDER_RESPONSES,
    QUEUE_DEFAULT,
    RECIPIENT_RESPONSES,
    RESPONSES,
    STATUSES,
    SYSTEM_TRANSITIONS,
    TRANSITIONS,
    BadFilterError,
    ForbiddenError,
    IllegalTransitionError,
    NotFoundError,
    OverrideRequiredError,
    ProposalError,
    ReasonRequiredError,
    can_transition,
    check_transition,
    get_proposal,
)
from sscmatch.workflow.proposals.offers import pair_veto_of, restorable
from sscmatch.workflow.proposals.queue import (
    NEED_SORTS,
    SORTS,
    Filters,
    NeedRow,
    Row,
    check_filters,
    list_proposals,
    matching_ids,
    needs_to_review,
    open_need_ids,
    proposal_records,
    regions,
)
from sscmatch.workflow.proposals.responses import notes_by_side, respond, side_of
from sscmatch.workflow.proposals.serialise import review_to_dict, run_to_dict, to_dict
from sscmatch.workflow.proposals.undo import (
    UndoRefused,
    get_veto,
    latest_decision,
    lift_veto,
    list_vetoes,
    reopen_need,
    revert,
    revert_refusal,
    why_not_revertible,
)

__all__ = [
    "BULK_DECISIONS",
    "DECISIONS",
    "FINAL",
    "MAX_BULK",
    "NEEDS_OVERRIDE",
    "NEED_SORTS",
    "OPEN_STATUSES",
    "PROVIDER_RESPONSES",
    "QUEUE_DEFAULT",
    "RECIPIENT_RESPONSES",
    "RESPONSES",
    "SORTS",
    "STATUSES",
    "SYSTEM_TRANSITIONS",
    "TRANSITIONS",
    "AlreadyVetoedError",
    "BadFilterError",
    "BulkResult",
    "Candidate",
    "Evidence",
    "Filters",
    "ForbiddenError",
    "IllegalTransitionError",
    "NeedReview",
    "NeedRow",
    "NotFoundError",
    "Outcome",
    "OverrideRequiredError",
    "Page",
    "ProposalError",
    "ReasonRequiredError",
    "Row",
    "UndoRefused",
    "accept",
    "add_comment",
    "alternates",
    "availability",
    "breakdown",
    "can_transition",
    "check_bulk",
    "check_filters",
    "check_transition",
    "choose_alternate",
    "comments_of",
    "decide",
    "decide_many",
    "evidence",
    "get_proposal",
    "get_veto",
    "history",
    "is_fallback",
    "latest_decision",
    "lift_veto",
    "list_proposals",
    "list_vetoes",
    "matching_ids",
    "may_comment",
    "need_review",
    "needs_to_review",
    "notes_by_side",
    "open_need_ids",
    "pair_veto_of",
    "placed_above_higher",
    "proposal_records",
    "rank_for",
    "reasons_for",
    "regions",
    "reject",
    "reopen_need",
    "respond",
    "restorable",
    "revert",
    "revert_refusal",
    "review_to_dict",
    "run_to_dict",
    "sees_every_alternate",
    "side_of",
    "to_dict",
    "veto",
    "why_not_revertible",
]
