"""A text the browser let through its ``maxlength`` is not refused as too long for its line breaks.

A browser counts a line break of a text box as one character (its ``maxlength`` stops typing and
pasting there), and sends it as two (CR LF). A reason of 2,000 characters with twenty line breaks
was refused on the proposal page, "The field cannot be longer than 2000 characters", its box
showing 2,000 and refusing any more: nothing the reader could do but guess. The limits of the
pages' text boxes count line breaks as the browser does
(:class:`sscmatch.web.textlimit.TextLength`), and the text goes on with LF line breaks, as
counted, so that the use case's own limit agrees.

The class: every field of every page form with a length limit, sent at that limit as a browser
sends it, line breaks included.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session, select
from wtforms import TextAreaField
from wtforms.validators import Length

from sscmatch.models import Review
from sscmatch.schemas import MAX_TEXT
from sscmatch.web.pageform import PageForm
from sscmatch.web.textlimit import TextLength
from tests.web import test_review
from tests.web.test_form_messages_translated import _form_classes
from tests.web.test_review import prop


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


run = test_review.run  # the fixture: the knowledge base and a run for two needs


def test_a_reason_at_its_limit_with_line_breaks_decides(as_user: Any, run: Session) -> None:
    """The use case's own limit (MAX_TEXT) agrees: the rejection is made, its reason stored as
    the browser counted it."""
    first = prop(run, "BRA")
    sent = _as_a_browser_sends(MAX_TEXT)
    done = as_user("secretariat").post(
        f"/review/proposals/{first.id}/decision",
        data={"decision": "reject", "reason": sent, "version": first.version, "confirmed": "y"},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:1500]
    run.expire_all()
    review = run.exec(select(Review).where(Review.proposal_id == first.id)).one()
    assert review.reason == sent.replace("\r\n", "\n").strip()
