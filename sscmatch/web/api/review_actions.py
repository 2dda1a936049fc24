"""API of the review's second thoughts and shared work: reverting a decision, vetoes (listed,
lifted), reopening a need, one decision over many proposals, and comments on a proposal.

The same use cases as the pages (:mod:`sscmatch.workflow.proposals`, whose ``undo``, ``bulk``
and ``comments`` modules say the rules). Changes carry the ``version`` of the record they were
decided on (409 ``conflict`` when it is stale); a step the world has moved past answers 409
``not_possible`` with what to do first; a missing reason 422 ``reason_required``. The revert and
the bulk decision take ``dry_run: true``: the answer says what would change, nothing is written.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from sscmatch.models import Need, Review, StudyTour, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.schemas import MAX_INT, MAX_TEXT, Moment
from sscmatch.web.access import access
from sscmatch.web.api import (
    ApiError,
    PageOf,
    bp,
    int_arg,
    operation,
    paged,
    query_arg,
)
from sscmatch.web.api.registry import NeedRecord, need_json
from sscmatch.web.api.review import (
    STAFF,
    ProposalRecord,
    RecordStatus,
    ReviewRecord,
    _db,
    _visible,
    proposal_json,
    rehearse,
)
from sscmatch.web.errors import error_text
from sscmatch.web.sent_once import sent_once
from sscmatch.web.tours import draft_settings
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.base import N_, country_filter

READERS = ("secretariat", "admin", "analyst")
PAGING = [
    query_arg("page", "integer", minimum=1),
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]


class Revert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=MAX_TEXT)
    version: int = Field(ge=1, le=MAX_INT)
    dry_run: bool = False


class LiftVeto(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=MAX_TEXT)


class Reopen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=MAX_TEXT)
    version: int = Field(ge=1, le=MAX_INT)


class BulkItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int = Field(ge=1, le=MAX_INT)
    version: int = Field(ge=1, le=MAX_INT)


class BulkDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject"]
    items: list[BulkItem] = Field(max_length=wf.MAX_BULK)
    reason: str | None = Field(default=None, max_length=MAX_TEXT)
    override: bool = False
    dry_run: bool = False


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=MAX_TEXT)


# ----------------------------------------------------------------------------- revert


def _status_of(model: Any, key: Any) -> dict[str, Any] | None:
    found = _db().get(model, key) if key else None
    return {"id": found.id, "status": found.status} if found is not None else None


class RevertOutcome(BaseModel):
    """A revert's answer: the proposal, the revert's review, the decision it undid and where
    each record it touched stands now (with ``dry_run``: would stand)."""

    proposal: ProposalRecord
    review: ReviewRecord
    reverted: ReviewRecord | None
    proposals: list[RecordStatus | None]
    need: RecordStatus | None
    tour: RecordStatus | None
    veto_lifted: int | None
    dry_run: bool


def revert_json(done: Review) -> dict[str, Any]:
    """A revert's answer (:class:`RevertOutcome`): the proposal, the revert's review, the
    decision it undid and where everything it touched stands now."""
    db = _db()
    reverted = db.get(Review, (done.effects or {}).get("reverted"))
    proposal = wf.get_proposal(db, done.proposal_id)
    effects = (reverted.effects if reverted else None) or {}
    touched = {
        int(i)
        for i in (
            *(effects.get("superseded") or {}),
            *((done.effects or {}).get("restored") or []),  # back with the veto lifted
            effects.get("accepted"),
            reverted.alternate_id if reverted else None,
        )
        if i
    } - {proposal.id}
    answer = {
        "proposal": proposal_json(proposal),
        "review": wf.review_to_dict(done),
        "reverted": wf.review_to_dict(reverted) if reverted else None,
        "proposals": [_status_of(StoredProposal, i) for i in sorted(touched)],
        "need": _status_of(Need, proposal.need),
        "tour": _status_of(StudyTour, effects.get("tour")),
        "veto_lifted": effects.get("veto")
        if db.get(Veto, effects.get("veto") or 0) is None
        else None,
        "dry_run": False,
    }
    return RevertOutcome.model_validate(answer).model_dump(mode="json")


@bp.post("/proposals/<int:proposal_id>/revert", endpoint="review_revert")
@access(*STAFF)
@operation(
    returns=RevertOutcome,
    body=Revert,
    responses={
        "200": "the proposal, the revert and where each record it touched stands",
        "404": "unknown proposal",
        "409": "stale version, or `not_possible` (nothing to revert, the tour is under way, "
        "the proposal moved on)",
        "422": "bad body or missing reason",
    },
)
def revert(proposal_id: int, body: Revert) -> Any:
    """Revert the latest decision on the proposal (a reason is required): its status goes back,
    the proposals its acceptance superseded reopen, the need it matched reopens, the draft
    tour it made is cancelled, the veto it made is lifted; an alternate choice is reverted
    whole. `dry_run: true` answers what would change and changes nothing."""
    db = _db()

    def act() -> Review:
        return wf.revert(
            db, proposal_id, user_id=current_user.id, version=body.version, reason=body.reason
        )

    if body.dry_run:
        return jsonify(rehearse(act, revert_json))
    done = act()
    db.flush()
    answer = revert_json(done)
    db.commit()
    return jsonify(answer)


# ----------------------------------------------------------------------------- vetoes


class VetoRecord(BaseModel):
    """A provider → recipient pair excluded from matching, why, by whom and when."""

    id: int
    provider: str
    recipient: str
    reason: str
    created_by: int | None
    created_at: Moment


class LiftedVeto(VetoRecord):
    """A lifted veto as it was, and the proposals it had taken out of play that are back."""

    restored: list[int]


def veto_json(pair: Veto | dict[str, Any]) -> dict[str, Any]:
    get = pair.get if isinstance(pair, dict) else lambda name: getattr(pair, name)
    fields = {name: get(name) for name in VetoRecord.model_fields}
    return VetoRecord.model_validate(fields).model_dump(mode="json")


@bp.get("/vetoes", endpoint="review_vetoes")
@access(*READERS)
@operation(
    returns=PageOf(VetoRecord),
    query=[query_arg("country"), *PAGING],
    responses={"200": "a page of vetoes", "400": "a bad parameter"},
)
def vetoes() -> Any:
    """The provider → recipient pairs excluded from matching, newest first (`country`: either
    side)."""
    size = int_arg("per_page", int(current_app.config["PAGE_SIZE"]), 1, 200)
    number = int_arg("page", 1, 1, 100_000)
    country = country_filter(request.args.get("country"))
    found = wf.list_vetoes(_db(), country, number, size)
    return paged(
        [veto_json(v) for v, _who in found.items],
        page=number,
        per_page=size,
        pages=found.pages,
        total=found.total,
    )


@bp.post("/vetoes/<int:veto_id>/lift", endpoint="review_lift_veto")
@access(*STAFF)
@operation(
    returns=LiftedVeto,
    body=LiftVeto,
    responses={
        "200": "the veto as it was, and the proposals put back",
        "404": "unknown veto, or lifted already",
        "422": "bad body or missing reason",
    },
)
def lift_veto(veto_id: int, body: LiftVeto) -> Any:
    """Lift a veto (a reason is required): later runs may propose the pair again, and the
    pair's proposals the veto took out of play are back as they were (`restored`, while their
    need and offer are still in play); proposals rejected with it stay rejected (revert them
    one by one)."""
    db = _db()
    before, restored = wf.lift_veto(db, veto_id, user_id=current_user.id, reason=body.reason)
    db.commit()
    return jsonify(
        LiftedVeto.model_validate({**veto_json(before), "restored": restored}).model_dump(
            mode="json"
        )
    )


# ----------------------------------------------------------------------------- needs


@bp.post("/needs/<need_id>/reopen", endpoint="review_reopen_need")
@access(*STAFF)
@operation(
    body=Reopen,
    returns=NeedRecord,
    responses={
        "200": "the need",
        "404": "unknown need",
        "409": "stale version, or `not_possible` (not matched or closed, a tour under way)",
        "422": "bad body or missing reason",
    },
)
def reopen_need(need_id: str, body: Reopen) -> Any:
    """Reopen a matched or closed need (a reason is required): it is open again and later runs
    match it; refused while a study tour for it is under way (cancel the tour, which reopens
    it)."""

    db = _db()
    need = wf.reopen_need(
        db, need_id.strip(), user_id=current_user.id, version=body.version, reason=body.reason
    )
    db.commit()
    return jsonify(need_json(need))


# ----------------------------------------------------------------------------- bulk


class Refused(BaseModel):
    """A proposal a bulk decision left alone, and why."""

    id: int
    message: str


class BulkOutcome(BaseModel):
    """What one decision over many proposals did: those decided, those changed meanwhile
    (stale version), those refused and why, and those an acceptance superseded."""

    decision: str
    done: list[int]
    conflicted: list[int]
    refused: list[Refused]
    superseded: list[int]
    dry_run: bool


def bulk_json(decision: str, result: wf.BulkResult) -> dict[str, Any]:
    return BulkOutcome(
        decision=decision,
        done=result.done,
        conflicted=result.conflicted,
        refused=[Refused(id=i, message=error_text(why)) for i, why in result.refused],
        superseded=result.superseded,
        dry_run=False,
    ).model_dump(mode="json")


@bp.post("/proposals/bulk-decision", endpoint="review_bulk_decision")
@access(*STAFF)
@operation(
    returns=BulkOutcome,
    body=BulkDecision,
    responses={
        "200": "what was decided, changed meanwhile or refused",
        "422": "bad body, no proposal, more than 500, or missing reason",
    },
)
def bulk_decision(body: BulkDecision) -> Any:
    """One decision (accept or reject, with the reason a rejection or an override needs) over
    many proposals, each given with the `version` you read; each is decided on its own: the
    answer lists those done, those changed meanwhile (stale version, not decided) and those
    refused with why. `dry_run: true` answers the same and changes nothing."""
    db = _db()
    items = [(item.id, item.version) for item in body.items]

    def act() -> wf.BulkResult:
        return wf.decide_many(
            db,
            body.decision,
            items,
            user_id=current_user.id,
            reason=body.reason,
            override=body.override,
            drafting=draft_settings(),
        )

    if body.dry_run:
        return jsonify(rehearse(act, lambda r: bulk_json(body.decision, r)))
    result = act()
    db.commit()
    return jsonify(bulk_json(body.decision, result))


# ----------------------------------------------------------------------------- comments


class CommentRecord(BaseModel):
    """A comment on a proposal: who wrote it (name and role) and when."""

    id: int
    proposal: int
    author: str
    author_role: str
    body: str
    created_at: Moment


def comment_json(comment: Any, author: str, role: str) -> dict[str, Any]:
    return CommentRecord(
        id=comment.id,
        proposal=comment.proposal_id,
        author=author,
        author_role=role,
        body=comment.body,
        created_at=comment.created_at,
    ).model_dump(mode="json")


def _readable(proposal_id: int) -> StoredProposal:
    proposal = wf.get_proposal(_db(), proposal_id)
    _visible(proposal)
    return proposal


@bp.get("/proposals/<int:proposal_id>/comments", endpoint="review_comments")
@access("secretariat", "admin", "analyst", "focal_point")
@operation(
    returns=PageOf(CommentRecord),
    query=[*PAGING],
    responses={"200": "a page of comments", "403": "another country's", "404": "unknown"},
)
def comments(proposal_id: int) -> Any:
    """The comments on a proposal, oldest first.

    Who: secretariat, admin, analyst, focal_point of either country."""
    size = int_arg("per_page", int(current_app.config["PAGE_SIZE"]), 1, 200)
    number = int_arg("page", 1, 1, 100_000)
    _readable(proposal_id)
    thread = wf.comments_of(_db(), proposal_id)
    shown = thread[(number - 1) * size : number * size]
    return paged(
        [comment_json(*row) for row in shown],
        page=number,
        per_page=size,
        pages=max(1, -(-len(thread) // size)),
        total=len(thread),
    )


def _commenter(proposal_id: int) -> None:
    """404 or 403 before the comment is read: another country's proposal."""
    proposal = _readable(proposal_id)
    if not wf.may_comment(current_user, proposal.provider, proposal.recipient):
        raise ApiError(403, "forbidden", N_("this proposal does not involve your country"))


@bp.post("/proposals/<int:proposal_id>/comments", endpoint="review_add_comment")
@access("secretariat", "admin", "focal_point")
@sent_once
@operation(
    returns=CommentRecord,
    body=Comment,
    guard=_commenter,
    responses={
        "201": "the comment",
        "403": "not a country of the proposal",
        "404": "unknown proposal",
        "422": "bad body or empty comment",
    },
)
def add_comment(proposal_id: int, body: Comment) -> Any:
    """Comment on a proposal (the secretariat and the focal points of its two countries); the
    others concerned are told in their notices.

    Who: secretariat, admin, focal_point of either country."""
    db = _db()
    made = wf.add_comment(
        db, proposal_id, viewer=current_user, user_id=current_user.id, body=body.body
    )
    db.commit()
    author = current_user.name or current_user.email
    location = {"Location": f"/api/v1/proposals/{proposal_id}/comments"}
    return jsonify(comment_json(made, author, current_user.role)), 201, location
