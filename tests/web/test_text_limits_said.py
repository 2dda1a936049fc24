"""A text over its limit is refused in the house's words: how long it is, and the limit, both
written the reader's way.

WTForms' own ``Length`` said "Le champ ne peut pas contenir plus de 2000 caractères." (the count
of what was typed missing, the limit written as code writes it, not "2 000"), where the study
tours' and the commitments' own checks say "Trop long (2 001 caractères ; au plus 2 000)." The
text fields of the pages now check with :class:`sscmatch.web.textlimit.TextLength`.

The class: every text box with a limit of every page form, sent one character over it, in
French and Spanish.
"""

from __future__ import annotations

import pytest
from flask import Flask

from sscmatch.web.pageform import PageForm
from sscmatch.web.templating import number
from tests.web.test_form_messages_translated import _form_classes
from tests.web.test_line_breaks_counted_once import _limited

SAID = {
    "fr": "Trop long ({n} caractères\u00a0; au plus {limit}).",
    "es": "Demasiado largo ({n} caracteres; como máximo {limit}).",
}


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_text_over_its_limit_says_how_long_and_the_limit(app: Flask, lang: str) -> None:
    walked = []
    for cls in _form_classes():
        if not issubclass(cls, PageForm):
            continue
        for name, limit in _limited(cls):
            headers = {"Accept-Language": lang}
            data = {name: "é" * (limit + 1)}
            with app.test_request_context(method="POST", data=data, headers=headers):
                form = cls()
                form.validate()
                said = " ".join(str(e) for e in form.errors.get(name, ()))
                n, most = number(limit + 1, 0), number(limit, 0)  # "2 001" in French
            assert SAID[lang].format(n=n, limit=most) in said, (cls.__qualname__, name, said)
            walked.append(f"{cls.__qualname__}.{name}")
    assert len(walked) >= 7, walked
