"""Study tours and commitments in the JSON API (``/api/v1/tours``, ``/api/v1/commitments``).

Reads are open to every signed-in role; writes follow the same rules as the pages (the
secretariat everywhere, focal points on their own country's tours and commitments). Edits carry
the ``version`` they started from; a stale one answers 409.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from sscmatch.dates import as_text
from sscmatch.models import Commitment, CommitmentUpdate, Proposal, StudyTour
from sscmatch.schemas import (
    MAX_DESCRIPTION,
    MAX_INT,
    MAX_ITEMS,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    Moment,
)
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.api import (
    ApiError,
    ItemsOf,
    PageOf,
    bp,
    int_arg,
    operation,
    paged,
    query_arg,
)
from sscmatch.web.db import get_session
from sscmatch.web.followup_list import chosen_filter
from sscmatch.web.sent_once import sent_once
from sscmatch.web.tours import today, tour_rates
from sscmatch.workflow import commitment_list
from sscmatch.workflow import commitments as kwf
from sscmatch.workflow import tours as wf
from sscmatch.workflow.base import N_

WRITERS = ("focal_point", "secretariat", "admin")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# The same limits as the use cases apply (sscmatch.schemas, sscmatch.workflow.tours), stated here
# so that openapi.json says them and a body beyond them is refused before any work.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
Short = Annotated[str, Field(max_length=MAX_TITLE)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Long = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
Ref = Annotated[str, Field(max_length=MAX_REF)]


class TourCreate(_Body):
    proposal_id: Id | None = None
    need: Ref | None = None
    capacity: Ref | None = None


class Member(_Body):
    side: Literal["visiting", "host"] = "visiting"
    name: Short = ""
    role: Short = ""
    institution: Short = ""
    constituency: Ref = "other"


class AgendaSession(_Body):
    start: Ref
    end: Ref
    kind: Ref = "other"
    title: Short
    place: Short = ""


class Day(_Body):
    day: Annotated[int, Field(ge=1, le=wf.MAX_DAYS)]
    sessions: Annotated[list[AgendaSession], Field(max_length=wf.MAX_SESSIONS)] = []


class TourUpdate(_Body):
    version: Id
    title: Short | None = None
    modality: Ref | None = None
    objective: Long | None = None
    expected_change: Long | None = None
    start: Ref | None = None
    end: Ref | None = None
    languages: Annotated[list[Ref], Field(max_length=wf.MAX_LANGUAGES)] | None = None
    interpretation: bool | None = None
    agenda: Annotated[list[Day], Field(max_length=wf.MAX_DAYS)] | None = None
    delegation: Annotated[list[Member], Field(max_length=wf.MAX_MEMBERS)] | None = None
    funders: Annotated[list[Short], Field(max_length=MAX_ITEMS)] | None = None
    recalculate_cost: bool = False


class TourTransition(_Body):
    to: Ref
    version: Id
    note: str | None = Field(default=None, max_length=wf.MAX_STEP_NOTE)


class CommitmentNew(_Body):
    owner_country: Ref
    description: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    owner_institution: Ref | None = None
    due: Ref | None = None
    status: Ref = "pending"
    evidence: Text | None = None


class CommitmentChange(_Body):
    version: Id
    status: Ref | None = None
    evidence: Text | None = None
    due: Ref | None = None
    note: Text | None = None


class TourSummary(BaseModel):
    """A study tour as lists give it (dates as their text: YYYY, YYYY-MM or YYYY-MM-DD)."""

    id: str
    title: str
    modality: str
    status: str
    host_country: str
    visiting_country: str
    start: str | None
    end: str | None
    proposal_id: int | None
    need: str | None
    capacity: str | None
    version: int
    updated_at: Moment


class AskedAgain(BaseModel):
    """A country that agreed to a proposed tour before it was edited: asked to agree again."""

    country: str
    changed: list[str] = Field(description="the tour's fields edited after it agreed")


class TourRecord(TourSummary):
    """A study tour with its plan: agenda, delegation (and what it lacks), cost, funders, themes
    and the statuses it may move to."""

    objective: str | None
    expected_change: str | None
    languages: list[str]
    interpretation: bool
    agenda: list[Any]
    delegation: list[Any]
    delegation_problems: list[str]
    cost: dict[str, Any] | None
    funders: list[str]
    themes: list[str]
    transitions: list[str]
    agreed_by: list[str] = Field(
        description="the countries that have agreed to the tour (both once it is agreed; while "
        "it is proposed, the side(s) whose focal point has agreed)"
    )
    agreement_asked_again: list[AskedAgain] = Field(
        default_factory=list,
        description="while it is proposed: the countries whose agreement an edit of the tour "
        "cleared (the fields changed after they agreed); their agreement is asked again",
    )


class HistoryStep(BaseModel):
    """One step of a commitment's history: a status change, new evidence or a note."""

    at: Moment
    user_id: int | None
    status: str
    evidence: str | None
    note: str | None


class CommitmentRecord(BaseModel):
    """A commitment (its due date as its text); one commitment's answers carry its history."""

    id: str
    study_tour: str | None
    exchange: str | None
    owner_country: str | None
    owner_institution: str | None
    description: str
    due: str | None
    status: str
    overdue: bool
    evidence: str | None
    version: int
    updated_at: Moment
    history: list[HistoryStep] | None = None


def tour_json(tour: StudyTour, full: bool = False) -> dict[str, Any]:
    """A tour's answer, built through :class:`TourSummary` / :class:`TourRecord` (``full``)."""
    data: dict[str, Any] = {
        "id": tour.id,
        "title": tour.title,
        "modality": tour.modality,
        "status": tour.status,
        "host_country": tour.host_country,
        "visiting_country": tour.visiting_country,
        "start": as_text(tour.start),
        "end": as_text(tour.end),
        "proposal_id": tour.proposal_id,
        "need": tour.need,
        "capacity": tour.capacity,
        "version": tour.version,
        "updated_at": tour.updated_at,
    }
    if not full:
        return TourSummary(**data).model_dump(mode="json")
    db = get_session()
    themes = wf.themes_of(db, tour)
    found = wf.agreement(db, tour)
    from sscmatch.vocab import load_vocabulary

    return TourRecord(
        **data,
        objective=tour.objective,
        expected_change=tour.expected_change,
        languages=tour.languages,
        interpretation=tour.interpretation,
        agenda=tour.agenda,
        delegation=tour.delegation,
        delegation_problems=wf.delegation_problems(tour.delegation, themes, load_vocabulary()),
        cost=tour.cost,
        funders=tour.funders,
        themes=themes,
        transitions=list(wf.TRANSITIONS.get(tour.status, ())),
        agreed_by=[wf.country_of(tour, side) for side in found.agreed],
        agreement_asked_again=[
            AskedAgain(country=wf.country_of(tour, side), changed=list(fields))
            for side, fields in found.cleared
        ],
    ).model_dump(mode="json")


def commitment_json(k: Commitment, history: list[CommitmentUpdate] | None = None) -> dict[str, Any]:
    """A commitment's answer, built through :class:`CommitmentRecord` (``history`` when given)."""
    record = CommitmentRecord(
        id=k.id,
        study_tour=k.study_tour,
        exchange=k.exchange,
        owner_country=k.owner_country,
        owner_institution=k.owner_institution,
        description=k.description,
        due=as_text(k.due),
        status=k.status,
        overdue=kwf.is_overdue(k, today()),
        evidence=k.evidence,
        version=k.version,
        updated_at=k.updated_at,
    )
    if history is not None:
        record.history = [
            HistoryStep(
                at=h.at, user_id=h.user_id, status=h.status, evidence=h.evidence, note=h.note
            )
            for h in history
        ]
    # a list of commitments gives no history: no key (an empty list would say "none yet")
    return record.model_dump(mode="json", exclude=None if history is not None else {"history"})


def _guard_tour(tour_id: str) -> None:
    """404 or 403 before the body is read: a caller without rights learns nothing from it."""
    tour = get_session().get(StudyTour, tour_id)
    if tour is None:
        raise ApiError(404, "not_found", N_("no study tour %(id)s"), id=repr(tour_id))
    if not wf.can_edit_tour(tour, current_user):
        raise ApiError(
            403,
            "forbidden",
            N_(
                "only the focal points of the two countries and the secretariat change this "
                "study tour"
            ),
        )


def _guard_commitment(commitment_id: str) -> None:
    commitment = get_session().get(Commitment, commitment_id)
    if commitment is None:
        raise ApiError(404, "not_found", N_("no commitment %(id)s"), id=repr(commitment_id))
    if not kwf.can_update(commitment, current_user):
        raise ApiError(
            403,
            "forbidden",
            N_("a focal point updates only the commitments of their own country"),
        )


@bp.get("/tours")
@access(SIGNED_IN)
@operation(
    returns=PageOf(TourSummary),
    query=[query_arg("status"), query_arg("country"), query_arg("page", "integer")],
    responses={"200": "{items, page, pages, total}", "400": "bad filter"},
)
def api_tours() -> Any:
    """List study tours, newest first (filters: status, country on either side; paged)."""
    page = int_arg("page", 1, 1, 100000)
    found = wf.list_tours(
        get_session(),
        status=request.args.get("status") or None,
        country=request.args.get("country") or None,
        page=page,
        size=50,
    )
    return paged(
        [tour_json(t) for t in found.items],
        page=found.number,
        per_page=found.size,
        pages=found.pages,
        total=found.total,
    )


@bp.post("/tours")
@access("secretariat", "admin")
@sent_once
@operation(
    returns=TourRecord,
    body=TourCreate,
    responses={
        "201": "the drafted tour",
        "404": "unknown proposal, need or capacity",
        "409": "proposal not accepted",
    },
)
def api_create_tour(body: TourCreate) -> Any:
    """Draft a study tour from an accepted proposal ({proposal_id}) or from a need and a
    capacity ({need, capacity})."""
    db = get_session()
    if body.proposal_id is not None:
        proposal = db.get(Proposal, body.proposal_id)
        if proposal is None:
            raise ApiError(404, "not_found", N_("no proposal %(id)s"), id=body.proposal_id)
        if proposal.status != "accepted":
            raise ApiError(
                409,
                "conflict",
                N_("proposal %(id)s is %(status)s, not accepted"),
                id=proposal.id,
                status=proposal.status,
            )
        tour = wf.draft_from_proposal(
            db, proposal, current_user.id, rate_overrides=tour_rates(), today=today()
        )
    elif body.need and body.capacity:
        tour = wf.create_tour(
            db,
            user=current_user,
            need_id=body.need,
            capacity_id=body.capacity,
            today=today(),
            rate_overrides=tour_rates(),
        )
    else:
        raise ApiError(422, "invalid", N_("give proposal_id, or need and capacity"))
    db.commit()
    return jsonify(tour_json(tour, full=True)), 201, {"Location": f"/api/v1/tours/{tour.id}"}


@bp.get("/tours/<tour_id>")
@access(SIGNED_IN)
@operation(returns=TourRecord, responses={"200": "the tour", "404": "unknown tour"})
def api_tour(tour_id: str) -> Any:
    """A study tour with agenda, delegation (and its tripartite check), cost and funders."""
    tour = wf.get_tour(get_session(), tour_id)
    return jsonify(tour_json(tour, full=True))


@bp.patch("/tours/<tour_id>")
@access(*WRITERS)
@operation(
    returns=TourRecord,
    body=TourUpdate,
    guard=_guard_tour,
    responses={
        "200": "the tour",
        "403": "not yours",
        "404": "unknown tour",
        "409": "stale version or closed tour",
    },
)
def api_update_tour(tour_id: str, body: TourUpdate) -> Any:
    """Edit a study tour; send the version you started from (fields left out stay as they are).

    Focal points edit the tours of their country, host or visiting."""
    changes = wf.TourChanges(
        title=body.title,
        modality=body.modality,
        objective=body.objective,
        expected_change=body.expected_change,
        start=body.start,
        end=body.end,
        languages=body.languages,
        interpretation=body.interpretation,
        agenda=[d.model_dump() for d in body.agenda] if body.agenda is not None else None,
        delegation=(
            [m.model_dump() for m in body.delegation] if body.delegation is not None else None
        ),
        funders=body.funders,
        recalculate_cost=body.recalculate_cost,
    )
    db = get_session()
    tour = wf.update_tour(
        db,
        tour_id,
        changes,
        version=body.version,
        user=current_user,
        rate_overrides=tour_rates(),
    )
    db.commit()
    return jsonify(tour_json(tour, full=True))


@bp.post("/tours/<tour_id>/transition")
@access(*WRITERS)
@operation(
    returns=TourRecord,
    body=TourTransition,
    guard=_guard_tour,
    responses={
        "200": "the tour, moved",
        "202": "the tour, still proposed: the focal point's country has agreed, the other "
        "country's agreement is awaited (agreed_by names who has agreed)",
        "403": "not allowed",
        "404": "unknown tour",
        "409": "illegal transition, this country has already agreed, or stale version",
    },
)
def api_transition(tour_id: str, body: TourTransition) -> Any:
    """Move a tour to another status: draft → proposed → agreed → scheduled → completed →
    closed, or cancelled. Completing it records the exchange.

    Focal points of the two countries move draft → proposed and proposed → agreed; a focal
    point's "agreed" records their country's agreement, and the tour becomes agreed when the
    other country has agreed too (202 until then); the secretariat's moves it at once. A
    script states what it wants: no confirmation is asked here, unlike on the pages."""
    db = get_session()
    tour = wf.transition(
        db,
        tour_id,
        body.to,
        version=body.version,
        user=current_user,
        today=today(),
        note=body.note,
    )
    db.commit()
    return jsonify(tour_json(tour, full=True)), (200 if tour.status == body.to else 202)


@bp.get("/tours/<tour_id>/commitments")
@access(SIGNED_IN)
@operation(returns=ItemsOf(CommitmentRecord), responses={"200": "{items}", "404": "unknown tour"})
def api_tour_commitments(tour_id: str) -> Any:
    """The commitments of a tour, overdue first."""
    db = get_session()
    wf.get_tour(db, tour_id)
    rows = kwf.list_commitments(db, today=today(), tour=tour_id)
    return jsonify(items=[commitment_json(k) for k in rows])


@bp.post("/tours/<tour_id>/commitments")
@access(*WRITERS)
@sent_once
@operation(
    returns=CommitmentRecord,
    body=CommitmentNew,
    guard=_guard_tour,
    responses={
        "201": "the commitment",
        "403": "not yours",
        "404": "unknown tour",
        "409": "tour not at its closing session yet",
    },
)
def api_add_commitment(tour_id: str, body: CommitmentNew) -> Any:
    """Record a commitment on a tour (scheduled or completed): owner country and institution,
    what, due date, status, evidence.

    A focal point records commitments for their own country."""
    db = get_session()
    k = kwf.add_commitment(
        db,
        tour_id,
        user=current_user,
        owner_country=body.owner_country,
        description=body.description,
        owner_institution=body.owner_institution,
        due=body.due,
        status=body.status,
        evidence=body.evidence,
    )
    db.commit()
    location = {"Location": f"/api/v1/commitments/{k.id}"}
    return jsonify(commitment_json(k, kwf.history(db, k.id))), 201, location


@bp.get("/commitments")
@access(SIGNED_IN)
@operation(
    returns=ItemsOf(CommitmentRecord),
    query=[
        query_arg("country", description="the owner country (`all` or empty: every country)"),
        query_arg("tour"),
        query_arg(
            "status",
            description="`open`: pending or in progress",
            enum=[*kwf.STATUSES, commitment_list.OPEN_STATUS],
        ),
        query_arg(
            "origin",
            description="`live`: of study tours planned here; `documents`: recorded from the "
            "documents",
            enum=list(commitment_list.ORIGINS),
        ),
        query_arg(
            "when",
            description=f"`overdue`, or `soon`: open and due within "
            f"{commitment_list.SOON_DAYS} days, not yet overdue",
            enum=list(commitment_list.WHENS),
        ),
        query_arg("overdue", "boolean", "`true`: as `when=overdue`"),
    ],
    responses={"200": "{items}", "400": "bad filter (said in the requester's language)"},
)
def api_commitments() -> Any:
    """Commitments, overdue first, filtered as on the follow-up's list of commitments (country,
    status, origin, when) and by tour; `overdue=true` is `when=overdue`."""
    overdue = (request.args.get("overdue") or "").lower()
    if overdue not in ("", "true", "false", "1", "0"):
        raise ApiError(400, "bad_parameter", N_("overdue must be true or false"))
    flt, _own = chosen_filter(own_default=False)
    if overdue in ("true", "1") and flt.when is None:
        flt = replace(flt, when="overdue")
    tour = request.args.get("tour") or None
    db, day = get_session(), today()
    kept = [
        r["id"]
        for r in commitment_list.filtered_records(db, flt, today=day)
        if tour is None or r["study_tour"] == tour
    ]
    found = {k.id: k for k in kwf.list_commitments(db, today=day, country=flt.country, tour=tour)}
    return jsonify(items=[commitment_json(found[i]) for i in kept if i in found])


@bp.get("/commitments/<commitment_id>")
@access(SIGNED_IN)
@operation(
    returns=CommitmentRecord, responses={"200": "the commitment", "404": "unknown commitment"}
)
def api_commitment(commitment_id: str) -> Any:
    """A commitment with its history of updates."""
    db = get_session()
    k = kwf.get_commitment(db, commitment_id)
    return jsonify(commitment_json(k, kwf.history(db, k.id)))


@bp.post("/commitments/<commitment_id>/updates")
@access(*WRITERS)
@operation(
    returns=CommitmentRecord,
    body=CommitmentChange,
    guard=_guard_commitment,
    responses={
        "201": "the commitment with its history",
        "403": "not yours",
        "404": "unknown commitment",
        "409": "stale version",
    },
)
def api_update_commitment(commitment_id: str, body: CommitmentChange) -> Any:
    """Update a commitment (status, evidence, due date, note); writes a history row. Fulfilled
    needs evidence, dropped needs a note.

    A focal point updates their own country's commitments."""
    db = get_session()
    k = kwf.update_commitment(
        db,
        commitment_id,
        user=current_user,
        version=body.version,
        status=body.status,
        evidence=body.evidence,
        due=body.due,
        note=body.note,
    )
    db.commit()
    return jsonify(commitment_json(k, kwf.history(db, k.id))), 201
