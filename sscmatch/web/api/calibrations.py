"""API of calibrations: the one match runs use, the list, and a new one.

The same use cases as the pages (:mod:`sscmatch.workflow.calibrations`). A calibration made here
is computed by a job, like ``POST /match-runs``: answered 202 while a worker computes it (follow
``GET /calibrations/<id>``), 201 when it had already finished (``JOBS_SYNC``, tests). Its
``sentence`` says how good the suggestions have been, in the request's language.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, url_for
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from sscmatch import jobs
from sscmatch.models import Calibration
from sscmatch.schemas import MAX_INT, Moment
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
from sscmatch.web.api.review import JobState
from sscmatch.web.calibrations import (
    calibration_job_status,
    describe,
    launch,
    queue_calibration,
)
from sscmatch.web.db import get_session
from sscmatch.web.matching import RUN_STATUSES, work_filters
from sscmatch.web.sent_once import sent_once
from sscmatch.web.tours import today
from sscmatch.workflow import calibrations as wf
from sscmatch.workflow.base import N_

STAFF = ("secretariat", "admin")
READERS = ("secretariat", "admin", "analyst")
MAX_PER_PAGE = 200


class CalibrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: int = Field(
        default=wf.DEFAULT_WINDOW,
        strict=True,
        ge=wf.WINDOWS[0],
        le=wf.WINDOWS[-1],
        description="years of each window of history (the held-out one spans as many)",
    )


class CalibrationRecord(BaseModel):
    """A calibration: when and by whom, its status, the weights it learnt beside the defaults,
    how good the suggestions have been (``figures``; ``sentence`` and ``not_adopted`` in the
    request's language), whether match runs use it (``in_use``) and, while it runs, its job."""

    id: int
    status: str
    created_at: Moment
    created_by: int | None
    created_by_name: str | None
    finished_at: Moment | None
    as_of: str
    window: int
    weights: dict[str, float]
    defaults: dict[str, float]
    kept_defaults: bool | None
    figures: dict[str, Any] | None
    sentence: str | None
    adopted: bool | None
    not_adopted: str | None
    cases: int
    projects: int
    error: str | None
    error_detail: str | None
    in_use: bool
    job: JobState | None


def _db() -> Any:
    return get_session()


def calibration_json(db: Any, row: Calibration, *, in_use: bool) -> dict[str, Any]:
    """A calibration's public shape (:class:`CalibrationRecord`, from
    ``workflow.calibrations.summary``), its sentence and error in the request's language, and
    who made it."""
    job = jobs.while_running(row, lambda: calibration_job_status(db, row))  # may read row again
    data: dict[str, Any] = wf.summary(row) or {}
    shown = describe(row) or {}
    data["sentence"] = shown.get("sentence")
    data["not_adopted"] = shown.get("not_adopted")
    data["error"] = shown.get("error")
    data["error_detail"] = row.error
    data["created_by_name"] = wf.creator(db, row) or None
    data["in_use"] = in_use
    data["job"] = job
    return CalibrationRecord.model_validate(data).model_dump(mode="json")


# ----------------------------------------------------------------------------- reading


@bp.get("/calibrations/latest", endpoint="calibrations_latest")
@access(*READERS)
@operation(
    returns=CalibrationRecord,
    responses={"200": "the calibration", "404": "no calibration yet (runs use the defaults)"},
)
def latest() -> Any:
    """The calibration match runs use now: the latest that finished, with its weights beside
    the defaults and how good the suggestions have been (`sentence`, `figures`)."""
    db = _db()
    row = wf.latest(db)
    if row is None:
        raise ApiError(
            404,
            "not_found",
            N_("no calibration yet: match runs use the documented default weights"),
        )
    return jsonify(calibration_json(db, row, in_use=True))


@bp.get("/calibrations", endpoint="calibrations_list")
@access(*READERS)
@operation(
    query=[
        query_arg(
            "status", description="only calibrations of this status", enum=list(RUN_STATUSES)
        ),
        query_arg(
            "by",
            "integer",
            "only calibrations started by this user (their number, as `created_by`)",
            minimum=0,
            maximum=MAX_INT,
        ),
        query_arg("page", "integer", minimum=1),
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        },
    ],
    responses={
        "200": "a page of calibrations",
        "400": "a bad page number, status or user number (said in the requester's language)",
    },
    returns=PageOf(CalibrationRecord),
)
def list_calibrations() -> Any:
    """Every calibration, newest first (running and failed ones too); `status` and `by` (who
    started it) filter as on the calibrations page."""
    page = int_arg("page", 1, 1, 1_000_000)
    size = int_arg("per_page", int(current_app.config["PAGE_SIZE"]), 1, MAX_PER_PAGE)
    status, by = work_filters()
    db = _db()
    wf.sweep_interrupted(db)
    db.commit()
    rows, total = wf.history(db, page, size, status=status, by=by)
    in_use = wf.latest(db)
    items = [
        calibration_json(db, row, in_use=in_use is not None and row.id == in_use.id)
        for row, _who in rows
    ]
    return paged(items, page=page, per_page=size, pages=max(1, -(-total // size)), total=total)


@bp.get("/calibrations/<int:calibration_id>", endpoint="calibrations_get")
@access(*READERS)
@operation(
    returns=CalibrationRecord, responses={"200": "the calibration", "404": "unknown calibration"}
)
def get_one(calibration_id: int) -> Any:
    """One calibration: its status, weights and figures, and while it runs the state of the job
    computing it (`job`: queued, running; attempts; waiting for a worker)."""
    jobs.recover(current_app.extensions["sscmatch.engine"])
    db = _db()
    wf.sweep_interrupted(db)
    db.commit()
    row = db.get(Calibration, calibration_id)
    if row is None:
        raise ApiError(404, "not_found", N_("no calibration %(id)s"), id=calibration_id)
    in_use = wf.latest(db)
    return jsonify(calibration_json(db, row, in_use=in_use is not None and in_use.id == row.id))


# ----------------------------------------------------------------------------- calibrating


@bp.post("/calibrations", endpoint="calibrations_create")
@access(*STAFF)
@sent_once
@operation(
    body=CalibrationRequest,
    body_required=False,
    returns=CalibrationRecord,
    responses={
        "201": "the calibration, finished (status done, or failed with its error)",
        "202": "the calibration, queued for a worker or being computed",
        "409": "another calibration is still running",
        "422": "bad body (window: whole years from 1 to 5)",
    },
)
def create(body: CalibrationRequest) -> Any:
    """Calibrate now: fit the factor weights on the history before today and store them; the
    next match runs use them if they ranked the held-out years better than the defaults
    (`adopted`; `not_adopted` says why not, in the request's language). A worker computes it:
    202 with the calibration (status running) and its `job`, to follow at `Location`; 201 when
    it had already finished when answering (a server that carries out jobs itself,
    `JOBS_SYNC`)."""
    db = _db()
    row = wf.begin(db, today=today(), window=body.window, user_id=current_user.id)
    job = queue_calibration(db, row, current_user.id)
    db.commit()
    assert row.id is not None
    launch(job)
    db.expire_all()
    found = db.get(Calibration, row.id)
    assert found is not None
    response = jsonify(calibration_json(db, found, in_use=found.status == "done"))
    response.status_code = 202 if found.status == "running" else 201
    response.headers["Location"] = url_for("api.calibrations_get", calibration_id=row.id)
    return response
