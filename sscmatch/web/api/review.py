"""API of matching and review: live matches of a need, proposals, decisions, answers, runs.

The same use cases as the pages (:mod:`sscmatch.workflow.proposals`,
:mod:`sscmatch.workflow.matchruns`); a refusal answers ``{"error", "message"}`` with its status
(403 another country's proposal, 404 unknown, 409 illegal transition or stale version, 422 bad
input such as a missing reason).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from sscmatch.models import MatchRun, Need
from sscmatch.schemas import MAX_INT, MAX_REF, MAX_TEXT, Moment
from sscmatch.vocab import load_vocabulary
from sscmatch.web import reasons
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
from sscmatch.web.db import get_session
from sscmatch.web.sent_once import sent_once
from sscmatch.web.tours import draft_settings
from sscmatch.workflow import matchruns, visibility
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.base import N_

STAFF = ("secretariat", "admin")
READERS = ("secretariat", "admin", "analyst", "focal_point")


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject", "alternate", "veto"]
    reason: str | None = Field(default=None, max_length=MAX_TEXT)
    alternate: int | None = Field(default=None, ge=1, le=MAX_INT)
    # The alternate's version as read (optional: without it, the one the server reads now).
    alternate_version: int | None = Field(default=None, ge=1, le=MAX_INT)
    version: int = Field(ge=1, le=MAX_INT)
    # Accept what the provider has not confirmed (its focal point has not answered): the
    # reason says why.
    override: bool = False
    # Say what the decision would change, and change nothing.
    dry_run: bool = False


class ProposalResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response: Literal["confirm", "decline", "fits", "does_not_fit"]
    note: str | None = Field(default=None, max_length=MAX_TEXT)
    version: int = Field(ge=1, le=MAX_INT)


class MatchRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    needs: list[Annotated[str, Field(max_length=MAX_REF)]] = Field(
        default_factory=list, max_length=10000
    )
    top: int = Field(default=5, ge=1, le=50)


# ----------------------------------------------------------------------------- answers


class ReasonText(BaseModel):
    """One reason: its code and parameters (a client may render them itself) and the sentence
    in the request's language (code null: a sentence stored by a run older than codes)."""

    code: str | None
    params: dict[str, Any]
    text: str


class Ranked(BaseModel):
    """A provider ranked for a need (basis ``capacity``, or ``experience`` for a fallback with
    capacity null): its score, the breakdown and the reasons."""

    need: str
    recipient: str
    rank: int
    provider: str
    capacity: str | None
    basis: str
    addresses: bool
    score: float
    components: dict[str, float]
    contributions: dict[str, float]
    damping: float
    reasons: list[ReasonText]


class LiveProposal(Ranked):
    """A provider ranked now for a need (not stored), as one entry of `sscmatch match --json`."""

    institution: str | None


class LiveMatches(BaseModel):
    """A need's ranking now: nothing is stored (``as_of`` is always null)."""

    as_of: str | None
    need: str
    proposals: list[LiveProposal]


RANK_NULL = (
    "the proposal's place in its run's ranking for the need (1 = first); null for a provider's "
    "focal point, who sees no other provider's proposal and so no rank either (it would say how "
    "many competitors stand above)"
)


class ProposalRecord(Ranked):
    """A stored proposal of a match run: the ranking and where its review stands."""

    rank: int | None = Field(description=RANK_NULL)  # type: ignore[assignment]
    id: int
    run: int
    status: str
    recipient_fit: str | None
    notes: dict[str, str]
    version: int
    created_at: Moment
    updated_at: Moment


class ListedProposal(ProposalRecord):
    """A proposal in a list, with its need's and capacity's titles (null for a fallback)."""

    need_title: str | None
    capacity_title: str | None


class ReviewRecord(BaseModel):
    """A decision on a proposal: who, when, why; ``reverted_at`` once it was undone."""

    id: int
    decision: str
    reason: str | None
    alternate: int | None
    reviewer: int | None
    at: Moment
    override: bool
    reverted_at: Moment | None


class Alternate(BaseModel):
    """Another proposal of the same need in the same run."""

    id: int
    rank: int | None = Field(description=RANK_NULL)
    provider: str
    capacity: str | None
    score: float
    status: str
    version: int


class Evidence(BaseModel):
    """Ids of the exchanges between the two countries and of the provider's on the need's
    themes."""

    between: list[str]
    on_themes: list[str]


class ProposalDetail(ProposalRecord):
    """One proposal with its alternates, its evidence and its decisions."""

    alternates: list[Alternate]
    every_alternate: bool = Field(
        description="whether `alternates` holds every other proposal of the need in the run: "
        "false for a provider's focal point, from whom the other providers' proposals are hidden "
        "(an empty list then does not mean that no one else was proposed)"
    )
    evidence: Evidence
    reviews: list[ReviewRecord]


class RecordStatus(BaseModel):
    """Where a record a decision touched stands: its id and status."""

    id: int | str
    status: str


class VetoMade(BaseModel):
    """The provider → recipient pair a veto excludes."""

    id: int
    provider: str
    recipient: str


class DecisionOutcome(BaseModel):
    """A decision's answer: the proposal, its review and what else it changed (with
    ``dry_run``: what it would change)."""

    proposal: ProposalRecord
    review: ReviewRecord | None
    accepted: int | None
    override: bool
    superseded: list[int]
    need: RecordStatus | None
    veto: VetoMade | None
    tour: str | None
    dry_run: bool


class JobState(BaseModel):
    """The job computing a run: state, progress, attempts, whether it waits for a worker."""

    id: int
    kind: str
    state: str
    finished: bool
    step: str | None
    done: int
    total: int
    percent: int
    attempts: int
    max_attempts: int
    retried: bool
    retry_at: Moment | None = None  # queued again after the database was busy: tried then
    worker: str | None
    waiting_for_worker: bool
    error: str | None
    created_at: Moment
    started_at: Moment | None
    finished_at: Moment | None


class MatchRunRecord(BaseModel):
    """A match run: parameters, progress, status, proposal count, error, and its job (null
    when no job computes it)."""

    id: int
    status: str
    created_at: Moment
    created_by: int | None
    finished_at: Moment | None
    as_of: str | None
    top: int
    needs: list[str]
    needs_total: int
    needs_done: int
    proposals: int
    error: str | None
    job: JobState | None


def _db() -> Any:
    return get_session()


T = TypeVar("T")


def rehearse(act: Callable[[], T], describe: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """A dry run: make the change in a savepoint, describe it, roll it back (nothing is
    written, no notice is sent). A refusal is raised as the real change would raise it."""
    db = _db()
    savepoint = db.begin_nested()
    try:
        result = act()
        db.flush()
        return {**describe(result), "dry_run": True}
    finally:
        savepoint.rollback()
        db.expire_all()


def _visible(proposal: Any) -> None:
    if not visibility.may_see(current_user, proposal):
        raise ApiError(403, "forbidden", N_("this proposal does not involve your country"))


def _detail(proposal: Any) -> dict[str, Any]:
    db = _db()
    data = proposal_json(proposal)
    evidence = wf.evidence(db, proposal, load_vocabulary())
    data["alternates"] = [
        {
            "id": a.id,
            "rank": wf.rank_for(a, current_user),
            "provider": a.provider,
            "capacity": a.capacity,
            "score": round(a.score, 6),
            "status": a.status,
            "version": a.version,
        }
        for a in wf.alternates(db, proposal, viewer=current_user)
    ]
    data["every_alternate"] = wf.sees_every_alternate(proposal, current_user)
    data["evidence"] = {
        "between": [e.id for e in evidence.between],
        "on_themes": [e.id for e in evidence.on_themes],
    }
    data["reviews"] = [wf.review_to_dict(r) for r in wf.history(db, proposal.id)]
    return ProposalDetail.model_validate(data).model_dump(mode="json")


# ----------------------------------------------------------------------------- live matches


def proposal_json(proposal: Any) -> dict[str, Any]:
    """A stored proposal's public shape (:class:`ProposalRecord`), its reasons as code,
    parameters and the sentence in the request's language; its rank as the caller may read it
    (:func:`~sscmatch.workflow.visibility.sees_rank`: null, and no near-tie reason, for a
    provider's focal point)."""
    data = wf.to_dict(proposal, current_user)
    data["reasons"] = [reasons.as_json(r) for r in data["reasons"]]
    return ProposalRecord.model_validate(data).model_dump(mode="json")


def live_json(proposal: Any) -> dict[str, Any]:
    """A proposal ranked now (not stored), in the shape of ``sscmatch match --json``
    (:class:`LiveProposal`), its reasons rendered in the request's language too."""
    data: dict[str, Any] = proposal.to_dict()
    data["reasons"] = [reasons.as_json(r) for r in proposal.reasons]
    return data


def _open_need(db: Any, need_id: str) -> None:
    """404 for an unknown need, 409 for one that is not open: only open needs are matched."""
    need = db.get(Need, need_id)
    if need is None:
        raise ApiError(404, "not_found", N_("no need %(id)s"), id=repr(need_id))
    if need.status != "open":
        raise ApiError(
            409,
            "not_open",
            N_("need %(id)s is %(status)s; only open needs match"),
            id=repr(need_id),
            status=need.status,
        )


@bp.get("/needs/<need_id>/matches", endpoint="review_need_matches")
@access("focal_point", "secretariat", "analyst", "admin")
@operation(
    returns=LiveMatches,
    query=[query_arg("top", "integer", minimum=1, maximum=50)],
    responses={
        "200": "the ranking",
        "403": "a focal point of another country than the need's",
        "404": "unknown need",
        "409": "the need is not open",
    },
)
def need_matches(need_id: str) -> Any:
    """Rank providers for one open need now (nothing is stored); proposals as in `match
    --json`.

    Who: secretariat, admin, analyst, focal_point of the need's country (a ranking of every
    provider: another country's focal point, a provider, sees no competitor's proposal nor
    any rank)."""
    top = int_arg("top", 5, 1, 50)
    db = _db()
    _open_need(db, need_id)
    if not visibility.sees_every_proposal_for(current_user, db.get(Need, need_id).country):
        raise ApiError(
            403, "forbidden", N_("the ranking of a need is shown to its country's focal points")
        )
    ranked = matchruns.compute(db, load_vocabulary(), need_ids=[need_id], top_k=top)
    answer = {"as_of": None, "need": need_id, "proposals": [live_json(p) for p in ranked]}
    return jsonify(LiveMatches.model_validate(answer).model_dump(mode="json"))


# ----------------------------------------------------------------------------- proposals


@bp.get("/proposals", endpoint="review_list_proposals")
@access(*READERS)
@operation(
    returns=PageOf(ListedProposal),
    query=[
        {
            "name": "status",
            "in": "query",
            "description": "repeat or comma-separate; `all` for every status; "
            "default proposed,provider_confirmed",
            "schema": {"type": "string"},
        },
        query_arg("theme"),
        {
            "name": "region",
            "in": "query",
            "description": "M49 region of either side",
            "schema": {"type": "string"},
        },
        query_arg("country"),
        query_arg("min_score", "number"),
        query_arg("max_score", "number"),
        query_arg("run", "integer"),
        query_arg("need"),
        query_arg("sort", "string", enum=list(wf.SORTS)),
        query_arg("page", "integer", minimum=1),
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
        },
    ],
    responses={"200": "a page of proposals", "400": "a bad filter"},
)
def list_proposals() -> Any:
    """List stored proposals (a focal point sees those of their country only)."""
    from sscmatch.web.review import page_number, parse_filters

    size = int_arg("per_page", int(current_app.config["PAGE_SIZE"]), 1, 200)
    involving = current_user.country if current_user.role == "focal_point" else None
    if current_user.role == "focal_point" and not involving:
        raise ApiError(403, "forbidden", N_("your account is not bound to a country"))
    filters = parse_filters(request.args, involving=involving)
    page = wf.list_proposals(_db(), filters, page_number(request.args), size, viewer=current_user)
    return paged(
        [
            ListedProposal.model_validate(
                {
                    **proposal_json(r.proposal),
                    "need_title": r.need_title,
                    "capacity_title": r.capacity_title or None,  # None: a fallback proposal
                }
            ).model_dump(mode="json")
            for r in page.items
        ],
        page=page.number,
        per_page=page.size,
        pages=page.pages,
        total=page.total,
    )


@bp.get("/proposals/<int:proposal_id>", endpoint="review_get_proposal")
@access(*READERS)
@operation(
    returns=ProposalDetail,
    responses={"200": "the proposal", "403": "another country's", "404": "unknown"},
)
def get_proposal(proposal_id: int) -> Any:
    """One proposal with its breakdown, reasons, alternates, evidence and decisions.

    Who: secretariat, admin, analyst, focal_point of either country."""
    proposal = wf.get_proposal(_db(), proposal_id)
    _visible(proposal)
    return jsonify(_detail(proposal))


def outcome_json(outcome: wf.Outcome) -> dict[str, Any]:
    """A decision's answer (:class:`DecisionOutcome`): the proposal, its review and what else
    it changed."""
    accepted = outcome.accepted
    need = _db().get(Need, accepted.need) if accepted is not None else None
    answer = {
        "proposal": proposal_json(outcome.proposal),
        "review": wf.review_to_dict(outcome.review) if outcome.review else None,
        "accepted": accepted.id if accepted else None,
        "override": outcome.overridden,
        "superseded": outcome.superseded,
        "need": {"id": need.id, "status": need.status} if need is not None else None,
        "veto": (
            {
                "id": outcome.veto.id,
                "provider": outcome.veto.provider,
                "recipient": outcome.veto.recipient,
            }
            if outcome.veto
            else None
        ),
        "tour": getattr(outcome.tour, "id", None),
        "dry_run": False,
    }
    return DecisionOutcome.model_validate(answer).model_dump(mode="json")


@bp.post("/proposals/<int:proposal_id>/decision", endpoint="review_decide")
@access(*STAFF)
@operation(
    returns=DecisionOutcome,
    body=Decision,
    responses={
        "200": "the decided proposal and the effects (with `dry_run`: what they would be)",
        "404": "unknown proposal",
        "409": "illegal transition, `override_required` (the provider has not confirmed), "
        "`already_vetoed` (a veto of the pair exists), `need_not_open`, `pair_vetoed` (an "
        "acceptance of a vetoed pair), or stale version (someone decided meanwhile)",
        "422": "bad body, missing reason or bad alternate",
    },
)
def decide(proposal_id: int, body: Decision) -> Any:
    """Decide: accept, reject (reason), alternate (alternate id and the reason this one is
    rejected) or veto the provider → recipient pair (reason); `version` is the proposal's
    version you read. A veto is about the pair: on a proposal still open it rejects it too; on
    a rejected or superseded one it leaves it as it is (an accepted one is refused); either way
    the pair's other open proposals leave play (`superseded` lists them; lifting the veto puts
    them back).
    Accepting a proposal (or alternate) its provider has not confirmed needs `override: true`
    and a reason. `dry_run: true` answers what would change and changes nothing."""
    db = _db()

    def act() -> wf.Outcome:
        if body.decision == "alternate":
            return wf.choose_alternate(
                db,
                proposal_id,
                body.alternate,
                user_id=current_user.id,
                version=body.version,
                alternate_version=body.alternate_version,
                reason=body.reason,
                override=body.override,
                drafting=draft_settings(),
            )
        return wf.decide(
            db,
            proposal_id,
            body.decision,
            user_id=current_user.id,
            version=body.version,
            reason=body.reason,
            alternate_id=body.alternate,
            override=body.override,
            drafting=draft_settings(),
        )

    if body.dry_run:
        return jsonify(rehearse(act, outcome_json))
    outcome = act()
    db.flush()
    answer = outcome_json(outcome)
    db.commit()
    return jsonify(answer)


@bp.post("/proposals/<int:proposal_id>/response", endpoint="review_respond")
@access("focal_point")
@operation(
    returns=ProposalRecord,
    body=ProposalResponse,
    guard=lambda proposal_id: _visible(wf.get_proposal(_db(), proposal_id)),
    responses={
        "200": "the proposal",
        "403": "not your country's side",
        "409": "illegal transition or stale version",
        "422": "bad body",
    },
)
def respond(proposal_id: int, body: ProposalResponse) -> Any:
    """A focal point's answer: the provider confirms or declines availability; the recipient
    says whether it fits (`fits` / `does_not_fit`); optional note.

    Who: focal_point of the provider or recipient country."""
    db = _db()
    proposal = wf.respond(
        db,
        proposal_id,
        body.response,
        user_id=current_user.id,
        country=current_user.country,
        version=body.version,
        note=body.note,
    )
    db.commit()
    return jsonify(proposal_json(proposal))


# ----------------------------------------------------------------------------- match runs


@bp.post("/match-runs", endpoint="review_start_run")
@access(*STAFF)
@sent_once
@operation(
    returns=MatchRunRecord,
    body=MatchRunRequest,
    responses={
        "201": "the run, finished (status done, or failed with its error)",
        "202": "the run, queued for a worker or being computed",
        "404": "unknown need",
        "409": "a need is not open",
        "422": "bad body",
    },
)
def start_run(body: MatchRunRequest) -> Any:
    """Start the matcher for the named open needs (all open needs when `needs` is empty) and
    store the run for review. A worker computes it: the answer is 202 with the run (status
    running) and its `job` (queued, running), to follow at the `Location` given; 201 when it
    had already finished when answering (a server that carries out jobs itself,
    `JOBS_SYNC`)."""
    from sscmatch.web.matching import launch, queue_run, run_job_status

    db = _db()
    for need_id in body.needs:
        _open_need(db, need_id)
    run = matchruns.begin_run(db, need_ids=body.needs, top_k=body.top, user_id=current_user.id)
    job = queue_run(db, run, body.needs, current_user.id)
    db.commit()
    assert run.id is not None
    launch(job)
    db.expire_all()
    found = db.get(MatchRun, run.id)
    assert found is not None
    job_state = run_job_status(db, found)  # first: it may read the run again, finished meanwhile
    data = {**wf.run_to_dict(found), "job": job_state}
    finished = found.status != "running"
    response = jsonify(MatchRunRecord.model_validate(data).model_dump(mode="json"))
    response.status_code = 201 if finished else 202
    response.headers["Location"] = url_for("api.review_get_run", run_id=run.id)
    return response


@bp.get("/match-runs/<int:run_id>", endpoint="review_get_run")
@access("secretariat", "admin", "analyst")
@operation(returns=MatchRunRecord, responses={"200": "the run", "404": "unknown run"})
def get_run(run_id: int) -> Any:
    """A match run: parameters, progress, status, proposal count, error, and the state of the
    job computing it (`job`: queued, running, done, failed; attempts; waiting for a worker)."""
    from sscmatch.jobs import recover
    from sscmatch.web.matching import run_with_job

    recover(current_app.extensions["sscmatch.engine"])
    run, job = run_with_job(_db(), run_id)
    if run is None:
        raise ApiError(404, "not_found", N_("no match run %(id)s"), id=run_id)
    data = {**wf.run_to_dict(run), "job": job}
    return jsonify(MatchRunRecord.model_validate(data).model_dump(mode="json"))
