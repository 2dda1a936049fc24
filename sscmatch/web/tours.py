"""Study tour pages (blueprint ``tours``): list, page, edit, status, commitments, brief, .ics.

A status step that cannot be undone is confirmed first; the others offer their undo
(:mod:`sscmatch.web.tour_steps`).

Every signed-in role reads tours; the secretariat and the focal points of the host and visiting
countries edit them (checked in :mod:`sscmatch.workflow.tours`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlmodel import select
from wtforms import (
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from sscmatch import config
from sscmatch.db import StaleVersion
from sscmatch.models import Institution, Proposal, StudyTour
from sscmatch.schemas import MAX_PAGE, MAX_TEXT, whole_number
from sscmatch.vocab import load_vocabulary
from sscmatch.web import tour_steps
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.confirm import refused
from sscmatch.web.conflict import conflict_message
from sscmatch.web.datefields import TypedDateField, ready_for_use_case
from sscmatch.web.db import get_session
from sscmatch.web.errors import error_text, flash_beside, page_status, rollback
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.web.pageform import PageForm
from sscmatch.web.sent_once import sent_once
from sscmatch.web.templating import (
    CONSTITUENCY_LABELS,
    STATUS_LABELS,
    country_name,
    tour_status_label,
)
from sscmatch.web.textlimit import TextLength
from sscmatch.web.tourtext import KIND_LABELS, MODALITY_LABELS, agenda_calendar, message
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import commitments as commitments_wf
from sscmatch.workflow import tours as wf
from sscmatch.workflow.base import Forbidden, NotFound
from sscmatch.workflow.tours.programme import TRIPARTITE_MISSING

bp = Blueprint("tours", __name__, url_prefix="/tours")


def tour_rates() -> dict[str, Any] | None:
    """Cost-rate overrides from the app setting ``TOUR_RATES`` (``SSCMATCH_TOUR_RATES``): an
    object or unset, as config.check made sure when the app was made."""
    value = current_app.config.get("TOUR_RATES")
    return dict(value) if value is not None else None


def today() -> date:
    return config.today(current_app.config)  # tests and demos may pin the day


def draft_settings() -> wf.DraftSettings:
    """The instance's day and rates, for every route whose step drafts a tour (an acceptance)."""
    return wf.DraftSettings(today=today(), rate_overrides=tour_rates())


def _db() -> Any:
    return get_session()


def _fail(exc: wf.TourError) -> None:
    """Roll back; a missing tour or a refusal goes on to the error page (404, 403), anything
    else is for the caller to show on the page it came from."""
    rollback()
    if isinstance(exc, NotFound | Forbidden):
        raise exc


def _refused(exc: wf.TourError | StaleVersion) -> int:
    """Roll back, flash why a change was refused and return its status (404/403 abort)."""
    if isinstance(exc, StaleVersion):
        rollback()
        flash(conflict_message(exc), "error")
        return 409
    _fail(exc)
    flash(error_text(exc), "error")
    return page_status(exc)


# --------------------------------------------------------------------------- forms


class FilterForm(PageForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validators=[Optional()])
    country = StringField(_l("Country (ISO code)"), validators=[Optional(), TextLength(max=3)])


class StatusForm(PageForm):
    version = HiddenField()
    to = HiddenField()
    # typed in the confirmation's text box (review/confirm.html), where one is asked
    note = TextAreaField(_l("Note"), validators=[Optional(), TextLength(max=wf.MAX_STEP_NOTE)])


class CommitmentForm(PageForm):
    owner_country = SelectField(_l("Owner country"), choices=[])
    owner_institution = SelectField(_l("Owner institution"), choices=[], validators=[Optional()])
    # new text (TextLength reads its line breaks as LF): the use case's MAX_TEXT
    description = TextAreaField(
        _l("What was committed"), validators=[DataRequired(), TextLength(max=MAX_TEXT)]
    )
    due = TypedDateField(FIELD_LABELS["due"], validators=[Optional()])
    status = SelectField(FIELD_LABELS["status"], choices=[])
    evidence = StringField(
        _l("Evidence (text or link)"), validators=[Optional(), TextLength(max=MAX_TEXT)]
    )


def _commitment_form(tour: StudyTour, formdata: Any = None) -> CommitmentForm:
    form = CommitmentForm(formdata=formdata)
    form.owner_country.choices = [
        (c, country_name(c)) for c in (tour.host_country, tour.visiting_country)
    ]
    institutions = _db().exec(
        select(Institution)
        .where(Institution.country.in_((tour.host_country, tour.visiting_country)))  # type: ignore[attr-defined]
        .order_by(Institution.name)
    )
    form.owner_institution.choices = [("", "—")] + [
        (i.id, f"{i.name} ({country_name(i.country)})") for i in institutions
    ]
    form.status.choices = [(s, str(STATUS_LABELS[s])) for s in commitments_wf.STATUSES]
    return form


# --------------------------------------------------------------------------- views


def tours_listing(number: int, size: int) -> Any:
    """The tours list's page of ``size`` tours under the request's filters (its page and its
    export; raises TourError for a bad filter)."""
    return wf.list_tours(
        _db(),
        status=request.args.get("status") or None,
        country=request.args.get("country") or None,
        page=number,
        size=size,
    )


@bp.get("")
@access(SIGNED_IN)
def index() -> Any:
    form = FilterForm(request.args)
    form.status.choices = [("", _("any"))] + [(s, tour_status_label(s)) for s in wf.STATUSES]
    page_size = int(current_app.config.get("PAGE_SIZE", 25))
    number = whole_number(request.args.get("page", "1"), 1, MAX_PAGE) or 0
    try:
        page = tours_listing(number, page_size)
    except wf.TourError as exc:
        flash(error_text(exc), "error")
        return render_template("tours/index.html", form=form, page=None), 400
    return render_template("tours/index.html", form=form, page=page)


def _tour_context(tour: StudyTour) -> dict[str, Any]:
    db = _db()
    vocab = load_vocabulary()
    themes = wf.themes_of(db, tour)
    commitments = commitments_wf.list_commitments(db, today=today(), tour=tour.id)
    institutions = {
        i.id: i.name
        for i in db.exec(
            select(Institution).where(Institution.id.in_(tour.funders))  # type: ignore[attr-defined]
        )
    }
    return {
        "tour": tour,
        "themes": themes,
        "tripartite": wf.needs_tripartite(themes, vocab),
        "problems": _delegation_problems(tour, themes),
        "commitments": commitments,
        "today": today(),
        "is_overdue": commitments_wf.is_overdue,
        "funder_names": institutions,
        "suggested": wf.suggest_funders(
            db, vocab, themes, (tour.host_country, tour.visiting_country)
        ),
        "can_edit": wf.can_edit_tour(tour, current_user),
        "transitions": _steps(tour),
        "agreement": tour_steps.agreement_lines(db, tour),
        "asked_again": tour_steps.asked_again(db, tour),
        "confirmed_steps": wf.CONFIRMED_STEPS,
        "kind_labels": KIND_LABELS,
        "modality_labels": MODALITY_LABELS,
        "days": wf.tour_days(tour),
        "session_date": _session_date,
    }


def _steps(tour: StudyTour) -> list[tuple[str, str | None]]:
    """The status steps the reader may take, each with why it cannot be taken now (in their
    language; the page shows such a step disabled, the reason beside it) or None."""
    return [
        (to, None if refusal is None else error_text(refusal))
        for to, refusal in wf.steps(_db(), tour, current_user, today())
    ]


def _delegation_problems(tour: StudyTour, themes: list[str]) -> list[str]:
    missing = wf.missing_constituencies(tour.delegation, themes, load_vocabulary())
    if not missing:
        return []
    names = ", ".join(str(CONSTITUENCY_LABELS.get(c, c)) for c in missing)
    return [message(TRIPARTITE_MISSING, {"missing": names}, on_its_own=True)]


def _session_date(tour: StudyTour, day: int) -> date | None:
    """The day of the agenda's ``day`` (the template writes it with ``period``)."""
    if not tour.start:
        return None
    from datetime import timedelta

    return tour.start.first + timedelta(days=day - 1)


@bp.get("/<tour_id>")
@access(SIGNED_IN)
def show(tour_id: str) -> Any:
    tour = wf.get_tour(_db(), tour_id)
    commitment_form = _commitment_form(tour)
    return render_template(
        "tours/show.html",
        status_form=StatusForm(),
        commitment_form=commitment_form,
        can_record=_can_record(tour),
        **_tour_context(tour),
    )


def _can_record(tour: StudyTour) -> bool:
    if tour.status not in commitments_wf.RECORDING_STATUSES:
        return False
    return wf.can_edit_tour(tour, current_user)


@bp.get("/<tour_id>/brief")
@access(SIGNED_IN)
def brief(tour_id: str) -> Any:
    tour = wf.get_tour(_db(), tour_id)
    return render_template("tours/brief.html", **_tour_context(tour))


@bp.get("/<tour_id>/agenda.ics")
@access(SIGNED_IN)
def ics(tour_id: str) -> Any:
    try:
        tour = wf.get_tour(_db(), tour_id)
        text = agenda_calendar(tour, domain=request.host.split(":")[0] or "sscmatch")
    except wf.TourError as exc:
        _fail(exc)
        flash(error_text(exc), "error")
        return redirect(url_for("tours.show", tour_id=tour_id))
    return Response(
        text,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{tour.id}.ics"'},
    )


@bp.post("/<tour_id>/status")
@access("focal_point", "secretariat", "admin")
def change_status(tour_id: str) -> Any:
    db = _db()
    form = StatusForm()
    wrong = refused(form, "note")  # the confirmation drawn again with the note typed
    try:
        version = int(form.version.data or "0")
    except ValueError:
        version = 0
    to = form.to.data or ""
    asked = tour_steps.confirm_step(db, tour_id, to, version, form.note.data, today(), wrong)
    if asked is not None:
        return asked
    if wrong:  # a step taken at once, with a note no page of ours sends
        flash(_("Nothing was saved: %(why)s", why=wrong), "error")
        return redirect(url_for("tours.show", tour_id=tour_id)), 303
    try:
        before = wf.get_tour(db, tour_id).status
        tour = wf.transition(
            db,
            tour_id,
            to,
            version=version,
            user=current_user,
            today=today(),
            note=form.note.data or None,
        )
    except (wf.TourError, StaleVersion) as exc:
        _refused(exc)
        if request.form.get("confirmed") == "y":  # on the confirmation: asked again there
            asked = tour_steps.confirm_again(db, tour_id, to, form.note.data, today())
            if asked is not None:  # the note typed kept, the tour as it now is
                return asked
        return redirect(url_for("tours.show", tour_id=tour_id)), 303
    db.commit()
    tour_steps.said_after(tour, before, to)
    return redirect(url_for("tours.show", tour_id=tour.id))


@bp.post("/<tour_id>/commitments")
@access("focal_point", "secretariat", "admin")
@sent_once
def add_commitment(tour_id: str) -> Any:
    db = _db()
    tour = wf.get_tour(db, tour_id)
    if not wf.can_edit_tour(tour, current_user):  # before looking at the form: 403, not 400
        abort(
            403,
            description=_(
                "Only the focal points of the two countries and the secretariat record "
                "commitments of this tour."
            ),
        )
    form = _commitment_form(tour, request.form)
    if ready_for_use_case(form):
        try:
            k = commitments_wf.add_commitment(
                db,
                tour.id,
                user=current_user,
                owner_country=form.owner_country.data or "",
                owner_institution=form.owner_institution.data or None,
                description=form.description.data or "",
                due=form.due.data or None,
                status=form.status.data or "pending",
                evidence=form.evidence.data or None,
            )
        except wf.TourError as exc:
            _fail(exc)
            flash_beside(form, exc)
        else:
            db.commit()
            flash(_("Commitment %(id)s recorded.", id=k.id), "info")
            return redirect(url_for("tours.show", tour_id=tour.id) + "#commitments")
    status = 400
    return (
        render_template(
            "tours/show.html",
            status_form=StatusForm(),
            commitment_form=form,
            can_record=_can_record(tour),
            **_tour_context(tour),
        ),
        status,
    )


@bp.post("/from-proposal/<int:proposal_id>")
@access("secretariat", "admin")
def from_proposal(proposal_id: int) -> Any:
    db = _db()
    proposal = db.get(Proposal, proposal_id)
    if proposal is None:
        abort(404, description=_("No such proposal."))
    if proposal.status != "accepted":
        flash(_("Only an accepted proposal becomes a study tour."), "error")
        return redirect(url_for("tours.index")), 303
    try:
        tour = wf.draft_from_proposal(
            db, proposal, current_user.id, rate_overrides=tour_rates(), today=today()
        )
    except wf.TourError as exc:
        _fail(exc)
        flash(error_text(exc), "error")
        return redirect(url_for("tours.index")), 303
    db.commit()
    return redirect(url_for("tours.show", tour_id=tour.id))
