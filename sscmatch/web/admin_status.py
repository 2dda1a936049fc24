"""An account's deactivation, confirmed first, and its undo, the reactivation (routes on the
``admin`` blueprint).

Unticking *Active* on a user's page deactivates the account. The first POST that would do so
makes the change in a savepoint that is rolled back (so a refusal, such as deactivating oneself
or a stale version, is said on the form as before) and answers with a page that says what it does
(:mod:`sscmatch.web.confirm`): the person can no longer sign in, their open sessions and API token
stop at once (``workflow.admin.update_user`` ends them), notices and reminder digests are no
longer written to them, and their records stay. The confirming POST saves the form; the page it
leads to offers *Reactivate*, the undo (and the user's page offers it as long as the account is
inactive): the person signs in again with their password; the API token, ended, is made anew.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from wtforms import HiddenField

from sscmatch.db import StaleVersion
from sscmatch.web.confirm import confirm_page, offer_undo, preview
from sscmatch.web.conflict import conflict_message
from sscmatch.web.db import get_session
from sscmatch.web.errors import error_text
from sscmatch.web.pageform import PageForm
from sscmatch.web.translate import gettext as _
from sscmatch.workflow import admin as uc
from sscmatch.workflow.users import BROWSER_LANGUAGE


class VersionForm(PageForm):
    """A button that changes a record at the version its page showed."""

    version = HiddenField()


def save_profile(db: Any, user_id: int, form: Any, *, active: bool) -> Any:
    """Save the user page's profile form (``active`` as given): the edit and its dry run."""
    return uc.update_user(
        db,
        current_user.id,
        user_id,
        version=form.version.data,
        name=form.name.data or "",
        role=form.role.data or "",
        country=form.country.data or None,
        constituency=form.constituency.data or None,
        language=form.language.data or BROWSER_LANGUAGE,
        active=active,
    )


def deactivates(user: Any, form: Any) -> bool:
    """Whether saving ``form`` deactivates ``user`` (active now, the box unticked)."""
    return bool(user.active) and not form.active.data


def confirm_deactivation(db: Any, user: Any, form: Any) -> Any:
    """The confirmation of an edit that deactivates ``user``, or None: the edit deactivates
    nobody, this is its confirmation, or it is refused (the form then says why, as it would
    without a confirmation)."""
    if not deactivates(user, form) or request.form.get("confirmed") == "y":
        return None
    email, before = user.email, _profile(user)
    try:
        others = preview(db, lambda: save_profile(db, user.id, form, active=False), _profile) != {
            **before,
            "active": False,
        }
    except (uc.AdminError, StaleVersion):
        return None
    lines = [
        _(
            "%(email)s can no longer sign in: their password, their open sessions and their "
            "API token stop working at once.",
            email=email,
        ),
        _("They no longer receive notices nor the daily reminder digests."),
        _("Their records, decisions and history stay as they are."),
    ]
    if others:
        lines.append(_("The other changes of the form are saved with it."))
    return confirm_page(
        title=_("Deactivate the account of %(email)s?", email=email),
        lines=lines,
        action=url_for("admin.edit_user", user_id=user.id),
        back=url_for("admin.edit_user", user_id=user.id),
        fields={
            name: getattr(form, name).data or ""
            for name in ("name", "role", "country", "constituency", "language", "version")
        },
        danger=True,
        undo=_(
            "To undo it, reactivate the account on this user's page: they sign in again with "
            "their password; an API token must be made anew on their Account page."
        ),
    )


def _profile(user: Any) -> dict[str, Any]:
    fields = ("name", "role", "country", "constituency", "language", "active")
    return {name: getattr(user, name) for name in fields}


def said_after(user: Any, was_active: bool) -> None:
    """What the user's page says after a saved edit: a deactivation with its undo."""
    if was_active and not user.active:
        offer_undo(
            _("%(email)s is deactivated: they can no longer sign in.", email=user.email),
            _("Reactivate"),
            url_for("admin.reactivate_user", user_id=user.id),
            {"version": user.version},
        )
    else:
        flash(_("Changes saved."), "info")


def reactivate_user(user_id: int) -> Any:
    """The undo of a deactivation: the account may sign in again (the sessions and the API
    token its deactivation ended stay ended)."""
    db = get_session()
    try:
        user = uc.get_user(db, user_id)
    except uc.AdminError as exc:
        abort(404, description=error_text(exc))
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete; reload the page and try again."))
    back = url_for("admin.edit_user", user_id=user_id)
    try:
        uc.update_user(
            db,
            current_user.id,
            user_id,
            version=form.version.data,
            name=user.name or "",
            role=user.role,
            country=user.country,
            constituency=user.constituency,
            language=user.language,
            active=True,
        )
    except StaleVersion as exc:
        db.rollback()
        flash(conflict_message(exc), "error")
        return redirect(back, 303)
    except uc.AdminError as exc:
        db.rollback()
        flash(error_text(exc), "error")
        return redirect(back, 303)
    db.commit()
    flash(
        _(
            "%(email)s is active again: they can sign in with their password (an API token "
            "must be made anew).",
            email=user.email,
        ),
        "info",
    )
    return redirect(back)
