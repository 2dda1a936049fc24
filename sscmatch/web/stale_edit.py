"""What a person sees when their edit meets a newer version (a stale edit): one answer for the
edit form of every versioned record (capacity, need, study tour, commitment, user).

The use case refuses the edit (:class:`sscmatch.db.StaleVersion`, 409) and writes nothing. The
view then calls :func:`answer` with the submitted form, and renders the same page with it (the
``stale_edit`` macro of ``templates/_stale_edit.html`` beside the form). What the person gets:

1. **Nothing typed is lost**: the form comes back with their values.
2. **What the other person changed**, field by field (the form's own label, so in the reader's
   language; their value beside yours). Which fields they changed is told by comparing the current
   record with the version the person started from, as the audit trail holds it
   (:func:`sscmatch.workflow.audit.snapshot_at`), all three read through the form itself
   (:attr:`EditForm.shown_as`: the form the edit page shows for a record), so what is compared is
   what the person saw. When the trail does not hold that version, who changed what cannot be
   told: every field where the current record and the form differ is listed instead.
3. **Merged where it is safe**, per field, three ways (started from / theirs / yours):

   - they changed it and you did not: **theirs is put into the form** (listed as taken);
   - you changed it and they did not, or both made the same change: yours stays, nothing to say;
   - both changed it differently: **yours stays in the form** and the field is listed as one
     where saving again replaces theirs.

   Nothing is saved by itself, even when the merge is clean: fields depend on each other (a
   tour's dates and its agenda's days, a need's dates, a status and its evidence) and the use
   case's checks ran on neither combination; the person sees the merged form and saves it.
4. **One choice**: "Save again to keep your values (this replaces theirs in the fields listed)",
   or "Discard yours and open the current version" (a link to the edit page as it is now). So
   that saving again does what the message says, the form's ``version`` is moved to the current
   one together with the merge: the fields where the form differs from the current record are
   exactly the ones you changed yourself and the ones listed. A second save is a conscious
   overwrite of the listed fields, never a silent one; if the record changes yet again, it is
   refused again with a new list.

Each edit form says once how its page shows a record (:func:`register`); the test walks every
registered form (``tests/web/test_stale_edits.py``) and finds every form class and template
posting a ``version`` so that a new edit form cannot be left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from sqlmodel import Session
from wtforms import BooleanField

from sscmatch.db import StaleVersion
from sscmatch.web.conflict import RECORD_LABELS, stale_by_you
from sscmatch.web.datefields import TypedDateField
from sscmatch.web.templating import period
from sscmatch.web.translate import gettext as _
from sscmatch.workflow.audit import snapshot_at

NOT_COMPARED = frozenset({"csrf_token", "version"})
EMPTY = "—"


@dataclass(frozen=True)
class EditForm:
    """How one edit form shows a record.

    ``shown_as(record)`` is the form the edit page shows for ``record`` (filled and ready to
    render, its choices set); ``read`` overrides how a field's value is read from a form, for a
    field whose raw data is not its value (a table of rows with blank ones for adding);
    ``skip``: fields that are not the record's (a note on the change, a button's choice)."""

    entity: str
    model: type[Any]
    shown_as: Callable[[Any], Any]
    read: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    skip: frozenset[str] = frozenset()


EDIT_FORMS: dict[type[Any], EditForm] = {}
"""Every edit form of a versioned record, by its form class."""


def register(
    form_class: type[Any],
    *,
    entity: str,
    model: type[Any],
    shown_as: Callable[[Any], Any],
    read: Mapping[str, Callable[[Any], Any]] | None = None,
    skip: Iterable[str] = (),
) -> EditForm:
    """Declare ``form_class`` the edit form of ``model`` (``entity`` as the audit names it)."""
    spec = EditForm(entity, model, shown_as, dict(read or {}), frozenset(skip))
    EDIT_FORMS[form_class] = spec
    return spec


@dataclass(frozen=True)
class Difference:
    """A field the other person changed: its label, their value and yours, as shown."""

    name: str
    label: str
    theirs: str
    yours: str


@dataclass(frozen=True)
class StaleEdit:
    """What the page says beside the form (``templates/_stale_edit.html``)."""

    headline: str
    replaced: list[Difference]
    """Fields where saving again puts your value in place of theirs."""
    taken: list[Difference]
    """Fields they changed and you had not: their value is now in the form."""
    known_start: bool
    """Whether the version you started from was found (else ``replaced`` lists every field where
    the current record and your form differ)."""
    discard_url: str
    by_you: bool = False
    """Every change since the version you started from was yours (the same form sent twice,
    another tab of yours): the page says so, not that someone else changed the record."""

    @property
    def title(self) -> str:
        if self.by_you:
            return _("Changed by you meanwhile")
        return _("Changed by someone else meanwhile")

    @property
    def choice(self) -> str:
        if self.by_you and not (self.replaced or self.taken):
            return _(
                "Your values are already saved (this form was sent twice); nothing more to do."
            )
        if self.by_you and self.replaced:
            return _(
                "Save again to keep this form's values (this replaces the ones you saved "
                "before, in the fields listed)."
            )
        if self.by_you:
            return _("Save again to store this form's changes together with those you saved.")
        if self.replaced:
            return _("Save again to keep your values (this replaces theirs in the fields listed).")
        if self.taken:
            return _("Save again to store your changes together with theirs.")
        return _("Nothing they changed is in this form; save again to store your changes.")


def answer(
    session: Session,
    form: Any,
    record_id: Any,
    exc: StaleVersion,
    *,
    leave_out: Iterable[str] = (),
) -> StaleEdit:
    """Merge ``form`` (the stale edit, refused and rolled back) with the record as it is now and
    say what happened; ``leave_out``: fields the page does not show this person. Moves the form's
    version to the current one (see the module's docstring)."""
    spec = EDIT_FORMS[type(form)]
    current = session.get(spec.model, record_id)
    if current is None:  # deleted meanwhile: nothing to merge with (the view's 404 path)
        raise exc
    session.refresh(current)
    started = _version(form.version.data, exc)
    before = snapshot_at(session, spec.entity, record_id, started) if started else None
    theirs = spec.shown_as(current)
    base = spec.shown_as(_as_record(spec.model, before)) if before is not None else None
    skip = NOT_COMPARED | spec.skip | set(leave_out)
    replaced: list[Difference] = []
    taken: list[Difference] = []
    for name, yours_field in list(form._fields.items()):
        if name in skip:
            continue
        yours, now = _value(spec, form, name), _value(spec, theirs, name)
        if yours == now:
            continue
        difference = Difference(
            name,
            str(yours_field.label.text),
            _shown((yours_field, theirs._fields[name]), _raw(spec, theirs, name)),
            _shown((yours_field, theirs._fields[name]), _raw(spec, form, name)),
        )
        if base is None:
            replaced.append(difference)
            continue
        was = _value(spec, base, name)
        if now == was:
            continue  # only you changed it
        if yours == was:  # only they did: theirs into the form
            _take(form, name, theirs._fields[name])
            taken.append(difference)
        else:
            replaced.append(difference)
    form.version.data = str(current.version)
    record = f"{RECORD_LABELS.get(spec.entity, spec.entity)} {record_id}"
    by_you = stale_by_you(exc)
    expected = started if started is not None else "?"
    if by_you:
        headline = _(
            "Not saved again: you changed %(record)s yourself meanwhile (this form sent twice, "
            "or another tab of yours; you started from version %(expected)s, it is now version "
            "%(current)s). Nothing you typed is lost: your values are in the form.",
            record=record,
            expected=expected,
            current=current.version,
        )
    else:
        headline = _(
            "Not saved: %(record)s was changed by someone else while you edited it (you "
            "started from version %(expected)s; it is now version %(current)s). Nothing you "
            "typed is lost: your values are in the form.",
            record=record,
            expected=expected,
            current=current.version,
        )
    discard = url_for(str(request.endpoint), **(request.view_args or {}))
    return StaleEdit(headline, replaced, taken, before is not None, discard, by_you)


def _version(text: Any, exc: StaleVersion) -> int | None:
    if exc.expected is not None:
        return int(exc.expected)
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def _as_record(model: type[Any], values: Mapping[str, Any]) -> Any:
    """A record not in any session, holding ``values`` (an audit snapshot) so that a form can
    show it; table models take their fields (and partial dates as text) without validation."""
    known = set(model.model_fields) | set(getattr(model, "__periods__", ()))
    return model(**{k: v for k, v in values.items() if k in known})


def _raw(spec: EditForm, form: Any, name: str) -> Any:
    read = spec.read.get(name)
    return read(form) if read is not None else form._fields[name].data


def _value(spec: EditForm, form: Any, name: str) -> Any:
    return _plain(_raw(spec, form, name))


def _plain(value: Any) -> Any:
    """A value as compared: text stripped, empty as "", lists of words in any order."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        items = [_plain(v) for v in value]
        if all(isinstance(i, str) for i in items):
            return tuple(sorted(items))
        return tuple(items)
    return str(value).strip()


def _take(form: Any, name: str, theirs: Any) -> None:
    """Put the field of theirs (a form of the same class, ready to render) in place of yours."""
    form._fields[name] = theirs
    setattr(form, name, theirs)


def _shown(fields: Iterable[Any], value: Any) -> str:
    """A field's value as the reader reads it, the way the page shows it: a choice by the label
    the form's select shows (in a table of rows, each row's choices by the row's own selects: an
    agenda session's kind), a date through the page's date format in the reader's language
    (:func:`sscmatch.web.templating.period`; in rows too), yes or no, rows one by one, an empty
    value as a dash. ``fields``: the field as the forms compared hold it (yours and theirs),
    so that a choice or a row only one of them holds is still named."""
    fields = list(fields)
    if isinstance(fields[0], BooleanField) or isinstance(value, bool):
        return _("yes") if value else _("no")
    reading = _reading(fields)
    if isinstance(value, list | tuple):
        parts = [_shown_part(v, reading, "") for v in value]
        return "; ".join(p for p in parts if p) or EMPTY
    return _shown_part(value, reading, "") or EMPTY


@dataclass
class _Reading:
    """How a field's values read: choice labels and date fields, by the name of the part ("" for
    the field itself, a row's field by its name)."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    dates: set[str] = field(default_factory=set)

    def add(self, name: str, form_field: Any) -> None:
        if isinstance(form_field, TypedDateField):
            self.dates.add(name)
        labels = _choice_labels(getattr(form_field, "choices", None))
        self.labels.setdefault(name, {}).update(labels)


def _reading(fields: Iterable[Any]) -> _Reading:
    reading = _Reading()
    for form_field in fields:
        reading.add("", form_field)
        for entry in getattr(form_field, "entries", None) or ():  # a table of rows
            for name, part in getattr(getattr(entry, "form", None), "_fields", {}).items():
                reading.add(name, part)
    return reading


def _shown_part(value: Any, reading: _Reading, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        parts = (_shown_part(v, reading, str(k)) for k, v in value.items())
        return " · ".join(p for p in parts if p)
    if isinstance(value, list | tuple):
        return "; ".join(p for p in (_shown_part(v, reading, name) for v in value) if p)
    text = str(value).strip()
    if name in reading.dates:
        return period(text)
    return reading.labels.get(name, {}).get(text, text)


def _choice_labels(choices: Any) -> dict[str, str]:
    if not choices:
        return {}
    if isinstance(choices, Mapping):  # groups of choices
        choices = [c for group in choices.values() for c in group]
    return {str(c[0]): str(c[1]) for c in choices if isinstance(c, list | tuple) and len(c) >= 2}
