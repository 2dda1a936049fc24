"""The length limit of a text field of the pages, said in the house's words.

WTForms' ``Length`` refused a text over its limit with "Le champ ne peut pas contenir plus de
2000 caractères.": no count of what was typed, and the limit written as code writes it. The
study tours' and the commitments' own checks say "Trop long (2 450 caractères ; au plus 2 000).";
:class:`TextLength` says that too, numbers written the reader's way, and still gives the field
its ``maxlength`` (the browser stops typing there; line breaks are counted once on both sides:
:func:`sscmatch.web.pageform.as_counted`).
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
        typed = len(field.data or "")
        if typed > self.max:
            raise ValidationError(
                _(
                    "Too long (%(n)s characters; at most %(limit)s).",
                    n=number(typed, 0),
                    limit=number(self.max, 0),
                )
            )
