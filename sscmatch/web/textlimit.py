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
was counted, so that the use case's own limit (``MAX_TEXT``) counts it the same: these fields
hold new text (a reason, a note, a comment), never a record's field edited again, where a line
break read differently from the stored one would look like a change.
"""

from __future__ import annotations

from typing import Any

from wtforms.validators import ValidationError

from sscmatch.web.templating import number
from sscmatch.web.translate import gettext as _


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
        if typed > self.max:
            raise ValidationError(
                _(
                    "Too long (%(n)s characters; at most %(limit)s).",
                    n=number(typed, 0),
                    limit=number(self.max, 0),
                )
            )
