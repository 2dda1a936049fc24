"""The registry in the JSON API: needs, capacities, exchanges and institutions.

Lists take the same filters as the pages (``q``, ``theme``, ``country``, ``region``,
``language``, ``status``, ``year``, ``sort``; needs also ``submitted=1``) and answer
``{"items": [...], "page": n, "per_page": n, "pages": n, "total": n}``. Writes call the same use
cases as the forms (:mod:`sscmatch.workflow.registry`): a focal point writes their own country's
capacities and needs, the secretariat and admins any, and exchanges are theirs alone. Updates
carry the ``version`` they started from; a stale one answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sqlmodel import Session

from sscmatch.dates import PartialDate
from sscmatch.models import Capacity, Exchange, Institution, Need
from sscmatch.schemas import (
    CONSTITUENCIES,
    MAX_INT,
    MAX_TEXT,
    CapacityCreate,
    CapacityPublic,
    ExchangeCreate,
    ExchangePublic,
    InstitutionPublic,
    Moment,
    NeedCreate,
    NeedPublic,
    json_value,
)
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.api import ApiError, PageOf, bp, int_arg, operation, paged, query_arg
from sscmatch.web.db import get_session
from sscmatch.web.sent_once import sent_once
from sscmatch.web.tours import today
from sscmatch.workflow import base, visibility
from sscmatch.workflow import registry as reg
from sscmatch.workflow.base import N_
from sscmatch.workflow.registry import RecordFilter


class NeedStep(BaseModel):
    """The optional body of a need's steps (submit, take back, endorse…): the `version` the
    caller read."""

    model_config = ConfigDict(extra="forbid")
    version: StrictInt | None = Field(default=None, ge=1, le=MAX_INT)


class NeedReturn(NeedStep):
    """The body of return: `note` says what the focal point should change."""

    note: StrictStr = Field(max_length=MAX_TEXT)


class NeedWithdraw(NeedStep):
    """The body of withdraw: why the country no longer needs it (optional, kept in the audit)."""

    reason: StrictStr | None = Field(default=None, max_length=MAX_TEXT)


WRITERS = ("focal_point", "secretariat", "admin")
EDITORS = ("secretariat", "admin")
MAX_PER_PAGE = 200


# --------------------------------------------------------------------------- output


class NeedRecord(NeedPublic):
    """A need as the API answers it: its fields, when it was submitted for endorsement and the
    note it was returned with."""

    submitted_at: Moment | None = None
    review_note: str | None = None


class ExchangeRecord(ExchangePublic):
    """An exchange as the API answers it: its fields and the study tour it was recorded from."""

    study_tour: str | None = None


def _public(schema: type[BaseModel], record: Any) -> dict[str, Any]:
    try:
        out: dict[str, Any] = schema.model_validate(record).model_dump(mode="json")
    except ValueError:
        # A stored record that today's checks would refuse (an old import) is still shown:
        # the fields of its model, each as the bundle writes it (a partial date as its text,
        # never the two columns that store it).
        out = {name: _as_written(getattr(record, name, None)) for name in schema.model_fields}
    return out


def _as_written(value: Any) -> Any:
    """A stored value as JSON gives it: a partial date as its text (``2014-03``, the bundle's
    format), a moment in ISO 8601, the rest as it is."""
    if isinstance(value, PartialDate):
        return str(value)
    return json_value(value)


def need_json(need: Need) -> dict[str, Any]:
    return _public(NeedRecord, need)


def capacity_json(capacity: Capacity) -> dict[str, Any]:
    return _public(CapacityPublic, capacity)


def exchange_json(exchange: Exchange) -> dict[str, Any]:
    return _public(ExchangeRecord, exchange)


def institution_json(institution: Institution) -> dict[str, Any]:
    return _public(InstitutionPublic, institution)


# --------------------------------------------------------------------------- errors


def _filter() -> tuple[RecordFilter, int, int]:
    args = request.args
    known = {
        "q",
        "theme",
        "country",
        "region",
        "language",
        "status",
        "year",
        "sort",
        "submitted",
        "constituency",
        "page",
        "per_page",
    }
    unknown = sorted(set(args) - known)
    if unknown:
        raise ApiError(
            400,
            "bad_parameter",
            N_("unknown query parameter(s) %(names)s; expected some of %(known)s"),
            names=", ".join(unknown),
            known=", ".join(sorted(known)),
        )
    texts = {name: args.get(name, "") for name in known - {"page", "per_page", "submitted"}}
    for name, value in texts.items():
        if len(value) > 200:
            raise ApiError(
                400, "bad_parameter", N_("%(name)s is too long (at most 200 characters)"), name=name
            )
    submitted = args.get("submitted", "").lower()
    if submitted not in ("", "0", "1", "true", "false"):
        raise ApiError(400, "bad_parameter", N_("submitted must be 1 or 0"))
    flt = RecordFilter(**texts, submitted=submitted in ("1", "true"))
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    return flt, page, per_page


def _listing(search: Callable[..., base.Page[Any]], render: Callable[[Any], dict[str, Any]]) -> Any:
    flt, page, per_page = _filter()
    result = search(get_session(), load_vocabulary(), flt, page=page, per_page=per_page)
    return paged(
        [render(r) for r in result.items],
        page=result.number,
        per_page=result.size,
        pages=result.pages,
        total=result.total,
    )


def _created(payload: dict[str, Any], location: str) -> Any:
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = location
    return response


# --------------------------------------------------------------------------- OpenAPI

_FILTERS = [
    query_arg(name, kind, text)
    for name, kind, text in (
        ("q", "string", "fuzzy words in the title and description, any language"),
        ("theme", "string", "a theme id (its children count too)"),
        ("country", "string", "ISO 3166-1 alpha-3 code"),
        ("region", "string", "M49 region or sub-region name"),
        ("language", "string", "ISO 639-1 code"),
        ("status", "string", "record status"),
        ("year", "string", "year created (exchanges: start year)"),
        ("sort", "string", "relevance, recent, oldest, title or country"),
        ("page", "integer", "page number from 1"),
        ("per_page", "integer", f"rows per page, at most {MAX_PER_PAGE}"),
    )
]
# Institutions have no theme, status or year; they have a constituency.
_INSTITUTION_FILTERS = [
    *(f for f in _FILTERS if f["name"] not in ("theme", "status", "year")),
    query_arg("constituency", "string", "of the institution", enum=list(CONSTITUENCIES)),
]
_LIST = {"400": "bad filter"}
_READ = {"403": "a draft of another country", "404": "unknown id"}
_WRITE = {"201": "created", "403": "not your country or role", "409": "id exists"}
_UPDATE = {
    "200": "updated",
    "403": "not your country or role",
    "404": "unknown id",
    "409": "stale version",
}
_STEP = {
    "200": "done",
    "403": "not allowed",
    "404": "unknown id",
    "409": "illegal step or stale version",
}


# --------------------------------------------------------------------------- reads


@bp.get("/needs")
@access(SIGNED_IN)
@operation(query=_FILTERS, responses=_LIST, returns=PageOf(NeedRecord))
def api_needs() -> Any:
    """List needs with filters and paging (drafts only to their country and the staff)."""
    return _listing(lambda *a, **k: reg.search_needs(*a, **k, viewer=current_user), need_json)


@bp.get("/capacities")
@access(SIGNED_IN)
@operation(query=_FILTERS, responses=_LIST, returns=PageOf(CapacityPublic))
def api_capacities() -> Any:
    """List capacities with filters and paging (drafts only to their country and the staff)."""
    return _listing(
        lambda *a, **k: reg.search_capacities(*a, **k, viewer=current_user), capacity_json
    )


@bp.get("/exchanges")
@access(SIGNED_IN)
@operation(query=_FILTERS, responses=_LIST, returns=PageOf(ExchangeRecord))
def api_exchanges() -> Any:
    """List exchanges with filters and paging."""
    return _listing(reg.search_exchanges, exchange_json)


@bp.get("/institutions")
@access(SIGNED_IN)
@operation(query=_INSTITUTION_FILTERS, responses=_LIST, returns=PageOf(InstitutionPublic))
def api_institutions() -> Any:
    """List institutions (filters: country, region, constituency, language, q)."""
    return _listing(reg.search_institutions, institution_json)


def _visible(record: Capacity | Need) -> None:
    if not visibility.may_see(current_user, record):
        raise ApiError(403, "forbidden", N_("this draft is visible only to its country"))


@bp.get("/needs/<need_id>")
@access(SIGNED_IN)
@operation(responses=_READ, returns=NeedRecord)
def api_need(need_id: str) -> Any:
    """Read one need."""
    need: Need = reg.get_need(get_session(), need_id)
    _visible(need)
    return jsonify(need_json(need))


@bp.get("/capacities/<capacity_id>")
@access(SIGNED_IN)
@operation(responses=_READ, returns=CapacityPublic)
def api_capacity(capacity_id: str) -> Any:
    """Read one capacity."""
    capacity: Capacity = reg.get_capacity(get_session(), capacity_id)
    _visible(capacity)
    return jsonify(capacity_json(capacity))


@bp.get("/exchanges/<exchange_id>")
@access(SIGNED_IN)
@operation(responses={"404": "unknown id"}, returns=ExchangeRecord)
def api_exchange(exchange_id: str) -> Any:
    """Read one exchange."""
    return jsonify(exchange_json(reg.get_exchange(get_session(), exchange_id)))


@bp.get("/institutions/<institution_id>")
@access(SIGNED_IN)
@operation(responses={"404": "unknown id"}, returns=InstitutionPublic)
def api_institution(institution_id: str) -> Any:
    """Read one institution."""
    found = reg.get_institution(get_session(), institution_id)
    return jsonify(institution_json(found))


# --------------------------------------------------------------------------- writes


def _create(
    create: Callable[..., Any],
    render: Callable[[Any], dict[str, Any]],
    plural: str,
    data: dict[str, Any],
) -> Any:
    db = get_session()
    record = create(db, load_vocabulary(), current_user, data, today=today())
    db.commit()
    return _created(render(record), f"/api/v1/{plural}/{record.id}")


def _update(
    update: Callable[..., Any],
    render: Callable[[Any], dict[str, Any]],
    record_id: str,
    data: dict[str, Any],
) -> Any:
    # The use case checks the caller's right to edit before it looks at the version.
    data = dict(data)
    version = data.pop("version", None)
    db = get_session()
    partial = request.method == "PATCH"
    record = update(db, load_vocabulary(), current_user, record_id, data, version, partial=partial)
    db.commit()
    return jsonify(render(record))


@bp.post("/needs")
@access(*WRITERS)
@sent_once
@operation(body=NeedCreate, responses=_WRITE, returns=NeedRecord)
def api_need_create(data: dict[str, Any]) -> Any:
    """Register a need (id N-YEAR-NNNN unless given).

    A focal point registers their own country's needs."""
    return _create(reg.create_need, need_json, "needs", data)


@bp.post("/capacities")
@access(*WRITERS)
@sent_once
@operation(body=CapacityCreate, responses=_WRITE, returns=CapacityPublic)
def api_capacity_create(data: dict[str, Any]) -> Any:
    """Register a capacity (id C-YEAR-NNNN unless given).

    A focal point registers their own country's capacities."""
    return _create(reg.create_capacity, capacity_json, "capacities", data)


@bp.post("/exchanges")
@access(*EDITORS)
@sent_once
@operation(body=ExchangeCreate, responses=_WRITE, returns=ExchangeRecord)
def api_exchange_create(data: dict[str, Any]) -> Any:
    """Record an exchange."""
    return _create(reg.create_exchange, exchange_json, "exchanges", data)


@bp.route("/needs/<need_id>", methods=["PUT", "PATCH"])
@access(*WRITERS)
@operation(body=NeedCreate, responses=_UPDATE, returns=NeedRecord)
def api_need_update(need_id: str, data: dict[str, Any]) -> Any:
    """Replace a need (PUT) or change some of its fields (PATCH); the body carries the
    `version` it read.

    A focal point changes their own country's needs."""
    return _update(reg.update_need, need_json, need_id, data)


@bp.route("/capacities/<capacity_id>", methods=["PUT", "PATCH"])
@access(*WRITERS)
@operation(body=CapacityCreate, responses=_UPDATE, returns=CapacityPublic)
def api_capacity_update(capacity_id: str, data: dict[str, Any]) -> Any:
    """Replace a capacity (PUT) or change some of its fields (PATCH); the body carries the
    `version` it read.

    A focal point changes their own country's capacities."""
    return _update(reg.update_capacity, capacity_json, capacity_id, data)


@bp.route("/exchanges/<exchange_id>", methods=["PUT", "PATCH"])
@access(*EDITORS)
@operation(body=ExchangeCreate, responses=_UPDATE, returns=ExchangeRecord)
def api_exchange_update(exchange_id: str, data: dict[str, Any]) -> Any:
    """Replace an exchange (PUT) or change some of its fields (PATCH); the body carries the
    `version` it read."""
    return _update(reg.update_exchange, exchange_json, exchange_id, data)


def _need_step(take: Callable[[Session], Need]) -> Any:
    """A need's step: taken, committed, the need as it is now."""
    db = get_session()
    need = take(db)
    db.commit()
    return jsonify(need_json(need))


@bp.post("/needs/<need_id>/submit")
@access(*WRITERS)
@operation(body=NeedStep, body_required=False, responses=_STEP, returns=NeedRecord)
def api_need_submit(need_id: str, body: NeedStep) -> Any:
    """Submit a draft need for endorsement (the body may carry `version`).

    A focal point submits their own country's needs."""
    return _need_step(lambda db: reg.submit_need(db, current_user, need_id, body.version))


@bp.post("/needs/<need_id>/endorse")
@access(*EDITORS)
@operation(body=NeedStep, body_required=False, responses=_STEP, returns=NeedRecord)
def api_need_endorse(need_id: str, body: NeedStep) -> Any:
    """Endorse a submitted need (it opens); the body may carry `version`."""
    return _need_step(lambda db: reg.endorse_need(db, current_user, need_id, body.version))


@bp.post("/needs/<need_id>/return")
@access(*EDITORS)
@operation(body=NeedReturn, responses={**_STEP, "422": "note missing"}, returns=NeedRecord)
def api_need_return(need_id: str, body: NeedReturn) -> Any:
    """Return a submitted need to draft with a required `note`."""
    return _need_step(
        lambda db: reg.return_need(db, current_user, need_id, body.note, body.version)
    )


@bp.post("/needs/<need_id>/withdraw-endorsement")
@access(*EDITORS)
@operation(body=NeedStep, body_required=False, responses=_STEP, returns=NeedRecord)
def api_need_withdraw_endorsement(need_id: str, body: NeedStep) -> Any:
    """Undo an endorsement: the open need waits for endorsement again (the body may carry
    `version`); refused (409) once a match run has proposed for it or a study tour names it."""
    return _need_step(lambda db: reg.withdraw_endorsement(db, current_user, need_id, body.version))


@bp.post("/needs/<need_id>/take-back")
@access(*WRITERS)
@operation(body=NeedStep, body_required=False, responses=_STEP, returns=NeedRecord)
def api_need_take_back(need_id: str, body: NeedStep) -> Any:
    """Take back a submission that waits for endorsement: the need is a draft again (the body
    may carry `version`); refused (409) once endorsed or returned.

    A focal point takes back their own country's submissions."""
    return _need_step(lambda db: reg.take_back_submission(db, current_user, need_id, body.version))


@bp.post("/needs/<need_id>/withdraw")
@access(*WRITERS)
@operation(body=NeedWithdraw, body_required=False, responses=_STEP, returns=NeedRecord)
def api_need_withdraw(need_id: str, body: NeedWithdraw) -> Any:
    """Withdraw a draft or open need its country no longer wants: it is closed and its
    proposals waiting for a decision are superseded (the body may carry `version` and a
    `reason`); refused (409) when a study tour names it.

    A focal point withdraws their own country's needs."""
    return _need_step(
        lambda db: reg.withdraw_need(db, current_user, need_id, body.reason, body.version)
    )


@bp.post("/needs/<need_id>/reinstate")
@access(*WRITERS)
@operation(body=NeedStep, body_required=False, responses=_STEP, returns=NeedRecord)
def api_need_reinstate(need_id: str, body: NeedStep) -> Any:
    """Undo a withdrawal: the need and its superseded proposals as they were (the body may
    carry `version`); refused (409) once anything changed since."""
    return _need_step(lambda db: reg.reinstate_need(db, current_user, need_id, body.version))
