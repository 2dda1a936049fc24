"""The length limit of a text field of the pages, said in the house's words.

WTForms' ``Length`` refused a text over its limit with "Le champ ne peut pas contenir plus de
2000 caractères.": no count of what was typed, and the limit written as code writes it. The
study tours' and the commitments' own checks say "Trop long (2 450 caractères ; au plus 2 000).";
:class:`TextLength` says that too, numbers written the reader's way, and still gives the field
its ``maxlength``.

It counts a line break as one character, as the browser does: a text box's ``maxlength`` lets in
as many characters as it says, line breaks counted once, and the browser sends each as two (CR
LF). Counted as sent, a 2,000-character reason with twenty line breaks, which the box had let in
and refused to grow, was refused as too long. The text is then read with LF line breaks, as it
was counted, so that the use case's own limit (``MAX_TEXT``, a column's length) counts it the
same.

A field of a record edited again (a need's description, a tour's objective) is sent back with CR
LF line breaks whatever was stored: the LF of a record imported or written through the API, the
CR LF of one typed on a page before the limits counted line breaks once. Read with LF, a record
typed on a page and saved again unchanged would look changed (a need sent back to endorsement,
the countries' agreement to a tour withdrawn). Its page says what the field holds
(:func:`editing`): a text that differs from it only in its line breaks is handed on as stored,
any other with LF line breaks, as counted.
"""

from __future__ import annotations

from typing import Any

from wtforms.validators import ValidationError

from sscmatch.web.templating import number
from sscmatch.web.translate import gettext as _

STORED = "stored_text"
"""The attribute of a field naming the text it edits (:func:`editing`)."""


def _counted(text: str) -> str:
    return text.replace("\r\n", "\n")


def editing(field: Any, stored: str | None) -> None:
    """``field`` edits the stored text ``stored`` (as its page showed it): sent back unchanged
    but for its line breaks, it is handed on as stored (its :class:`TextLength` checks)."""
    setattr(field, STORED, stored)


class TextLength:
    """At most ``max`` characters (a field left empty is for ``Optional`` or ``InputRequired``
    to judge)."""

    def __init__(self, max: int) -> None:
        self.max = max
        self.field_flags = {"maxlength": max}

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str) and "\r" in field.data:
            field.data = field.data.replace("\r\n", "\n")  # as the browser counted it
        typed = len(field.data or "")
        stored = getattr(field, STORED, None)
        if stored is not None and field.data == _counted(stored):
            field.data = stored  # unchanged but for its line breaks: not a change
        if typed > self.max:
            raise ValidationError(
                _(
                    "Too long (%(n)s characters; at most %(limit)s).",
                    n=number(typed, 0),
                    limit=number(self.max, 0),
                )
            )
