"""The admin pages (blueprint `admin`): users and roles, password resets, unlocking, the audit log;
the bundle import pages (:mod:`sscmatch.web.imports`) share the blueprint.

Only the ``admin`` role opens them. The rules (who may be demoted, what a focal point needs, stale
edits) live in :mod:`sscmatch.workflow.admin`; the views validate input, call one use case, commit
and redirect, or re-render the form with a message per field.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from sscmatch.dates import window
from sscmatch.db import StaleVersion
from sscmatch.models import User
from sscmatch.schemas import CONSTITUENCIES, MAX_PAGE, whole_number
from sscmatch.vocab import load_vocabulary
from sscmatch.web import admin_status, stale_edit
from sscmatch.web.access import access
from sscmatch.web.datefields import TypedDateField
from sscmatch.web.db import get_session
from sscmatch.web.errors import error_text
from sscmatch.web.i18n import language_choices
from sscmatch.web.pageform import PageForm, PlainForm
from sscmatch.web.sent_once import sent_once
from sscmatch.web.templating import ENTITY_LABELS, ROLE_LABELS, action_label, lang, name_order
from sscmatch.web.textlimit import TextLength
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import admin as uc
from sscmatch.workflow.users import (
    BROWSER_LANGUAGE,
    FOCAL_CONSTITUENCIES,
    MAX_EMAIL,
    MAX_NAME,
    MIN_PASSWORD_LENGTH,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

CONSTITUENCY_LABELS: dict[str, Any] = {
    "government": _l("Government"),
    "employers": _l("Employers"),
    "workers": _l("Workers"),
    "un_agency": _l("UN agency"),
    "cooperation_agency": _l("Cooperation agency"),
    "ngo": _l("NGO"),
    "academia": _l("Academia"),
    "other": _l("Other"),
}

# Translated wording for the refusals of the use cases (their own message is the fallback).
MESSAGES: dict[str, Any] = {
    "duplicate_email": _l("A user with this e-mail already exists."),
    "focal_needs_country": _l("A focal point needs a country."),
    "focal_needs_constituency": _l(
        "A focal point needs a constituency: government, employers or workers."
    ),
    "short_password": _l(
        "The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH
    ),
    "self_demote": _l("You cannot remove your own admin role; ask another admin to do it."),
    "self_deactivate": _l("You cannot deactivate your own account; ask another admin to do it."),
    "bad_version": _l("The form is incomplete; reload the page and make your change again."),
    "not_locked": _l("This account is not locked."),
    "bad_page": _l("The page number must be 1 or more."),
    "page_too_far": _l("There is no such page; go back to the first page."),
    "no_such_user": _l("There is no user with this e-mail."),
    "no_such_user_number": _l("There is no user with this number."),
    "bad_range": _l("The start date is after the end date."),
    "bad_country": _l("Unknown country."),
}


def _message(exc: uc.AdminError) -> str:
    text = MESSAGES.get(exc.code)
    return str(text) if text is not None else error_text(exc)


def _country_choices(blank: Any) -> list[tuple[str, str]]:
    countries = load_vocabulary().countries
    named = sorted(
        ((c.name(lang()), code) for code, c in countries.items()), key=lambda p: name_order(p[0])
    )
    return [("", str(blank))] + [(code, f"{name} ({code})") for name, code in named]


def _role_choices(blank: Any = None) -> list[tuple[str, str]]:
    choices = [(role, str(label)) for role, label in ROLE_LABELS.items()]
    return ([("", str(blank))] if blank is not None else []) + choices


def _constituency_choices() -> list[tuple[str, str]]:
    return [("", _("(none)"))] + [(c, str(CONSTITUENCY_LABELS[c])) for c in CONSTITUENCIES]


def _language_choices() -> list[tuple[str, Any]]:
    return language_choices()


def _attach(form: Any, exc: uc.AdminError) -> None:
    """Show a use case's refusal next to the field it concerns (or above the form)."""
    target = getattr(form, exc.field, None) if exc.field else None
    if target is not None:
        target.errors = [*target.errors, _message(exc)]
    else:
        flash(_message(exc), "error")


# ----- forms -------------------------------------------------------------------------------------

_EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address."))
_PASSWORD = Length(
    min=MIN_PASSWORD_LENGTH,
    message=_l("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
)


class ProfileForm(PageForm):
    name = StringField(_l("Name"), validators=[Optional(), TextLength(max=MAX_NAME)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[Optional()])
    constituency = SelectField(_l("Constituency"), validators=[Optional()])
    language = SelectField(_l("Language"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()
        self.country.choices = _country_choices(_("(none)"))
        self.constituency.choices = _constituency_choices()
        self.language.choices = _language_choices()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        if self.role.data == "focal_point":
            if not self.country.data:
                self.country.errors = [*self.country.errors, str(MESSAGES["focal_needs_country"])]
                ok = False
            if self.constituency.data not in FOCAL_CONSTITUENCIES:
                message = str(MESSAGES["focal_needs_constituency"])
                self.constituency.errors = [*self.constituency.errors, message]
                ok = False
        return ok


class NewUserForm(ProfileForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), TextLength(max=MAX_EMAIL), _EMAIL])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), _PASSWORD])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class EditUserForm(ProfileForm):
    active = BooleanField(_l("Active (may sign in)"))
    version = HiddenField()


class PasswordForm(PageForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), _PASSWORD])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ActionForm(PageForm):
    """A button that changes something: only the CSRF token."""


class UserFilterForm(PlainForm):
    role = SelectField(_l("Role"), validators=[Optional()])
    country = SelectField(_l("Country"), validators=[Optional()])
    active = SelectField(_l("Status"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices(_("any"))
        self.country.choices = _country_choices(_("any"))
        self.active.choices = [("", _("any")), ("yes", _("active")), ("no", _("inactive"))]


class AuditFilterForm(PlainForm):
    entity = SelectField(_l("Record type"), validators=[Optional()])
    entity_id = StringField(_l("Record id"), validators=[Optional(), Length(max=80)])
    action = SelectField(_l("Action"), validators=[Optional()])
    user = StringField(_l("User (e-mail)"), validators=[Optional(), Length(max=254)])
    date_from = TypedDateField(_l("From"), validators=[Optional()])
    date_to = TypedDateField(_l("To"), validators=[Optional()])


def _page_number() -> tuple[int, str | None]:
    number = whole_number(request.args.get("page", "1"), 1, MAX_PAGE)
    if number is not None:
        return number, None
    return 1, _("The page number must be a whole number, 1 or more.")


def _page_size() -> int:
    return int(current_app.config.get("PAGE_SIZE", 25))


def _db() -> Any:
    return get_session()


# ----- users -------------------------------------------------------------------------------------


def users_listing(number: int, size: int) -> tuple[UserFilterForm, Any, int]:
    """The users list's form, its page of ``size`` users (None when the filters are refused,
    their messages on the form) and the answer's status; the page and its export share it."""
    form = UserFilterForm(request.args)
    if not form.validate():
        return form, None, 400
    active = {"yes": True, "no": False}.get(form.active.data or "")
    try:
        page = uc.list_users(
            _db(),
            role=form.role.data or None,
            country=form.country.data or None,
            active=active,
            page=number,
            size=size,
        )
    except uc.AdminError as exc:
        _attach(form, exc)
        return form, None, 400
    return form, page, 200


@bp.get("/users")
@access("admin")
def users() -> Any:
    number, page_error = _page_number()
    form, page, status = users_listing(number, _page_size())
    if page_error:
        flash(page_error, "error")
        page, status = None, 400
    return render_template(
        "admin/users.html",
        form=form,
        page=page,
        locks=uc.sign_in_locks(_db(), page.items) if page else {},
        constituency_label=lambda c: CONSTITUENCY_LABELS.get(c, c or ""),
    ), status


@bp.route("/users/new", methods=["GET", "POST"])
@access("admin")
@sent_once
def new_user() -> Any:
    form = NewUserForm()
    if request.method == "GET":
        form.language.data = BROWSER_LANGUAGE  # until its holder chooses: each browser's
    if form.validate_on_submit():
        db = _db()
        try:
            user = uc.add_user(
                db,
                current_user.id,
                email=form.email.data or "",
                password=form.password.data or "",
                role=form.role.data or "",
                name=form.name.data or "",
                country=form.country.data or None,
                constituency=form.constituency.data or None,
                language=form.language.data or BROWSER_LANGUAGE,
            )
        except uc.AdminError as exc:
            db.rollback()
            _attach(form, exc)
        else:
            db.commit()
            flash(_("User %(email)s created.", email=user.email), "info")
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/user_new.html", form=form, min_password=MIN_PASSWORD_LENGTH
    ), status


def _user_or_404(user_id: int) -> Any:
    try:
        return uc.get_user(_db(), user_id)
    except uc.AdminError as exc:
        abort(404, description=_message(exc))


def _render_user(
    user: Any, form: Any, password_form: Any, status: int = 200, stale: Any = None
) -> Any:
    return render_template(
        "admin/user_edit.html",
        user=user,
        form=form,
        stale=stale,
        password_form=password_form,
        action_form=ActionForm(),
        lock=uc.sign_in_locks(_db(), [user]).get(user.email),
        min_password=MIN_PASSWORD_LENGTH,
        constituency_label=lambda c: CONSTITUENCY_LABELS.get(c, c or ""),
    ), status


def _edit_form_for(user: Any) -> EditUserForm:
    """The form as the user's page shows ``user``."""
    form = EditUserForm(
        formdata=None,
        name=user.name,
        role=user.role,
        country=user.country or "",
        constituency=user.constituency or "",
        language=user.language,
        active=user.active,
        version=str(user.version),
    )
    return form


stale_edit.register(EditUserForm, entity="user", model=User, shown_as=_edit_form_for)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access("admin")
def edit_user(user_id: int) -> Any:
    db = _db()
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _render_user(user, _edit_form_for(user), PasswordForm(formdata=None))
    form = EditUserForm()
    if form.validate_on_submit():
        # a deactivation, or a change of role, country or constituency: confirmed first
        asked = admin_status.confirm_first(db, user, form)
        if asked is not None:
            return asked
        was_active, had = user.active, admin_status.rights(user)
        try:
            admin_status.save_profile(db, user_id, form, active=bool(form.active.data))
        except StaleVersion as exc:
            db.rollback()
            # the typed values stay, beside what the other admin changed (sscmatch.web.stale_edit)
            stale = stale_edit.answer(db, form, user_id, exc)
            fresh = _user_or_404(user_id)
            return _render_user(fresh, form, PasswordForm(formdata=None), 409, stale=stale)
        except uc.AdminError as exc:
            db.rollback()
            _attach(form, exc)
        else:
            db.commit()
            admin_status.said_after(user, was_active, had)  # a deactivation offers its undo
            return redirect(url_for("admin.edit_user", user_id=user_id))
    return _render_user(user, form, PasswordForm(formdata=None), 400)


@bp.post("/users/<int:user_id>/reactivate")
@access("admin")
def reactivate_user(user_id: int) -> Any:
    """The undo of a deactivation (:mod:`sscmatch.web.admin_status`)."""
    return admin_status.reactivate_user(user_id)


@bp.post("/users/<int:user_id>/password")
@access("admin")
@sent_once
def reset_password(user_id: int) -> Any:
    db = _db()
    user = _user_or_404(user_id)
    password_form = PasswordForm()
    if password_form.validate_on_submit():
        try:
            uc.reset_password(db, current_user.id, user_id, password_form.password.data or "")
        except uc.AdminError as exc:
            db.rollback()
            _attach(password_form, exc)
        else:
            db.commit()
            flash(_("New password set for %(email)s.", email=user.email), "info")
            return redirect(url_for("admin.edit_user", user_id=user_id))
    return _render_user(user, _edit_form_for(user), password_form, 400)


@bp.post("/users/<int:user_id>/unlock")
@access("admin")
@sent_once
def unlock_user(user_id: int) -> Any:
    db = _db()
    user = _user_or_404(user_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            uc.unlock(db, current_user.id, user_id)
        except uc.AdminError as exc:
            db.rollback()
            flash(_message(exc), "error")
            return _render_user(user, _edit_form_for(user), PasswordForm(formdata=None), 400)
        db.commit()
        flash(_("%(email)s can sign in again.", email=user.email), "info")
    return redirect(url_for("admin.edit_user", user_id=user_id))


# ----- audit log ---------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_listing(number: int, size: int) -> tuple[AuditFilterForm, Any, int]:
    """The audit log's form, its page of ``size`` events (None when the filters are refused,
    their messages on the form) and the answer's status; the page and its export share it."""
    db = _db()
    form = AuditFilterForm(request.args)
    entities, actions = uc.event_choices(db)
    form.entity.choices = [("", _("any")), *((e, str(ENTITY_LABELS.get(e, e))) for e in entities)]
    form.action.choices = [("", _("any")), *((a, action_label(a)) for a in actions)]
    # A value not (yet) in the log is still a valid filter: it simply finds nothing.
    for field, known in ((form.entity, entities), (form.action, actions)):
        value = request.args.get(field.name, "")
        if value and value not in known:
            field.choices.append((value, value))
    if not form.validate():
        return form, None, 400
    # a month or a year typed is a window: from its first day to its last
    date_from, date_to = window(form.date_from.period, form.date_to.period)
    filters = uc.AuditFilter(
        entity=form.entity.data or None,
        entity_id=form.entity_id.data or None,
        action=form.action.data or None,
        user=form.user.data or None,
        date_from=date_from,
        date_to=date_to,
    )
    try:
        page = uc.list_events(db, filters, page=number, size=size)
    except uc.AdminError as exc:
        _attach(form, exc)
        return form, None, 400
    return form, page, 200


def form_problems(form: Any) -> str:
    """A refused filter form's messages on one line, each after its field's label."""
    return "; ".join(
        f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )


@bp.get("/audit")
@access("admin")
def audit() -> Any:
    number, page_error = _page_number()
    form, page, status = audit_listing(number, _page_size())
    if page_error:
        flash(page_error, "error")
        page, status = None, 400
    rows = []
    if page is not None:
        for event, email in page.items:
            rows.append((event, email, uc.changed_fields(event.before, event.after)))
    return render_template("admin/audit.html", form=form, page=page, rows=rows), status


@bp.get("/audit/<int:event_id>")
@access("admin")
def audit_event(event_id: int) -> Any:
    try:
        event, email = uc.get_event(_db(), event_id)
    except uc.AdminError as exc:
        abort(404, description=_message(exc))
    changes = [
        (c.field, _shown(c.before), _shown(c.after), c.changed)
        for c in uc.compare(event.before, event.after)
    ]
    record_url = None
    user_number = whole_number(event.entity_id, 1) if event.entity == "user" else None
    if user_number is not None:
        record_url = url_for("admin.edit_user", user_id=user_number)
    return render_template(
        "admin/audit_event.html",
        event=event,
        email=email,
        changes=changes,
        record_url=record_url,
        changed_count=sum(1 for row in changes if row[3]),
    )
