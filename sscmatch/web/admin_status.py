"""The user page's edits that end the account's sessions, confirmed first: a deactivation (and
its undo, the reactivation: routes on the ``admin`` blueprint) and a change of role, country or
constituency.

Unticking *Active* on a user's page deactivates the account. The first POST that would do so
makes the change in a savepoint that is rolled back (so a refusal, such as deactivating oneself
or a stale version, is said on the form as before) and answers with a page that says what it does
(:mod:`sscmatch.web.confirm`): the person can no longer sign in, their open sessions and API token
stop at once (``workflow.admin.update_user`` ends them), notices and reminder digests are no
longer written to them, and their records stay. The confirming POST saves the form; the page it
leads to offers *Reactivate*, the undo (and the user's page offers it as long as the account is
inactive): the person signs in again with their password; the API token, ended, is made anew.

A change of role, country or constituency (``workflow.admin.RIGHTS_FIELDS``: what the person may
see and change follows them) of an active account ends its sessions and API token too, so it is
confirmed the same way (:func:`confirm_rights_change`): the first POST says which values change
and that the person is signed out everywhere and their API token revoked, writing nothing; the
confirming POST carries the form (its ``version`` too: a change in between answers 409 with the
stale-edit page) and saves it; the page it leads to says the sessions ended. An edit of harmless
fields only (name, language) is saved at once, as is any edit of an inactive account (whose
sessions and token its deactivation already ended). Setting the old values back undoes the
change of rights, not the sign-out.

A refused step (:func:`refused`) goes back to the user's page with the reason said there in the
reader's language, nothing written: a reactivation whose form was refused (a NUL sent in it), whose
version is missing or no whole number (an old or forged form), of an account active already, or
made stale meanwhile (``tests/web/test_admin_bad_input.py`` walks every admin POST route of the
user pages with missing, malformed, stale and hostile input).

The JSON API has no route that changes an account (nothing under ``sscmatch/web/api/`` calls
``update_user``), so there is nothing to confirm or report there. One added later asks no
confirmation (a client states what it wants in its body) but its answer must say that the
sessions and the API token were ended, as this page's message does.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from wtforms import HiddenField

from sscmatch.db import StaleVersion
from sscmatch.schemas import whole_number
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


def confirm_first(db: Any, user: Any, form: Any) -> Any:
    """The confirmation an edit of ``user`` needs before it is saved, or None: a deactivation's,
    else a change of rights' (each ends the account's sessions and API token)."""
    asked = confirm_deactivation(db, user, form)
    return asked if asked is not None else confirm_rights_change(db, user, form)


def _fields(form: Any) -> dict[str, Any]:
    """The profile form as the confirmation page posts it back (``version`` included)."""
    names = ("name", "role", "country", "constituency", "language", "version")
    fields = {name: getattr(form, name).data or "" for name in names}
    if form.active.data:
        fields["active"] = "y"
    return fields


def _shown(form: Any, name: str, value: Any) -> str:
    """A field's value as the form's menu names it, in the reader's language."""
    return str(dict(getattr(form, name).choices).get(value or "", value or ""))


def confirm_rights_change(db: Any, user: Any, form: Any) -> Any:
    """The confirmation of an edit that changes the role, country or constituency of an active
    ``user`` (their sessions and API token end), or None: it changes none, the account is
    inactive, this is its confirmation, or it is refused (the form then says why)."""
    if not user.active or request.form.get("confirmed") == "y":
        return None
    email, user_id, before = user.email, user.id, _profile(user)
    try:
        after = preview(
            db, lambda: save_profile(db, user_id, form, active=bool(form.active.data)), _profile
        )
    except (uc.AdminError, StaleVersion):
        return None
    moved = [name for name in uc.RIGHTS_FIELDS if before[name] != after[name]]
    if not moved:
        return None
    lines = [
        _(
            "%(field)s: %(before)s → %(after)s",
            field=getattr(form, name).label.text,
            before=_shown(form, name, before[name]),
            after=_shown(form, name, after[name]),
        )
        for name in moved
    ]
    lines.append(
        _(
            "%(email)s will be signed out everywhere and their API token revoked: they must "
            "sign in again, and make a new API token on their Account page.",
            email=email,
        )
    )
    lines.append(_("Their password, records and history stay as they are."))
    if any(before[name] != after[name] for name in before if name not in uc.RIGHTS_FIELDS):
        lines.append(_("The other changes of the form are saved with it."))
    back = url_for("admin.edit_user", user_id=user_id)
    return confirm_page(
        title=_("Change the role, country or constituency of %(email)s?", email=email),
        lines=lines,
        action=back,
        back=back,
        fields=_fields(form),
        undo=_(
            "To undo it, set the previous values again on this user's page; the ended sessions "
            "and API token stay ended."
        ),
    )


def rights(user: Any) -> tuple[Any, ...]:
    """The values of ``user`` whose change ends their sessions and API token."""
    return tuple(getattr(user, name) for name in uc.RIGHTS_FIELDS)


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


def said_after(user: Any, was_active: bool, had: tuple[Any, ...]) -> None:
    """What the user's page says after a saved edit: a deactivation with its undo; a change of
    rights (``had``: :func:`rights` before the edit), that the sessions ended."""
    if was_active and not user.active:
        offer_undo(
            _("%(email)s is deactivated: they can no longer sign in.", email=user.email),
            _("Reactivate"),
            url_for("admin.reactivate_user", user_id=user.id),
            {"version": user.version},
        )
    elif was_active and rights(user) != had:
        flash(
            _(
                "Changes saved. %(email)s is signed out everywhere and their API token is "
                "revoked: they must sign in again.",
                email=user.email,
            ),
            "info",
        )
    else:
        flash(_("Changes saved."), "info")


def refused(back: str, message: str) -> Any:
    """An admin step's refusal: the page it came from (``back``), ``message`` said there in the
    reader's language, nothing written (303). Never an error page: the person sees the record
    as it is now and may try again from it."""
    flash(message, "error")
    return redirect(back, 303)


def _refusal(form: VersionForm, user: Any) -> str | None:
    """Why a reactivation as sent is refused before it is tried, or None: the form refused
    (a NUL in it, its security key), its version missing or no whole number (no page sends
    that: an old or forged form), the account active already."""
    if not form.validate_on_submit() or whole_number(str(form.version.data or ""), 1) is None:
        return _("The form is incomplete; reload the page and make your change again.")
    if user.active:
        return _("%(email)s is active already: nothing was changed.", email=user.email)
    return None


def reactivate_user(user_id: int) -> Any:
    """The undo of a deactivation: the account may sign in again (the sessions and the API
    token its deactivation ended stay ended)."""
    db = get_session()
    try:
        user = uc.get_user(db, user_id)
    except uc.AdminError as exc:
        abort(404, description=error_text(exc))
    form = VersionForm()
    back = url_for("admin.edit_user", user_id=user_id)
    refusal = _refusal(form, user)
    if refusal is not None:
        return refused(back, refusal)
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
        return refused(back, conflict_message(exc))
    except uc.AdminError as exc:
        db.rollback()
        return refused(back, error_text(exc))
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
