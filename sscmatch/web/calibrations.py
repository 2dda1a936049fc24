"""The calibration pages, on the matching blueprint: how good the suggestions have been, the
"Calibrate now" button (a confirmation page first), a calibration's progress and the list of past
ones. The use cases are :mod:`sscmatch.workflow.calibrations`.

A calibration started here is computed by a job, like a match run (:mod:`sscmatch.jobs`, kind
``calibration``: text vectors first, then the fit, stored with its figures, or the failure; a
worker that dies makes it try again). ``JOBS_SYNC`` (default when testing) computes it inside
the request.
"""

from __future__ import annotations

from typing import Any

import babel.numbers
from flask import current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlmodel import Session
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from sscmatch import jobs
from sscmatch.matching import DEFAULT_WEIGHTS, FACTORS
from sscmatch.models import Calibration, Job
from sscmatch.web.access import access
from sscmatch.web.db import get_session
from sscmatch.web.errors import answers_json
from sscmatch.web.matching import (
    READERS,
    RUN_STATUSES,
    STAFF,
    bp,
    starters,
    work_filters,
)
from sscmatch.web.pageform import PageForm
from sscmatch.web.paging import page_arg
from sscmatch.web.review import FACTOR_LABELS
from sscmatch.web.sent_once import sent_once
from sscmatch.web.tours import today
from sscmatch.web.translate import current_lang
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import calibrations as wf
from sscmatch.workflow.jobs import job_beside

# ----------------------------------------------------------------------------- computing


def queue_calibration(db: Session, row: Calibration, user_id: int | None) -> Job:
    """Queue the job that computes a begun calibration, in the transaction that begins it."""
    return jobs.submit(
        db,
        "calibration",
        {"calibration_id": row.id},
        subject=f"calibration:{row.id}",
        user_id=user_id,
    )


def launch(job: Job) -> None:
    """Hand the committed job over: to a worker, or at once with ``JOBS_SYNC`` (testing)."""
    jobs.start(job)


def _recover() -> None:
    """Move on the jobs of workers that stopped, then fail what no job will finish."""
    jobs.recover(current_app.extensions["sscmatch.engine"])
    db = _db()
    wf.sweep_interrupted(db)
    db.commit()


# ----------------------------------------------------------------------------- describing

RULE_LABELS: dict[str, Any] = {key: _l(name) for key, name in wf.RULE_NAMES.items()}


def _percent(value: float) -> str:
    return str(babel.numbers.format_percent(value, locale=current_lang()))


def _decimal(value: float) -> str:
    return str(babel.numbers.format_decimal(value, format="0.00", locale=current_lang()))


def describe(row: Calibration | None, who: str = "") -> dict[str, Any] | None:
    """What the pages show of a calibration, in the reader's language."""
    if row is None:
        return None
    figures = row.figures or None
    defaults = DEFAULT_WEIGHTS
    error = None
    if row.status == "failed":
        error = (
            _("The server stopped before the calibration finished.")
            if row.error == wf.INTERRUPTED
            else _("An unexpected error stopped it (%(detail)s).", detail=row.error or "")
        )
    return {
        "row": row,
        "who": who,
        "sentence": wf.figures_sentence(figures, _, _percent) if figures else None,
        "years": wf.years(figures) if figures else None,
        "share": _percent(wf.used_hit3(figures)) if figures else None,
        "rule_share": _percent(float(figures["best_rule_hit3"])) if figures else None,
        "figures": figures,
        "kept_defaults": row.status == "done" and wf.kept_defaults(row),
        "not_adopted": wf.not_adopted_sentence(figures, _, _decimal) if figures else None,
        "adopted": row.status == "done" and wf.adopted(row),
        "weights": [
            (
                FACTOR_LABELS.get(k, k),
                float(row.weights.get(k, 0.0)) if row.status == "done" else None,
                defaults.factor(k),
            )
            for k in FACTORS
        ],
        "error": error,
    }


def panel(db: Session) -> dict[str, Any]:
    """The matching page's calibration section: the calibration runs use, and one running or
    failed since."""
    _recover()
    used = wf.latest(db)
    newest = wf.history(db, 1, 1)[0]
    last = newest[0][0] if newest else None
    return {
        "used": describe(used, wf.creator(db, used)) if used else None,
        "running": last if last is not None and last.status == "running" else None,
        "failed": describe(last) if last is not None and last.status == "failed" else None,
        "can_calibrate": current_user.role in STAFF,
    }


# ----------------------------------------------------------------------------- pages


class CalibrateForm(PageForm):
    window = SelectField(
        _l("Years in each window of history"),
        choices=[SelectChoice(str(n), str(n)) for n in wf.WINDOWS],
        default=str(wf.DEFAULT_WINDOW),
        validators=[InputRequired(message=_l("Choose how many years each window spans."))],
    )


def _db() -> Session:
    return get_session()


def _confirm(form: CalibrateForm, status: int = 200) -> Any:
    db = _db()
    return render_template(
        "matching/calibrate.html",
        form=form,
        today=today(),
        used=describe(wf.latest(db)),
    ), status


@bp.get("/calibrate")
@access(*STAFF)
def calibrate_confirm() -> Any:
    return _confirm(CalibrateForm())


@bp.post("/calibrations")
@access(*STAFF)
@sent_once
def calibrate() -> Any:
    db = _db()
    form = CalibrateForm()
    if not form.validate_on_submit():
        return _confirm(form, 400)
    try:
        row = wf.begin(db, today=today(), window=int(form.window.data), user_id=current_user.id)
    except wf.CalibrationBusy:
        db.rollback()
        busy = wf.running(db)
        flash(_("A calibration is already running: wait until it has finished."), "error")
        if busy is not None:
            return redirect(url_for("matching.calibration", calibration_id=busy.id))
        return _confirm(form, 409)
    job = queue_calibration(db, row, current_user.id)
    db.commit()
    assert row.id is not None
    launch(job)
    flash(_("Calibration %(id)s started.", id=row.id), "info")
    return redirect(url_for("matching.calibration", calibration_id=row.id))


@bp.get("/calibrations")
@access(*READERS)
def calibrations() -> Any:
    from sscmatch.workflow.proposals import Page

    db = _db()
    _recover()
    number = page_arg()
    size = int(current_app.config["PAGE_SIZE"])
    status, by = work_filters()
    rows, total = wf.history(db, number, size, status=status, by=by)
    return render_template(
        "matching/calibrations.html",
        rows=[describe(row, who) for row, who in rows],
        page=Page(items=[], number=number, size=size, total=total),
        filters={"status": status, "by": by},
        statuses=RUN_STATUSES,
        starters=starters(db, Calibration),
        can_calibrate=current_user.role in STAFF,
    )


def _calibration_or_404(db: Session, calibration_id: int) -> Calibration:
    from flask import abort

    row = db.get(Calibration, calibration_id)
    if row is None:
        abort(404, description=_("There is no calibration %(id)s.", id=calibration_id))
    return row


@bp.get("/calibrations/<int:calibration_id>")
@access(*READERS)
def calibration(calibration_id: int) -> Any:
    db = _db()
    _recover()
    row = _calibration_or_404(db, calibration_id)
    job = jobs.while_running(row, lambda: calibration_job_status(db, row))  # may read row again
    latest = wf.latest(db)
    return render_template(
        "matching/calibration.html",
        cal=describe(row, wf.creator(db, row)),
        in_use=latest is not None and latest.id == row.id,
        job=job,
    )


@bp.get("/calibrations/<int:calibration_id>/status")
@access(*READERS)
@answers_json()
def calibration_status(calibration_id: int) -> Any:
    """The calibration's progress for its page's script (JSON; an unknown calibration is a
    JSON 404 in the reader's language)."""
    db = _db()
    _recover()
    row = _calibration_or_404(db, calibration_id)
    job = calibration_job_status(db, row)  # first: it may read the row again, finished meanwhile
    return jsonify(id=row.id, status=row.status, finished=row.status != "running", job=job)


def calibration_job_status(db: Session, row: Calibration) -> dict[str, Any] | None:
    """The state of the job computing ``row`` (queued, running, attempts, waiting for a
    worker), for its page, its status and the API."""
    job = job_beside(db, f"calibration:{row.id}", row)
    return jobs.status(db, job) if job is not None else None
