"""The matching pages (blueprint `matching`): list runs, start one, follow its progress.

A run is created here (status ``running``) and computed by :func:`execute_run` in a background
thread with its own sessions: progress is committed as batches of needs finish, the proposals are
stored in one transaction at the end, and a failure marks the run ``failed`` with its error (no
proposal of a failed run is kept). With ``MATCH_SYNC`` (default: when the app is testing) the run
is computed inside the request, which makes tests deterministic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
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
from flask_wtf import FlaskForm
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from wtforms import IntegerField, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from sscmatch.models import MatchRun, Need, User
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import access
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import matchruns

bp = Blueprint("matching", __name__, url_prefix="/matching")
log = logging.getLogger(__name__)

STAFF = ("secretariat", "admin")
READERS = ("secretariat", "admin", "analyst")  # the analyst reads, changes nothing


# ----------------------------------------------------------------------------- running


def execute_run(
    engine: Engine, run_id: int, need_ids: Sequence[str], top_k: int, user_id: int | None
) -> None:
    """Compute and store a begun run; commits progress, then the proposals, or the failure."""

    def progress(done: int, total: int) -> None:
        with Session(engine) as s:
            run = s.get(MatchRun, run_id)
            if run is not None:
                run.needs_done, run.needs_total = done, total
                s.commit()

    try:
        with Session(engine, expire_on_commit=False) as s:
            proposals = matchruns.compute(
                s, load_vocabulary(), need_ids=need_ids, top_k=top_k, progress=progress
            )
        with Session(engine, expire_on_commit=False) as s:
            run = s.get(MatchRun, run_id)
            assert run is not None
            matchruns.finish_run(s, run, proposals, user_id)
            s.commit()
    except Exception as exc:  # a run must end, failed, rather than stay running forever
        log.exception("match run %s failed", run_id)
        with Session(engine, expire_on_commit=False) as s:
            failed = s.get(MatchRun, run_id)
            if failed is not None:
                matchruns.fail_run(failed, f"{type(exc).__name__}: {exc}")
                s.commit()


def launch(run_id: int, need_ids: Sequence[str], top_k: int, user_id: int | None) -> None:
    """Run in the background, or at once when ``MATCH_SYNC`` (default: testing) is set."""
    engine: Engine = current_app.extensions["sscmatch.engine"]
    sync = current_app.config.get("MATCH_SYNC")
    if sync is None:  # unset: only when testing
        sync = current_app.testing
    if sync:
        execute_run(engine, run_id, need_ids, top_k, user_id)
        return
    thread = threading.Thread(
        target=execute_run,
        args=(engine, run_id, list(need_ids), top_k, user_id),
        name=f"match-run-{run_id}",
        daemon=True,
    )
    thread.start()


# ----------------------------------------------------------------------------- pages


class StartRunForm(FlaskForm):  # type: ignore[misc]
    scope = RadioField(
        _l("Needs to match"),
        choices=[
            SelectChoice("all", _l("All open needs")),
            SelectChoice("selected", _l("Only the needs selected below")),
        ],
        default="all",
        validators=[InputRequired()],
    )
    needs = SelectMultipleField(_l("Open needs"), choices=[], validate_choice=True)
    top = IntegerField(
        _l("Providers per need (top K)"),
        default=5,
        validators=[
            InputRequired(message=_l("Say how many providers to propose per need.")),
            NumberRange(1, 50, message=_l("Between 1 and 50.")),
        ],
    )

    def validate_needs(self, field: Any) -> None:
        from wtforms.validators import ValidationError

        if self.scope.data == "selected" and not field.data:
            raise ValidationError(_("Select at least one need, or match all open needs."))


def _open_need_choices(db: Session) -> list[SelectChoice]:
    rows = db.exec(
        select(Need.id, Need.country, Need.title)
        .where(Need.status == "open")
        .order_by(col(Need.country), col(Need.id))
    ).all()
    return [SelectChoice(nid, f"{country} · {nid} · {title[:90]}") for nid, country, title in rows]


def _runs_page(db: Session, page: int, size: int) -> tuple[list[tuple[MatchRun, str]], Any]:
    from sscmatch.workflow.proposals import Page

    total = db.exec(select(func.count()).select_from(MatchRun)).one()
    rows = db.exec(
        select(MatchRun, User.name, User.email)
        .join(User, col(User.id) == col(MatchRun.created_by), isouter=True)
        .order_by(col(MatchRun.created_at).desc(), col(MatchRun.id).desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    pager = Page(items=[], number=page, size=size, total=int(total))
    return [(run, name or email or "") for run, name, email in rows], pager


def _render_runs(form: StartRunForm, status: int = 200) -> Any:
    from sscmatch.web import get_session

    db = get_session()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    runs, pager = _runs_page(db, page, int(current_app.config["PAGE_SIZE"]))
    return render_template(
        "matching/runs.html",
        form=form,
        runs=runs,
        page=pager,
        running=any(run.status == "running" for run, _ in runs),
        can_run=current_user.role in STAFF,
    ), status


@bp.get("/runs")
@access(*READERS)
def runs() -> Any:
    from sscmatch.web import get_session

    form = StartRunForm()
    form.needs.choices = _open_need_choices(get_session())
    return _render_runs(form)


@bp.post("/runs")
@access(*STAFF)
def start() -> Any:
    from sscmatch.web import get_session

    db = get_session()
    form = StartRunForm()
    form.needs.choices = _open_need_choices(db)
    if not form.validate_on_submit():
        return _render_runs(form, 400)
    need_ids = list(form.needs.data or []) if form.scope.data == "selected" else []
    try:
        run = matchruns.begin_run(
            db, need_ids=need_ids, top_k=int(form.top.data), user_id=current_user.id
        )
    except matchruns.MatchError as exc:
        db.rollback()
        flash(str(exc), "error")
        return _render_runs(form, 400)
    db.commit()
    assert run.id is not None
    launch(run.id, need_ids, run.top_k, current_user.id)
    flash(_("Match run %(id)s started.", id=run.id), "info")
    return redirect(url_for("matching.run", run_id=run.id))


def _run_or_404(db: Session, run_id: int) -> MatchRun:
    run = db.get(MatchRun, run_id)
    if run is None:
        abort(404, description=_("There is no match run %(id)s.", id=run_id))
    return run


@bp.get("/runs/<int:run_id>")
@access(*READERS)
def run(run_id: int) -> Any:
    from sscmatch.web import get_session

    db = get_session()
    found = _run_or_404(db, run_id)
    rows = db.exec(
        select(StoredProposal, Need.title)
        .join(Need, col(Need.id) == col(StoredProposal.need))
        .where(StoredProposal.run_id == run_id)
        .order_by(col(StoredProposal.need), col(StoredProposal.rank))
    ).all()
    by_need: dict[str, dict[str, Any]] = {}
    for proposal, title in rows:
        entry = by_need.setdefault(
            proposal.need,
            {"id": proposal.need, "title": title, "recipient": proposal.recipient, "rows": []},
        )
        entry["rows"].append(proposal)
    creator = db.get(User, found.created_by) if found.created_by else None
    return render_template(
        "matching/run.html",
        run=found,
        needs=list(by_need.values()),
        creator=(creator.name or creator.email) if creator else "",
    )


@bp.get("/runs/<int:run_id>/status")
@access(*READERS)
def status(run_id: int) -> Any:
    from sscmatch.web import get_session
    from sscmatch.workflow.proposals import run_to_dict

    db = get_session()
    found = db.get(MatchRun, run_id)
    if found is None:
        return jsonify(error="not_found", message=f"no match run {run_id}"), 404
    data = run_to_dict(found)
    data["percent"] = round(100 * found.needs_done / found.needs_total) if found.needs_total else 0
    data["finished"] = found.status != "running"
    return jsonify(data)
