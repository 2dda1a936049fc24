"""API of what arrives for the caller: their notices (read, marked read) and their worklist,
"what needs me now" (:mod:`sscmatch.workflow.notices`, :mod:`sscmatch.workflow.worklists`).

A notice is the caller's own: another user's is answered 404, as if it did not exist. Its
``text`` is in the caller's language (their account's, as on the pages), its ``kind`` and
``params`` are for programs; ``no_longer`` is null while what the notice says still holds of its
record, else the record's status now (:mod:`sscmatch.workflow.notices_current`: the text says it
too).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, Field

from sscmatch.dates import as_text
from sscmatch.models import Notice
from sscmatch.schemas import Moment
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.api import ApiError, NoBody, PageOf, bp, int_arg, operation, query_arg
from sscmatch.web.api.review import ListedProposal, _db, proposal_json
from sscmatch.workflow import notices, worklists
from sscmatch.workflow.base import N_, choice_filter
from sscmatch.workflow.notices_current import moved_on


class NoticeRecord(BaseModel):
    """A notice of the caller: ``text`` in their language, ``kind`` and ``params`` for
    programs, ``entity``/``entity_id`` the record it is about, ``no_longer`` the record's status
    now when what the notice says no longer holds of it (null while it holds)."""

    id: int
    kind: str
    text: str
    no_longer: str | None
    params: dict[str, Any]
    entity: str
    entity_id: str
    created_at: Moment
    read_at: Moment | None
    emailed_on: str | None


class Marked(BaseModel):
    """How many notices were marked read."""

    marked: int


def notice_json(notice: Notice) -> dict[str, Any]:
    from sscmatch.web.main import notice_text

    assert notice.id is not None
    return NoticeRecord(
        id=notice.id,
        kind=notice.kind,
        text=notice_text(notice),
        no_longer=moved_on(_db(), notice),
        params=dict(notice.params or {}),
        entity=notice.entity,
        entity_id=notice.entity_id,
        created_at=notice.created_at,
        read_at=notice.read_at,
        emailed_on=notice.emailed_on,
    ).model_dump(mode="json")


@bp.get("/notices", endpoint="notices_list")
@access(SIGNED_IN)
@operation(
    returns=PageOf(NoticeRecord, counts=("unread",)),
    query=[
        query_arg("unread", "boolean"),
        query_arg(
            "entity", description="only notices about this kind of record", enum=list(notices.ABOUT)
        ),
        query_arg("page", "integer", minimum=1),
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
        },
    ],
    responses={
        "200": "a page of notices",
        "400": "a bad parameter (`unread`, `entity`: said in the requester's language)",
    },
)
def notice_list() -> Any:
    """Your notices, unread first then newest first (`unread=true`: only those not read yet;
    `entity`: only those about that kind of record, as on the notices page); `unread` counts
    those not read."""
    size = int_arg("per_page", int(current_app.config["PAGE_SIZE"]), 1, 200)
    number = int_arg("page", 1, 1, 100_000)
    from sscmatch.web.main import UNREAD_VALUES

    # the page's filters, by the same functions (any case of true/false, as the API took it)
    unread = choice_filter((request.args.get("unread") or "").lower(), tuple(UNREAD_VALUES))
    entity = choice_filter(request.args.get("entity"), notices.ABOUT)
    page = notices.for_user(
        _db(),
        current_user.id,
        limit=size,
        offset=(number - 1) * size,
        unread_only=UNREAD_VALUES.get(unread or "", False),
        entity=entity,
    )
    return jsonify(
        items=[notice_json(n) for n in page.items],
        page=number,
        per_page=size,
        pages=max(1, -(-page.total // size)),
        total=page.total,
        unread=page.unread,
    )


@bp.post("/notices/<int:notice_id>/read", endpoint="notices_read_one")
@access(SIGNED_IN)
@operation(
    returns=NoticeRecord,
    body=NoBody,
    body_required=False,
    responses={
        "200": "the notice",
        "400": "a body was sent (this request takes none)",
        "422": "an object with fields was sent",
        "404": "no such notice of yours",
    },
)
def read_one(notice_id: int) -> Any:
    """Mark one of your notices read (no body).

    Who: any signed-in user (their own notices)."""
    db = _db()
    notice = notices.get_own(db, current_user.id, notice_id)
    if notice is None:
        raise ApiError(404, "not_found", N_("you have no notice %(id)s"), id=notice_id)
    notices.mark_read(db, current_user.id, notice_id)
    db.commit()
    db.refresh(notice)
    return jsonify(notice_json(notice))


@bp.post("/notices/read", endpoint="notices_read_all")
@access(SIGNED_IN)
@operation(
    returns=Marked,
    body=NoBody,
    body_required=False,
    responses={
        "200": "`marked`: how many notices were marked read",
        "400": "a body was sent (this request takes none)",
        "422": "an object with fields was sent",
    },
)
def read_all() -> Any:
    """Mark all your notices read (no body); answers how many were unread."""
    db = _db()
    marked = notices.mark_read(db, current_user.id)
    db.commit()
    return jsonify(Marked(marked=marked).model_dump(mode="json"))


# ----------------------------------------------------------------------------- worklist


class DueItem(BaseModel):
    """A commitment due soon or overdue (``days_left`` below zero), its due date as its text."""

    type: Literal["commitment"]
    id: str
    description: str
    owner_country: str | None
    due: str | None
    status: str
    days_left: int


class ProposalItem(ListedProposal):
    """A proposal to answer or to decide."""

    type: Literal["proposal"]


class TourItem(BaseModel):
    """A study tour to move on, and the status it would move to next."""

    type: Literal["study_tour"]
    id: str
    title: str
    status: str
    next: str | None


class NeedItem(BaseModel):
    """A need to endorse, or returned to its focal point (with the secretariat's note)."""

    type: Literal["need"]
    id: str
    title: str
    country: str | None
    status: str
    review_note: str | None


WorkItem = Annotated[DueItem | ProposalItem | TourItem | NeedItem, Field(discriminator="type")]


class WorkListed(BaseModel):
    """One list of the worklist: its first items and how many there are in all."""

    total: int
    items: list[WorkItem]


class Worklist(BaseModel):
    """The caller's role and their lists by name (none for an analyst)."""

    role: str
    lists: dict[str, WorkListed]


def _item(item: Any) -> dict[str, Any]:
    """One worklist entry as JSON, whatever its kind."""
    if isinstance(item, worklists.DueCommitment):
        k = item.commitment
        return {
            "type": "commitment",
            "id": k.id,
            "description": k.description,
            "owner_country": k.owner_country,
            "due": as_text(k.due),
            "status": k.status,
            "days_left": item.days_left,
        }
    if hasattr(item, "proposal"):  # a queue row
        return {
            "type": "proposal",
            **proposal_json(item.proposal),
            "need_title": item.need_title,
            "capacity_title": item.capacity_title or None,
        }
    if hasattr(item, "host_country"):  # a study tour
        return {
            "type": "study_tour",
            "id": item.id,
            "title": item.title,
            "status": item.status,
            "next": worklists.TOUR_NEXT.get(item.status),
        }
    return {
        "type": "need",
        "id": item.id,
        "title": item.title,
        "country": item.country,
        "status": item.status,
        "review_note": item.review_note,
    }


@bp.get("/worklist", endpoint="worklist")
@access(SIGNED_IN)
@operation(returns=Worklist, responses={"200": "the lists"})
def worklist() -> Any:
    """What needs you now: for a focal point the proposals to answer, needs returned and
    commitments due (`to_answer`, `returned`, `due`); for the secretariat and admins the
    needs to endorse, proposals to decide, study tours to move and overdue commitments
    (`to_endorse`, `to_decide`, `tours`, `overdue`); each list's first 10 items and its
    total. Analysts are asked for nothing (no lists)."""
    from sscmatch.web.tours import today

    work = worklists.for_viewer(_db(), current_user, today())
    lists = (work.lists if work else {}).items()
    answer = {
        "role": current_user.role,
        "lists": {
            name: {"total": listed.total, "items": [_item(i) for i in listed.items]}
            for name, listed in lists
        },
    }
    return jsonify(Worklist.model_validate(answer).model_dump(mode="json"))
