"""The forms of a need's steps on its page (:mod:`sscmatch.web.need_steps`): each posts the
version the person saw, and the return and the withdrawal what they typed: new text, at most
the use case's MAX_TEXT (its line breaks read as LF, as counted: :class:`TextLength`)."""

from __future__ import annotations

from wtforms import HiddenField, TextAreaField

from sscmatch.schemas import MAX_TEXT
from sscmatch.web.pageform import PageForm
from sscmatch.web.textlimit import TextLength
from sscmatch.web.translate import lazy_gettext as _l


class ActionForm(PageForm):
    """Submit, take back, endorse, reinstate: nothing but the CSRF token and the version."""

    version = HiddenField()


class WithdrawForm(PageForm):
    """Withdraw a need: the version and an optional reason (kept in the need's history)."""

    reason = TextAreaField(
        _l("Why is it no longer needed? (optional)"),
        validators=[TextLength(max=MAX_TEXT)],
        render_kw={"rows": 2},
    )
    version = HiddenField()


class ReturnForm(PageForm):
    note = TextAreaField(
        _l("What should the focal point change?"),
        validators=[TextLength(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    version = HiddenField()
