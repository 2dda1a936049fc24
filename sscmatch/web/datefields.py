"""The one form field for a date a person types on a page.

Every date field of every page's form is a :class:`TypedDateField`: it reads what was typed the
reader's way (:func:`sscmatch.dates.parse_typed`: ``15/03/2019`` in es, pt and fr, ``March
2019``, the ISO text everywhere), hands the use case the ISO text it stores (``data``), refuses
anything else beside the field in the reader's language, quoting what was typed and showing how
to write it, and keeps what was typed in the field. Its hint (``description``) gives examples in
the reader's way; a stored date comes back to edit as the reader types it
(:func:`sscmatch.dates.typed_text`), or as ISO in an ``<input type="date">`` (a whole day
picked in the browser's calendar, which sends ISO). The API and imports keep ISO
(:meth:`sscmatch.dates.PartialDate.parse`): they are a data format, not a reader.
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from markupsafe import Markup
from wtforms import StringField

from sscmatch.dates import PartialDate, PartialDateError, parse_typed, typed_examples, typed_text
from sscmatch.web.translate import current_lang, gettext
from sscmatch.workflow.base import N_

DATE_EXAMPLES = N_("For example: %(examples)s")


def date_hint(partial: bool = True) -> str:
    """How the reader may type a date, in their language (``Por ejemplo: 15/03/2019, 03/2019 o
    2019``); ``partial`` False: a whole day."""
    return gettext(DATE_EXAMPLES, examples=typed_examples(current_lang(), partial))


class TypedDateField(StringField):  # type: ignore[misc]
    """A date typed the reader's way; ``data`` is its ISO text (``""`` when left empty).
    ``partial``: a year or a month is a date too (``2019``, ``03/2019``); else a whole day."""

    def __init__(self, label: Any = None, validators: Any = None, *, partial: bool = True,
                 **kwargs: Any) -> None:  # fmt: skip
        kwargs.setdefault("description", LazyString(date_hint, partial))
        super().__init__(label, validators, **kwargs)
        self.partial = partial
        self._iso_shown = False
        self._errors: Any = ()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0] or "")
        self.data = text if text.strip() else ""
        if not text.strip():
            return
        try:
            self.data = str(parse_typed(text, current_lang(), self.partial))
        except PartialDateError as exc:  # ``data`` stays the text: see ready_for_use_case
            raise ValueError(gettext(exc.message, **exc.params)) from None

    @property
    def errors(self) -> Any:
        return self._errors

    @errors.setter
    def errors(self, value: Any) -> None:
        """A date that could not be read keeps its own message alone: the use case's refusal of
        the same text (in its ISO words, :func:`ready_for_use_case`) is not added beside it."""
        self._errors = list(self.process_errors) if self.process_errors else value

    @property
    def unreadable(self) -> bool:
        """Whether what was typed is not a date (its message is in ``process_errors``), and so
        the rule on stored dates refuses it too: any use case given it as ``data`` refuses it."""
        if not self.process_errors:
            return False
        try:
            found = PartialDate.parse(str(self.data))
        except PartialDateError:
            return True
        return not self.partial and found.precision != "day"  # a day-only use case refuses it

    @property
    def period(self) -> PartialDate | None:
        """The date given, or None (empty or refused)."""
        if self.errors or self.process_errors:
            return None
        try:
            return PartialDate.coerce(self.data)
        except PartialDateError:
            return None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])  # what was typed comes back as it was typed
        try:
            value = PartialDate.coerce(self.data)
        except PartialDateError:
            return str(self.data)
        if self._iso_shown:
            return "" if value is None else str(value)
        return typed_text(value, current_lang())

    def __call__(self, **kwargs: Any) -> Markup:
        self._iso_shown = kwargs.get("type") == "date"
        try:
            rendered: Markup = super().__call__(**kwargs)
        finally:
            self._iso_shown = False
        return rendered


def ready_for_use_case(form: Any) -> bool:
    """``form.validate_on_submit()``, except that a date typed that cannot be read does not hold
    the form back from its use case, so that every problem shows beside its field at once (a
    missing note and a bad due date together). The use case is given the text as typed, which
    it refuses (:attr:`TypedDateField.unreadable`): nothing is written, and the field keeps the
    message in the reader's way rather than the use case's."""
    if form.validate_on_submit():
        return True
    if not form.is_submitted():
        return False
    return all(
        not field.errors or (isinstance(field, TypedDateField) and field.unreadable)
        for field in form
    )
