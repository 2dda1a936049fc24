"""A need's endorsement steps on its page (routes of the ``registry`` blueprint): a focal point
submits it, the secretariat endorses it or returns it with a note, and may withdraw an
endorsement it has just given.

An endorsement opens the need to matching at once, so the page that took it offers its undo
(:func:`sscmatch.web.confirm.offer_undo`): withdrawing it, while no match run has proposed for
the need and no study tour names it (:func:`sscmatch.workflow.registry.withdraw_endorsement`
says why not otherwise). Returning asks for its note, and the focal point's next submission
undoes it; submitting is undone by the secretariat's return.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from sscmatch.db import StaleVersion
from sscmatch.web.access import access
from sscmatch.web.confirm import offer_undo
from sscmatch.web.errors import flash_beside
from sscmatch.web.pageform import PageForm
from sscmatch.web.registry import ActionForm, ReturnForm, _db, _need_page, bp
from sscmatch.web.translate import gettext as _
from sscmatch.workflow import registry as reg


def _need_step(need_id: str, step: str) -> Any:
    db = _db()
    form: PageForm = ReturnForm() if step == "return" else ActionForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form expired; reload the page and try again."))
    version = form.version.data or None
    try:
        if step == "submit":
            reg.submit_need(db, current_user, need_id, version)
            message = _("Submitted for endorsement. The secretariat will review it.")
        elif step == "endorse":
            need = reg.endorse_need(db, current_user, need_id, version)
            message = _("Endorsed: the need is open and will be matched.")
        elif step == "withdraw":
            reg.withdraw_endorsement(db, current_user, need_id, version)
            message = _("The endorsement is withdrawn: the need waits for endorsement again.")
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
    if step == "endorse":
        offer_undo(
            message,
            _("Undo (withdraw the endorsement)"),
            url_for("registry.need_withdraw_endorsement", need_id=need_id),
            {"version": need.version},
        )
    else:
        flash(message, "success")
    return redirect(url_for("registry.need", need_id=need_id))


@bp.post("/needs/<need_id>/submit")
@access("focal_point", "secretariat", "admin")
def need_submit(need_id: str) -> Any:
    return _need_step(need_id, "submit")


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
