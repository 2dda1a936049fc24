"""A text the browser let through its ``maxlength`` is not refused as too long for its line breaks.

A browser counts a line break of a text box as one character (its ``maxlength`` stops typing and
pasting there), and sends it as two (CR LF). A reason of 2,000 characters with twenty line breaks
was refused on the proposal page, "The field cannot be longer than 2000 characters", its box
showing 2,000 and refusing any more: nothing the reader could do but guess. The forms of the
pages read line breaks as the browser counts them (:class:`sscmatch.web.pageform.PageForm`).

The class: every field of every page form with a length limit, sent at that limit as a browser
sends it, line breaks included.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from wtforms import TextAreaField
from wtforms.validators import Length

from sscmatch.web.pageform import PageForm
from sscmatch.web.textlimit import TextLength
from tests.web.test_form_messages_translated import _form_classes


def _limited(cls: type[Any]) -> list[tuple[str, int]]:
    """The text boxes of ``cls`` (by name) with a length limit, and the limit (a one-line field
    holds no line break)."""
    found = []
    for name, unbound in vars(cls).items():
        if not issubclass(getattr(unbound, "field_class", object), TextAreaField):
            continue
        validators = getattr(unbound, "kwargs", {}).get("validators") or ()
        for v in validators:
            if isinstance(v, Length | TextLength) and v.max and v.max > 0:
                found.append((name, v.max))
    return found


def _as_a_browser_sends(limit: int) -> str:
    """``limit`` characters as the browser counts them, a line break every 40: CR LF each."""
    line = "ñ" * 39 + "\n"
    text = (line * (limit // len(line) + 1))[:limit]
    return text.replace("\n", "\r\n")


def test_a_text_at_its_limit_with_line_breaks_is_not_too_long(app: Flask) -> None:
    walked = []
    for cls in _form_classes():
        if not issubclass(cls, PageForm):
            continue
        for name, limit in _limited(cls):
            sent = _as_a_browser_sends(limit)
            assert len(sent.replace("\r\n", "\n")) == limit and len(sent) > limit
            with app.test_request_context(method="POST", data={name: sent}):
                form = cls()
                form.validate()
                said = form.errors.get(name)
                assert not said, (cls.__qualname__, name, limit, said)
                kept = getattr(form, name).data
                assert kept == sent.replace("\r\n", "\n"), (cls.__qualname__, name)
            walked.append(f"{cls.__qualname__}.{name}")
    # the reasons of the review and the tours, the notes, the comments, the tour's texts
    assert {
        "DecisionForm.reason",
        "ReasonForm.reason",
        "StatusForm.note",
        "UpdateForm.note",
    } <= set(walked), walked
