"""The base of every Flask-WTF form of the pages.

Flask-WTF reads a JSON body as a form's fields (``ImmutableMultiDict(request.get_json())``),
which fails with a server error on any JSON that is not an object or a list of pairs (``[[1]]``,
``5``, ``"x"``; found by ``scripts/fuzz`` at the sign-in form). A page's form is filled by an
HTML form, which never sends JSON, so these forms read the submitted form fields and files only:
any other body is an empty form, refused by the form's own checks with its usual messages.

A NUL character (``\\x00``) cannot be stored (PostgreSQL refuses it in text). Typed in a page
form's field (pasted from elsewhere), it is taken out of the submitted values before the view
reads them (:func:`hold_nul`, from the app's NUL check) and the form refuses itself with the
reason beside that field (:meth:`PageForm.validate`): the page is drawn again as for any refused
form, the rest of the typed text kept. Nothing of such a request is written: its database
session refuses to flush (a view that would write regardless answers 400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, g, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from flask_wtf.i18n import translations as wtforms_translations
from sqlalchemy import event
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict
from wtforms import Form
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from sscmatch.web.db import get_session
from sscmatch.web.translate import lazy_gettext as _l

NUL = "\x00"
NUL_HELD = _l(
    "This text held a character that cannot be stored (an invisible NUL character); it has "
    "been taken out: check the text and send it again."
)
"""Said beside a field that held a NUL (its text is shown without it)."""
NUL_REFUSED = _l("Text may not contain NUL characters; remove them and send again.")
"""Said when a request with a NUL in a form field would write (no page form took it)."""


def hold_nul(names: Iterable[str]) -> None:
    """The request's form fields ``names`` held a NUL: the request's form is read without any
    (the page drawn again shows the rest of the text), each page form refuses itself with
    :data:`NUL_HELD` beside the field, and nothing is written."""
    g.nul_fields = frozenset(names)
    cleaned = ImmutableMultiDict(
        [(k, v.replace(NUL, "")) for k, v in request.form.items(multi=True)]
    )
    request.__dict__["form"] = cleaned  # werkzeug's cached property, read from here on
    request.__dict__.pop("values", None)
    event.listen(get_session(), "before_flush", _write_nothing)


def _write_nothing(session: Any, _context: Any, _instances: Any) -> None:
    """before_flush of a request that held a NUL: a view about to write answers 400, its
    changes dropped (the error page's own reads flush nothing then)."""
    if g.get("previewing"):  # confirm.preview: in a savepoint it always rolls back
        return
    if session.new or session.dirty or session.deleted:
        session.expunge_all()
        abort(400, description=str(NUL_REFUSED))


def _refuse_held(fields: Iterable[Any], held: frozenset[str]) -> bool:
    """Put :data:`NUL_HELD` beside each field of ``fields`` named in ``held``, inside lists of
    fields and forms within the form (their errors, which WTForms gathers as it validates,
    gathered again); whether any was."""
    found = False
    for field in fields:
        if hasattr(field, "entries"):  # a FieldList: its rows' errors, gathered again
            if _refuse_held(field.entries, held):
                found = True
                field.errors = [entry.errors for entry in field.entries]
        elif hasattr(field, "form") and hasattr(field.form, "_fields"):  # a FormField
            if _refuse_held(field.form, held):
                found = True
                field.form._errors = None
        elif field.name in held:
            found = True
            said = str(NUL_HELD)
            if getattr(field, "process_errors", None):  # a date field shows these first
                field.process_errors = [*field.process_errors, said]
            field.errors = [*field.errors, said]
    return found


def required_said_by_aria(field: Any, render_kw: dict[str, Any]) -> dict[str, Any]:
    """``render_kw`` for ``field``, with one rule of HTML kept: a required ``<select>`` (not
    ``multiple``) whose first option is not a blank placeholder may not carry ``required``, since
    it always has a value (the Nu Html Checker refused the admin's role and the calibration's
    window). Such a select says it is required with ``aria-required`` instead, for screen
    readers; our forms are ``novalidate`` anyway, and the server says what is missing."""
    widget = getattr(field, "widget", None)
    if not (isinstance(widget, Select) and not widget.multiple and field.flags.required):
        return render_kw
    if "required" in render_kw or _first_value(getattr(field, "choices", None)) in ("", None):
        return render_kw
    return {**render_kw, "required": False, "aria-required": "true"}


def _first_value(choices: Any) -> Any:
    """The value of a select's first option (None: no choices, or groups)."""
    if not choices or not isinstance(choices, list | tuple):
        return None
    first = choices[0]
    if isinstance(first, SelectChoice):
        return first.value
    return first[0] if isinstance(first, tuple | list) else first


class FormsMeta:
    """What every form of the pages renders alike (a mixin of the forms' ``Meta``)."""

    def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
        return super().render_field(field, required_said_by_aria(field, render_kw))  # type: ignore[misc]


class PageForm(FlaskForm):  # type: ignore[misc]
    class Meta(FormsMeta, FlaskForm.Meta):  # type: ignore[misc]
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is not _Auto:
                return formdata
            if not _is_submitted():
                return None
            if request.files:
                return CombinedMultiDict((request.files, request.form))
            return request.form or ImmutableMultiDict()

    def validate(self, extra_validators: Any = None) -> bool:
        """The form's checks, and a field that held a NUL (:func:`hold_nul`) refused."""
        valid: bool = super().validate(extra_validators)
        held = g.get("nul_fields")
        if not held:
            return valid
        if _refuse_held(self, held):
            self._errors = None  # form.errors gathers the fields' again
            valid = False
        return valid


class PlainForm(Form):  # type: ignore[misc]
    """The base of a form that is not posted on its own: a list's filters read from the address,
    a row of a tour's agenda or delegation (a ``FormField`` builds its rows with their own
    meta, not the page form's). WTForms' own messages ("Not a valid choice.") come in the
    request's language as they do in a :class:`PageForm` (Flask-WTF's catalogue lookup); a plain
    ``wtforms.Form`` has none and said them in English on every page
    (``tests/web/test_form_messages_translated.py`` walks every form class)."""

    class Meta(FormsMeta):
        def get_translations(self, form: Any) -> Any:
            return wtforms_translations
