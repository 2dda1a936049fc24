"""Follow-up pages (blueprint ``followup``): the dashboard, the outcome ladder, commitments.

The dashboard opens a focal point's view on their own country (``?country=all`` shows every
country) and puts live overdue commitments first, then what is due soon, then counts by owner
country and by tour, the fulfilment rate by year of decision and the outcome ladder; commitments
recorded from the documents are counted apart (see :mod:`sscmatch.workflow.outcomes`). A
commitment's page shows its history and lets its owner country's focal points (and the
secretariat) update it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from sscmatch.dates import as_text
from sscmatch.db import StaleVersion
from sscmatch.models import Commitment, StudyTour, User
from sscmatch.schemas import MAX_TEXT
from sscmatch.web import stale_edit
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.confirm import preview
from sscmatch.web.datefields import TypedDateField, ready_for_use_case
from sscmatch.web.db import get_session
from sscmatch.web.errors import flash_beside, page_status
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.web.fragments import render_kept
from sscmatch.web.pageform import PageForm
from sscmatch.web.paging import page_arg, page_of, page_size
from sscmatch.web.templating import STATUS_LABELS
from sscmatch.web.textlimit import TextLength
from sscmatch.web.tours import today
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import commitments as wf
from sscmatch.workflow import outcomes
from sscmatch.workflow.base import EDITORS, country_filter
from sscmatch.workflow.tours import TourError, TourForbidden, TourNotFound

bp = Blueprint("followup", __name__, url_prefix="/followup")

LADDER_LABELS = {
    "interest": _l("Expression of interest"),
    "commitment": _l("Commitment"),
    "agreement": _l("Formal agreement"),
    "exchange": _l("Exchange done"),
    "fulfilled": _l("Commitments fulfilled"),
}


def _db() -> Any:
    return get_session()


class UpdateForm(PageForm):
    version = HiddenField()
    status = SelectField(FIELD_LABELS["status"], choices=[])
    # the use case's MAX_TEXT; the note is new text, the evidence one line (no line breaks)
    evidence = StringField(
        _l("Evidence (text or link)"), validators=[Optional(), TextLength(max=MAX_TEXT)]
    )
    due = TypedDateField(FIELD_LABELS["due"], validators=[Optional()])
    note = TextAreaField(FIELD_LABELS["note"], validators=[Optional(), TextLength(max=MAX_TEXT)])


def _update_form(formdata: Any = None) -> UpdateForm:
    form = UpdateForm(formdata=formdata)
    form.status.choices = [(s, str(STATUS_LABELS[s])) for s in wf.STATUSES]
    return form


def _shown_as(k: Commitment) -> UpdateForm:
    """The update form as the commitment's page shows ``k``: where the documents recorded it is
    no evidence that it was kept, so it is shown as its source, never put in the evidence field
    (an empty field then leaves it as it is)."""
    form = _update_form()
    form.version.data = str(k.version)
    form.status.data = k.status
    form.evidence.data = "" if wf.citation_of(_db(), k) else k.evidence or ""
    form.due.data = as_text(k.due) or ""
    return form


stale_edit.register(
    UpdateForm,
    entity="commitment",
    model=Commitment,
    shown_as=_shown_as,
    skip={"note"},  # the words on this update, kept in its history: no value of the record
)


ALL = "all"


def _asks_confirmation(k: Commitment, status: str | None) -> bool:
    """A focal point's decision (fulfilled, dropped) is theirs to take once: only the
    secretariat reopens a decided commitment, so the first Save asks to confirm it."""
    return (
        current_user.role not in EDITORS
        and status in wf.DECIDED
        and status != k.status
        and request.form.get("confirmed") != "y"
    )


def _chosen_country(own_default: bool = True) -> tuple[str | None, bool]:
    """The owner country to show and whether it is the reader's own by default (a focal point
    opens on their country, unless not ``own_default``: the API lists every country; ``all`` or
    an empty choice shows every country); a country the vocabulary does not know is a 400 in the
    reader's language (the one handler)."""
    raw = request.args.get("country")
    if raw is None:
        if own_default and current_user.role == "focal_point" and current_user.country:
            return str(current_user.country), True
        return None, False
    if raw.strip().upper() in ("", ALL.upper()):
        return None, False
    return country_filter(raw, wf.CommitmentBadFilter), False


@bp.get("")
@access(SIGNED_IN)
def dashboard() -> Any:
    country, own = _chosen_country()
    day = today()
    # The table by study tour grows with the tours: it pages like every list (``page``), the
    # figures around it stay whole.
    number, size = page_arg(), page_size()

    def context() -> dict[str, Any]:
        from sqlmodel import select

        owners = _db().exec(select(Commitment.owner_country).distinct()).all()
        board = outcomes.dashboard(_db(), today=day, country=country)
        return dict(
            board=board,
            tours=page_of(list(board.by_tour.items()), number, size),
            ladder=outcomes.outcome_ladder(_db()),
            steps=wf.LADDER,
            ladder_labels=LADDER_LABELS,
            country_filter=country,
            countries=sorted(c for c in owners if c),
            days_left=wf.days_left,
        )

    # Kept while the records are unchanged, for the day (overdue moves with it), the country
    # shown (a focal point's default is not in the address) and the page size.
    return render_kept(
        "followup",
        "dashboard",
        (day.isoformat(), country, size),
        context,
        own_country=country if own else None,
    )


@bp.route("/commitments/<commitment_id>", methods=["GET", "POST"])
@access(SIGNED_IN)
def commitment(commitment_id: str) -> Any:
    db = _db()
    k = db.get(Commitment, commitment_id)
    if k is None:
        abort(404, description=_("No such commitment."))
    form = _update_form(request.form) if request.method == "POST" else _shown_as(k)
    citation = wf.citation_of(db, k)
    status, stale, confirm_note = 200, None, None
    if request.method == "POST":
        if not wf.can_update(k, current_user):
            abort(403, description=_("A focal point updates only their own country's commitments."))
        if ready_for_use_case(form):
            try:
                version = int(form.version.data or "0")
            except ValueError:
                version = 0
            asks = _asks_confirmation(k, form.status.data)

            def update() -> Commitment:
                return wf.update_commitment(
                    db,
                    k.id,
                    user=current_user,
                    version=version,
                    status=form.status.data,
                    evidence=(form.evidence.data or None) if citation else form.evidence.data,
                    due=form.due.data,
                    note=form.note.data,
                )

            try:
                if asks:  # checked as it would be saved, in a savepoint rolled back
                    preview(db, update, lambda _k: None)
                else:
                    update()
            except (TourError, StaleVersion) as exc:
                db.rollback()
                if isinstance(exc, TourNotFound | TourForbidden):
                    raise  # the error page (404, 403)
                if isinstance(exc, StaleVersion):
                    # what the other person changed, beside the form (sscmatch.web.stale_edit)
                    stale = stale_edit.answer(db, form, k.id, exc)
                    status = 409
                else:
                    flash_beside(form, exc)
                    status = page_status(exc)
                k = db.get(Commitment, commitment_id) or k
            else:
                if asks:
                    confirm_note = _(
                        "Once marked %(status)s, this commitment can be reopened only by the "
                        "technical secretariat. Confirm to save it so.",
                        status=STATUS_LABELS[str(form.status.data)],
                    )
                else:
                    db.commit()
                    flash(_("Commitment updated."), "info")
                    return redirect(url_for("followup.commitment", commitment_id=k.id))
        else:
            status = 400
    tour = db.get(StudyTour, k.study_tour) if k.study_tour else None
    rows = wf.history(db, k.id)
    names = {u.id: u.name or u.email for u in db.exec(_users([r.user_id for r in rows]))}
    return (
        render_template(
            "followup/commitment.html",
            k=k,
            tour=tour,
            history=rows,
            names=names,
            form=form,
            stale=stale,
            confirm_note=confirm_note,
            citation=citation,
            can_update=wf.can_update(k, current_user),
            overdue=wf.is_overdue(k, today()),
            days_left=wf.days_left(k, today()),
        ),
        status,
    )


def _users(ids: list[int | None]) -> Any:
    from sqlmodel import col, select

    return select(User).where(col(User.id).in_([i for i in ids if i is not None]))
