"""The base of every Flask-WTF form of the pages.

Flask-WTF reads a JSON body as a form's fields (``ImmutableMultiDict(request.get_json())``),
which fails with a server error on any JSON that is not an object or a list of pairs (``[[1]]``,
``5``, ``"x"``; found by ``scripts/fuzz`` at the sign-in form). A page's form is filled by an
HTML form, which never sends JSON, so these forms read the submitted form fields and files only:
any other body is an empty form, refused by the form's own checks with its usual messages.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict


class PageForm(FlaskForm):  # type: ignore[misc]
    class Meta(FlaskForm.Meta):  # type: ignore[misc]
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is not _Auto:
                return formdata
            if not _is_submitted():
                return None
            if request.files:
                return CombinedMultiDict((request.files, request.form))
            return request.form or ImmutableMultiDict()
