"""The matching pages (blueprint `matching`): list runs, start one, follow its progress; the
calibration pages (:mod:`sscmatch.web.calibrations`) share the blueprint.

A run is created here (status ``running``) with the job that computes it, in one transaction; a
worker process takes the job (:mod:`sscmatch.jobs`, kind ``match_run``): progress is committed
as batches of needs finish, the proposals are stored in one transaction at the end, and a
failure marks the run ``failed`` with its error (no proposal of a failed run is kept). A run
whose worker was killed is computed again by another attempt. With ``JOBS_SYNC`` (default: when
the app is testing) the job is carried out inside the request, which makes tests deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func
from sqlmodel import Session, col, select
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, ValidationError

from sscmatch import jobs
from sscmatch.models import Job, MatchRun, Need, User
from sscmatch.schemas import MAX_ITEMS, MAX_REF
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import access
from sscmatch.web.db import get_session
from sscmatch.web.errors import answers_json, error_text
from sscmatch.web.pageform import PageForm
from sscmatch.web.paging import page_arg
from sscmatch.web.sent_once import sent_once
from sscmatch.web.templating import STATUS_LABELS
from sscmatch.web.textlimit import TextLength
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.widgets import FastSelect, theme_choices
from sscmatch.workflow import matchruns
from sscmatch.workflow.base import country_filter, status_filter, user_filter
from sscmatch.workflow.jobs import INTERRUPTED as INTERRUPTED_JOB
from sscmatch.workflow.jobs import job_beside

bp = Blueprint("matching", __name__, url_prefix="/matching")

STAFF = ("secretariat", "admin")
READERS = ("secretariat", "admin", "analyst")  # the analyst reads, changes nothing


# ----------------------------------------------------------------------------- running


def queue_run(db: Session, run: MatchRun, need_ids: Sequence[str], user_id: int | None) -> Job:
    """Queue the job that computes a begun run, in the transaction that begins it (a worker
    takes it after the commit: the ``match_run`` kind of :mod:`sscmatch.jobs.kinds`)."""
    return jobs.submit(
        db,
        "match_run",
        {"run_id": run.id, "need_ids": list(need_ids), "top_k": run.top_k},
        subject=f"match_run:{run.id}",
        user_id=user_id,
    )


def launch(job: Job) -> None:
    """Hand a committed run's job over: to a worker, or computed at once with ``JOBS_SYNC``
    (default: testing)."""
    jobs.start(job)


def run_job_status(db: Session, run: MatchRun) -> dict[str, Any] | None:
    """The state of the job computing ``run`` (after recovering the jobs of stopped workers),
    for its page and its status."""
    job = job_beside(db, f"match_run:{run.id}", run)
    return jobs.status(db, job) if job is not None else None


def run_with_job(db: Session, run_id: int) -> tuple[MatchRun | None, dict[str, Any] | None]:
    """A run and the state of its job, read so that both agree (``job_beside``)."""
    run = db.get(MatchRun, run_id)
    return run, (run_job_status(db, run) if run is not None else None)


# ----------------------------------------------------------------------------- pages


SEPARATORS = re.compile(r"[\s,;]+")  # between typed ids or country codes
SHOWN_IDS = 10  # ids named in a message; the rest are counted
IN_CHUNK = 500  # ids per IN (…) list
MAX_NEED_IDS = 10_000  # need ids of one run, as the API's MatchRunRequest takes
NEED_IDS_TEXT = MAX_NEED_IDS * (MAX_REF + 1)
"""The need ids typed for a run: as many as the API takes, each of the longest and a separator
(the text is not stored: the run keeps the ids)."""
COUNTRY_CODES_TEXT = MAX_ITEMS * 5
"""The countries typed for a run: as many codes as a record's list of countries holds, each of
three letters and a separator (``GTM, ``)."""


class NeedIdsField(TextAreaField):  # type: ignore[misc]
    """Need ids typed one a line or separated by commas or spaces. A post that repeats the
    field (``needs=a&needs=b``, as the former multiple select sent) is read as one list."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            self.data = "\n".join(valuelist)

    def ids(self) -> list[str]:
        """The ids typed, each once, in the order typed."""
        return list(dict.fromkeys(i for i in SEPARATORS.split(self.data or "") if i))


class StartRunForm(PageForm):
    scope = RadioField(
        _l("Needs to match"),
        choices=[
            SelectChoice("all", _l("All open needs")),
            SelectChoice("selected", _l("Only the needs selected below")),
        ],
        default="all",
        validators=[InputRequired()],
    )
    needs = NeedIdsField(_l("Need ids"), validators=[TextLength(max=NEED_IDS_TEXT)])
    country = StringField(
        _l("Countries (ISO alpha-3 codes)"), validators=[TextLength(max=COUNTRY_CODES_TEXT)]
    )
    theme = SelectField(
        _l("Theme (with its sub-themes)"), validate_choice=False, widget=FastSelect()
    )
    top = IntegerField(
        _l("Providers per need (top K)"),
        default=5,
        validators=[
            InputRequired(message=_l("Say how many providers to propose per need.")),
            NumberRange(1, 50, message=_l("Between 1 and 50.")),
        ],
    )

    def validate_theme(self, field: Any) -> None:
        if field.data and field.data not in load_vocabulary().themes:
            raise ValidationError(_("Unknown theme: %(theme)s.", theme=field.data))

    def validate_country(self, field: Any) -> None:
        countries = load_vocabulary().countries
        unknown = [c for c in self.country_codes() if c not in countries]
        if unknown:
            raise ValidationError(
                _(
                    "Unknown country codes: %(codes)s. Use ISO alpha-3 codes such as GTM or BRA.",
                    codes=_listed(unknown),
                )
            )

    def country_codes(self) -> list[str]:
        raw = (self.country.data or "").upper()
        return list(dict.fromkeys(c for c in SEPARATORS.split(raw) if c))

    def chooses(self) -> bool:
        """Something was typed or picked to choose needs with."""
        return bool(self.needs.ids() or self.country_codes() or self.theme.data)


def _listed(items: Sequence[str]) -> str:
    """``a, b, c`` — the first few, and how many more."""
    shown = ", ".join(items[:SHOWN_IDS])
    if len(items) > SHOWN_IDS:
        return _("%(shown)s and %(more)s more", shown=shown, more=len(items) - SHOWN_IDS)
    return shown


def _start_form() -> StartRunForm:
    form = StartRunForm()
    # Each parent theme followed by its children, as on the registry's forms.
    form.theme.choices = [("", _("Any")), *theme_choices(load_vocabulary())]
    return form


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _chosen_needs(db: Session, form: StartRunForm) -> tuple[list[str], list[Need]] | None:
    """The needs a valid form chooses (empty: all open needs) and the records read to check them
    (kept so that the run's own check finds them in the session); ``None`` after adding a
    message to the field at fault."""
    if form.scope.data != "selected":
        if form.chooses():
            form.scope.errors.append(
                _(
                    "You chose all open needs but also gave need ids, countries or a theme. "
                    "Choose “Only the needs selected below” to use them, or clear them."
                )
            )
            return None
        return [], []
    if not form.chooses():
        form.needs.errors.append(
            _("Select at least one need: give its id, or a country or a theme.")
        )
        return None
    typed = form.needs.ids()
    status: dict[str, str] = {}
    for chunk in _chunks(typed):
        status.update(db.exec(select(Need.id, Need.status).where(col(Need.id).in_(chunk))).all())
    unknown = [i for i in typed if i not in status]
    closed = [i for i in typed if i in status and status[i] != "open"]
    if unknown:
        form.needs.errors.append(_("Unknown need ids: %(ids)s.", ids=_listed(unknown)))
    if closed:
        named = [f"{i} ({STATUS_LABELS.get(status[i], status[i])})" for i in closed]
        form.needs.errors.append(
            _("Only open needs are matched; these are not open: %(ids)s.", ids=_listed(named))
        )
    if unknown or closed:
        return None
    if form.country.errors or form.theme.errors:
        return None
    countries, theme = form.country_codes(), form.theme.data or ""
    found: list[str] = []
    if countries or theme:
        family = [theme, *load_vocabulary().children(theme)] if theme else []
        found = matchruns.open_needs(db, countries, family)
        if not found:
            at_fault = form.country if countries else form.theme
            at_fault.errors.append(_("No open need has these countries and theme."))
            return None
    wanted = list(dict.fromkeys([*typed, *found]))
    loaded: list[Need] = []
    for chunk in _chunks(wanted):  # one read, rather than one per need in begin_run's check
        loaded += db.exec(select(Need).where(col(Need.id).in_(chunk))).all()
    return wanted, loaded


RUN_STATUSES = ("running", "done", "failed")
"""The statuses of a match run or a calibration (their lists' status filter)."""


def work_filters() -> tuple[str | None, int | None]:
    """The status and the starter (``by``: a user's number) that the list of runs or of
    calibrations is filtered by (a bad value: 400 in the reader's language)."""
    return status_filter(request.args.get("status"), RUN_STATUSES), user_filter(
        request.args.get("by"), name="by"
    )


def starters(db: Session, model: Any, **where: Any) -> list[tuple[int, str]]:
    """Who started any ``model`` (runs, calibrations, jobs of a ``kind``), by name: the ``by``
    filter's choices."""
    started = select(col(model.created_by)).distinct()
    for name, value in where.items():
        started = started.where(getattr(model, name) == value)
    rows = db.exec(select(User.id, User.name, User.email).where(col(User.id).in_(started))).all()
    return sorted(
        ((int(i or 0), name or email or "") for i, name, email in rows),
        key=lambda r: r[1].lower(),
    )


def runs_page(
    db: Session, page: int, size: int, status: str | None = None, by: int | None = None
) -> tuple[list[tuple[MatchRun, str]], Any]:
    """A page of the match runs, newest first, with who started each; only those of
    ``status`` and started by user ``by`` when given."""
    from sscmatch.workflow.proposals import Page

    where = []
    if status:
        where.append(col(MatchRun.status) == status)
    if by is not None:
        where.append(col(MatchRun.created_by) == by)
    total = db.exec(select(func.count()).select_from(MatchRun).where(*where)).one()
    rows = db.exec(
        select(MatchRun, User.name, User.email)
        .join(User, col(User.id) == col(MatchRun.created_by), isouter=True)
        .where(*where)
        .order_by(col(MatchRun.created_at).desc(), col(MatchRun.id).desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    pager: Page[Any] = Page(items=[], number=page, size=size, total=int(total))
    return [(run, name or email or "") for run, name, email in rows], pager


def _render_runs(form: StartRunForm, status: int = 200) -> Any:
    from sscmatch.web.calibrations import panel as calibration_panel  # it shares this blueprint

    db = get_session()
    page = page_arg()
    wanted, by = work_filters()
    runs, pager = runs_page(db, page, int(current_app.config["PAGE_SIZE"]), wanted, by)
    return render_template(
        "matching/runs.html",
        form=form,
        runs=runs,
        page=pager,
        filters={"status": wanted, "by": by},
        statuses=RUN_STATUSES,
        starters=starters(db, MatchRun),
        running=any(run.status == "running" for run, _ in runs),
        can_run=current_user.role in STAFF,
        calibration=calibration_panel(db),
    ), status


@bp.get("/runs")
@access(*READERS)
def runs() -> Any:
    return _render_runs(_start_form())


@bp.post("/runs")
@access(*STAFF)
@sent_once
def start() -> Any:
    db = get_session()
    form = _start_form()
    valid = form.validate_on_submit()
    chosen = _chosen_needs(db, form)  # its messages too, not only the first field's
    if not valid or chosen is None:
        return _render_runs(form, 400)
    need_ids, _read = chosen  # _read: the needs checked, kept in the session for begin_run
    try:
        run = matchruns.begin_run(
            db, need_ids=need_ids, top_k=int(form.top.data), user_id=current_user.id
        )
    except matchruns.MatchError as exc:
        db.rollback()
        flash(error_text(exc), "error")
        return _render_runs(form, 400)
    job = queue_run(db, run, need_ids, current_user.id)
    db.commit()
    launch(job)
    flash(_("Match run %(id)s started.", id=run.id), "info")
    return redirect(url_for("matching.run", run_id=run.id))


def _run_or_404(db: Session, run_id: int) -> MatchRun:
    run = db.get(MatchRun, run_id)
    if run is None:
        abort(404, description=_("There is no match run %(id)s.", id=run_id))
    return run


def run_recipient() -> str | None:
    """The recipient country a run's page lists the needs of (``country``; an unknown one: 400
    in the reader's language); the page and its export share it."""
    return country_filter(request.args.get("country"))


def run_or_404(run_id: int) -> MatchRun:
    """The run ``run_id`` (a 404 in the reader's language when there is none)."""
    return _run_or_404(get_session(), run_id)


@bp.get("/runs/<int:run_id>")
@access(*READERS)
def run(run_id: int) -> Any:
    db = get_session()
    _recover()
    found = _run_or_404(db, run_id)
    recipient = run_recipient()
    size = int(current_app.config["PAGE_SIZE"])
    needs = matchruns.run_needs(db, run_id, recipient, page_arg(), size)
    creator = db.get(User, found.created_by) if found.created_by else None
    job = jobs.while_running(found, lambda: run_job_status(db, found))  # may read the run again
    return render_template(
        "matching/run.html",
        run=found,
        needs=needs,
        recipient=recipient,
        creator=(creator.name or creator.email) if creator else "",
        job=job,
        failure=run_error(found.error),
    )


@bp.get("/runs/<int:run_id>/status")
@access(*READERS)
@answers_json()
def status(run_id: int) -> Any:
    """The run's progress for its page's script (JSON; an unknown run is a JSON 404 in the
    reader's language)."""
    from sscmatch.workflow.proposals import run_to_dict

    db = get_session()
    _recover()
    found, job = run_with_job(db, run_id)
    if found is None:
        abort(404, description=_("There is no match run %(id)s.", id=run_id))
    data = run_to_dict(found)
    data["percent"] = round(100 * found.needs_done / found.needs_total) if found.needs_total else 0
    data["finished"] = found.status != "running"
    data["job"] = job
    return jsonify(data)


ATTEMPTS = re.compile(r"attempt (?P<n>\d+) of (?P<max>\d+)\)$")


def run_error(error: str | None) -> str:
    """A failed run's error in the reader's language when the service wrote it (its job's
    worker stopped at every attempt; no job left to compute it), else as stored (an exception's
    text)."""
    if not error:
        return ""
    if error.startswith(INTERRUPTED_JOB):
        found = ATTEMPTS.search(error)
        return _(
            "interrupted: the worker computing it stopped before the end, at every attempt "
            "(%(n)s of %(max)s); nothing was stored. Start the run again.",
            n=found["n"] if found else "?",
            max=found["max"] if found else "?",
        )
    if error == matchruns.INTERRUPTED:
        return _(
            "interrupted: no job is computing this run any more; nothing was stored. "
            "Start the run again."
        )
    return error


def _recover() -> None:
    """A page that shows a job moves on the jobs of workers that stopped (a worker does too):
    a killed worker's run shows "queued again", or failed after its last attempt."""
    jobs.recover(current_app.extensions["sscmatch.engine"])
