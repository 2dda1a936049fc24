"""A need's steps on its page (routes of the ``registry`` blueprint): a focal point submits it
and may take the submission back while it waits; the secretariat endorses it or returns it with
a note, and may withdraw an endorsement it has just given; the country (or the secretariat)
withdraws a need it no longer wants.

Each step taken in one click offers its undo on the page it leads to
(:func:`sscmatch.web.confirm.offer_undo`): a submission, *Undo (take back the submission)*; an
endorsement, *Undo (withdraw the endorsement)*, while no match run has proposed for the need and
no study tour names it (:func:`sscmatch.workflow.registry.withdraw_endorsement` says why not
otherwise). Returning asks for its note, and the focal point's next submission undoes it; taking
a submission back is undone by submitting again. Withdrawing a need closes it and supersedes its
proposals waiting for a decision, so it is confirmed first (the page says what will happen,
worked out in a savepoint that is rolled back), and the page after it offers *Undo (reinstate
the need)* (:mod:`sscmatch.workflow.registry.withdrawal`).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import current_user

from sscmatch.db import StaleVersion
from sscmatch.models import Need
from sscmatch.web.access import access
from sscmatch.web.confirm import confirm_page, offer_undo, preview, refused
from sscmatch.web.errors import flash_beside
from sscmatch.web.need_forms import ActionForm, ReturnForm, WithdrawForm
from sscmatch.web.pageform import PageForm
from sscmatch.web.registry import _db, _need_page, bp
from sscmatch.web.templating import STATUS_LABELS
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.translate import ngettext
from sscmatch.workflow import registry as reg

# The steps taken in one click whose page offers their undo: its label and its step.
UNDONE_BY = {
    "submit": (_l("Undo (take back the submission)"), "registry.need_take_back"),
    "endorse": (_l("Undo (withdraw the endorsement)"), "registry.need_withdraw_endorsement"),
}


def _typed_refused(need_id: str, form: PageForm, typed: str) -> Any:
    """The step form's check (:func:`sscmatch.web.confirm.refused`: a refusal of the text typed
    in ``typed``, a NUL pasted in, say, is said beside that field; any other is a 400 of its
    own): None when it passes, else the need page again with the text kept (400), nothing
    written. Before, a bare 400 page ("The form expired") and the note or reason was lost."""
    if refused(form, typed) is None:
        return None
    page_form = {"note": "note_form", "reason": "withdraw_form"}[typed]
    return _need_page(reg.get_need(_db(), need_id), **{page_form: form}), 400


def _need_step(need_id: str, step: str) -> Any:
    db = _db()
    form: PageForm = ReturnForm() if step == "return" else ActionForm()
    answer = _typed_refused(need_id, form, "note")
    if answer is not None:
        return answer
    version = form.version.data or None
    try:
        if step == "submit":
            need = reg.submit_need(db, current_user, need_id, version)
            message = _("Submitted for endorsement. The secretariat will review it.")
        elif step == "take_back":
            reg.take_back_submission(db, current_user, need_id, version)
            message = _(
                "The submission is taken back: the need is a draft again. Submit it when it is "
                "ready."
            )
        elif step == "endorse":
            need = reg.endorse_need(db, current_user, need_id, version)
            message = _("Endorsed: the need is open and will be matched.")
        elif step == "withdraw":
            reg.withdraw_endorsement(db, current_user, need_id, version)
            message = _("The endorsement is withdrawn: the need waits for endorsement again.")
        elif step == "reinstate":
            need = reg.reinstate_need(db, current_user, need_id, version)
            message = _(
                "The withdrawal is undone: the need is %(status)s again.",
                status=str(STATUS_LABELS.get(need.status, need.status)),
            )
        else:
            reg.return_need(db, current_user, need_id, form.note.data or "", version)
            message = _("Returned to the focal point with your note.")
    except reg.InvalidRecord as exc:
        db.rollback()
        if isinstance(form, ReturnForm):
            flash_beside(form, exc)
            return _need_page(reg.get_need(db, need_id), note_form=form), 400
        raise
    except StaleVersion:
        db.rollback()
        if not isinstance(form, ReturnForm):
            raise  # a button: the conflict page (sscmatch.web.conflict)
        # a step, not an edit of the need's fields: the need as it is now, the note kept
        message = _(
            "Not returned: someone changed this need meanwhile. The page now shows it as it "
            "is, with your note kept; return it again if it still needs changes."
        )
        flash(message, "error")
        return _need_page(reg.get_need(db, need_id), note_form=form), 409
    db.commit()
    if step in UNDONE_BY:
        label, endpoint = UNDONE_BY[step]
        offer_undo(
            message, str(label), url_for(endpoint, need_id=need_id), {"version": need.version}
        )
    else:
        flash(message, "success")
    return redirect(url_for("registry.need", need_id=need_id))


@bp.post("/needs/<need_id>/submit")
@access("focal_point", "secretariat", "admin")
def need_submit(need_id: str) -> Any:
    return _need_step(need_id, "submit")


@bp.post("/needs/<need_id>/take-back")
@access("focal_point", "secretariat", "admin")
def need_take_back(need_id: str) -> Any:
    return _need_step(need_id, "take_back")


@bp.post("/needs/<need_id>/endorse")
@access("secretariat", "admin")
def need_endorse(need_id: str) -> Any:
    return _need_step(need_id, "endorse")


@bp.post("/needs/<need_id>/withdraw-endorsement")
@access("secretariat", "admin")
def need_withdraw_endorsement(need_id: str) -> Any:
    return _need_step(need_id, "withdraw")


@bp.post("/needs/<need_id>/return")
@access("secretariat", "admin")
def need_return(need_id: str) -> Any:
    return _need_step(need_id, "return")


@bp.post("/needs/<need_id>/reinstate")
@access("focal_point", "secretariat", "admin")
def need_reinstate(need_id: str) -> Any:
    return _need_step(need_id, "reinstate")


# --------------------------------------------------------------------------- withdrawal


def _withdrawal_lines(need: Need, superseded: int, reason: str) -> list[str]:
    lines = [
        _(
            "Need %(id)s becomes closed: match runs no longer propose providers for it.",
            id=need.id,
        )
    ]
    if superseded:
        lines.append(
            ngettext(
                "Its %(num)d proposal waiting for a decision is superseded: it leaves the "
                "review queue.",
                "Its %(num)d proposals waiting for a decision are superseded: they leave the "
                "review queue.",
                superseded,
            )
        )
    if reason:
        lines.append(_("Your reason is kept in its history: %(reason)s", reason=reason))
    return lines


@bp.post("/needs/<need_id>/withdraw")
@access("focal_point", "secretariat", "admin")
def need_withdraw(need_id: str) -> Any:
    """Withdraw a need its country no longer wants: confirmed first, undone right after."""
    db = _db()
    form = WithdrawForm()
    answer = _typed_refused(need_id, form, "reason")
    if answer is not None:
        return answer
    version = form.version.data or None
    reason = (form.reason.data or "").strip()
    if request.form.get("confirmed") != "y":

        def withdraw() -> int:
            pending = len(reg.pending_proposals(db, need_id))
            reg.withdraw_need(db, current_user, need_id, reason, version)
            return pending

        try:
            superseded: int | None = preview(db, withdraw, lambda pending: pending)
        except reg.InvalidRecord as exc:  # the reason typed: beside its field, kept
            flash_beside(form, exc)
            return _need_page(reg.get_need(db, need_id), withdraw_form=form), 400
        except (reg.RegistryError, StaleVersion):
            superseded = None  # refused: the step itself says why, as without a confirmation
        if superseded is not None:
            need = reg.get_need(db, need_id)
            return confirm_page(
                title=_("Withdraw need %(id)s?", id=need_id),
                lines=_withdrawal_lines(need, superseded, reason),
                action=url_for("registry.need_withdraw", need_id=need_id),
                back=url_for("registry.need", need_id=need_id),
                fields={"version": form.version.data or need.version, "reason": reason},
                danger=True,
                undo=_(
                    "The next page offers its undo; later, only the secretariat reopens a "
                    "closed need."
                ),
            )
    try:
        need = reg.withdraw_need(db, current_user, need_id, reason, version)
    except StaleVersion:
        # confirmed on a page overtaken meanwhile: the need as it is now, the reason kept
        db.rollback()
        flash(
            _(
                "Not withdrawn: someone changed this need meanwhile. The page now shows it as "
                "it is, with your reason kept; withdraw it again if it is still not needed."
            ),
            "error",
        )
        return _need_page(reg.get_need(db, need_id), withdraw_form=form), 409
    db.commit()
    offer_undo(
        _("The need is withdrawn: it is closed and no longer matched."),
        _("Undo (reinstate the need)"),
        url_for("registry.need_reinstate", need_id=need_id),
        {"version": need.version},
    )
    return redirect(url_for("registry.need", need_id=need_id))
