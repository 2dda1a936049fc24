"""Every error answered once, for the whole app, in the same shape.

Under ``/api/`` an error is ``{"error": code, "message": text}`` with its 4xx status; so it is,
in the reader's language, for the JSON a page's script reads (views marked
:func:`answers_json`); elsewhere it is the error page in the reader's language
(``templates/error.html``). :func:`answer` is that
choice, and every handler below goes through it:

- a use-case error (:class:`sscmatch.workflow.base.DomainError` and every family derived from it)
  rolls the request's session back and answers with the status and code the error carries; the
  API and a page alike say it in the reader's language (:func:`error_text`; the API beside the
  error's code),
  and a refused form answers 400 on a page where the API answers 422 (:func:`page_status`);
- HTTP errors (``abort``; Werkzeug's English description replaced by the status's sentence of
  :data:`ERROR_MESSAGES`), a failed CSRF check, a body over the upload limit, and the API's own
  :class:`sscmatch.web.api.ApiError` (its message of the catalogue said in the reader's language,
  :meth:`~sscmatch.web.api.ApiError.said`);
- stale versions and records created twice at once: :mod:`sscmatch.web.conflict`.

A view catches a use-case error only to do something else than this answer (keep what was typed
and show the message beside the form, flash it and go back); it answers with
:func:`page_status` and :func:`error_text` then, never with a status of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import RoutingException

from sscmatch.web.api import ApiError
from sscmatch.web.db import get_session
from sscmatch.web.fieldnames import FIELD_LABELS, field_problem, show_beside
from sscmatch.web.messages import translated
from sscmatch.web.tourtext import message
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow.base import DomainError
from sscmatch.workflow.registry.errors import InvalidRecord
from sscmatch.workflow.tours import TourProblems

# Error pages in the reader's language: a title per status, and a sentence for the statuses
# whose description is Werkzeug's English default (views that abort with their own description
# pass a translated one).
ERROR_TITLES: dict[int, Any] = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    422: _l("Cannot be processed"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
}
ERROR_MESSAGES: dict[int, Any] = {
    400: _l("The request could not be understood; check what you sent and try again."),
    401: _l("Sign in to see this page."),
    403: _l("You may not open this page."),
    404: _l("There is no such page here. Check the address, or start again from the menu."),
    405: _l("This address does not take that kind of request."),
    409: _l("The record changed meanwhile; reload it and try again."),
    413: _l("What you sent is too large."),
    422: _l("What you sent could not be processed."),
    429: _l("Too many attempts; wait a moment and try again."),
    500: _l("Something went wrong on our side; the error was recorded. Try again later."),
}


def error_page(code: int, text: str | None = None, title: str | None = None) -> str:
    """The error page: a title for ``code`` and ``text`` (or the status's own sentence). A page
    refused for its address's filters (400 to a GET with a query) also links to the same page
    without them, so the reader is one click from the list rather than back at the home page
    (a download is left out: the link would fetch a file)."""
    fallback = 500 if code >= 500 else 400
    title = title or ERROR_TITLES.get(code, ERROR_TITLES[fallback])
    text = text or ERROR_MESSAGES.get(code, ERROR_MESSAGES[fallback])
    unfiltered = None
    if (
        code == 400
        and request.method == "GET"
        and request.args
        and "export" not in (request.endpoint or "")
        and "download" not in (request.endpoint or "")
    ):
        unfiltered = request.script_root + request.path
    return render_template(
        "error.html", code=code, title=title, message=text, unfiltered=unfiltered
    )


F = TypeVar("F", bound=Callable[..., Any])


def answers_json(when: Callable[[], bool] = lambda: True) -> Callable[[F], F]:
    """Mark a page's view that answers JSON to the page's script (``when``: for the requests it
    does): its errors are then ``{"error": code, "message": text}`` too, the message in the
    reader's language, which the script shows."""

    def mark(view: F) -> F:
        view._answers_json = when  # type: ignore[attr-defined]
        return view

    return mark


def _answers_json() -> bool:
    """Whether this request's errors are JSON for a page's script (see :func:`answers_json`)."""
    view = current_app.view_functions.get(request.endpoint or "")
    when = getattr(view, "_answers_json", None)
    return bool(when is not None and when())


def json_expected() -> bool:
    """Whether this request's refusals are JSON: under ``/api/``, and for a page's script
    (:func:`answers_json`). Reads nothing from the database (the readiness check asks it)."""
    return request.path.startswith("/api/") or _answers_json()


def answer(status: int, code: str, text: Any, *, title: str | None = None) -> Any:
    """The one shape of an error: JSON under ``/api/`` and for a page's script, the error page
    elsewhere."""
    if request.path.startswith("/api/"):
        return jsonify(error=code, message=text), status
    if _answers_json():
        return jsonify(error=code, message=str(text)), status
    return error_page(status, None if text is None else str(text), title), status


# --------------------------------------------------------------------------- use-case errors


def field_errors(exc: BaseException, *, unlabelled_alone: bool = False) -> dict[str, str] | None:
    """Each field's problem of a refused edit, in the reader's language, by the field's code
    (``""``: a problem of no field), or None for an error that is not about fields: what a form
    shows beside each field, and the API's ``fields``. ``unlabelled_alone``: a problem shown
    without a field's name before it (no field, or one without a label) starts a sentence
    (:func:`sscmatch.web.messages.alone`); after a name it reads as the catalogue has it."""
    if isinstance(exc, InvalidRecord):
        return {name: translated(problem) for name, problem in exc.errors.items()}
    if isinstance(exc, TourProblems):
        out: dict[str, str] = {}
        for p in exc.problems:
            on_its_own = unlabelled_alone and p.field not in FIELD_LABELS
            said = message(p.message, p.params, on_its_own=on_its_own)
            out[p.field] = f"{out[p.field]} {said}" if p.field in out else said
        return out
    return None


def flash_beside(form: Any, exc: BaseException) -> None:
    """A refused edit on its form: each field's problem beside its field (the form keeps what
    was typed), the rest flashed above it (a problem of no field starting a sentence); an error
    about no field is flashed whole."""
    fields = field_errors(exc, unlabelled_alone=True)
    for text in [error_text(exc)] if fields is None else show_beside(form, fields):
        flash(text, "error")


def error_text(exc: BaseException) -> str:
    """A use-case error in the reader's language: its message of the catalogue with its values
    (every problem of a :class:`~sscmatch.workflow.tours.TourProblems`, every field's of an
    :class:`~sscmatch.workflow.registry.errors.InvalidRecord`, each field named by its label
    (:mod:`sscmatch.web.fieldnames`), never its code), else a sentence of a known shape
    (:func:`sscmatch.web.messages.translated`), else as it is.

    What it returns is shown on its own (a flash, the error page, the API's ``message``), so
    each sentence of it that does not follow a field's name starts with a capital
    (:func:`sscmatch.web.messages.alone`: "La gira empieza el…", not "la gira…")."""
    fields = field_errors(exc, unlabelled_alone=True)
    if isinstance(exc, TourProblems) and fields is not None:
        return " ".join(
            field_problem(name, said) if name in FIELD_LABELS else said
            for name, said in fields.items()
        )
    if fields is not None:
        return "; ".join(field_problem(name, said) for name, said in fields.items())
    if isinstance(exc, DomainError) and exc.message:
        said = message(exc.message, exc.params, on_its_own=True)
        if said != str(exc):
            return said
    return translated(str(exc), on_its_own=True)


def page_status(exc: DomainError) -> int:
    """The status a page answers ``exc`` with: a refused form is 400 on a page (422 in the API,
    which validates a body), any other status as the error carries it."""
    return 400 if exc.status == 422 else exc.status


def rollback() -> None:
    """Nothing of a refused request is kept."""
    get_session().rollback()


def _domain_error(exc: DomainError) -> Any:
    rollback()
    if request.path.startswith("/api/"):
        # said in the requester's language (their account's), as the pages say it; a client
        # that needs something stable reads ``error``, the code, and ``fields``' keys (the
        # codes of the fields at fault)
        fields = field_errors(exc)
        extra = {"fields": fields} if fields else {}
        return jsonify(error=exc.code, message=error_text(exc), **extra), exc.status
    return answer(page_status(exc), exc.code, error_text(exc))


# --------------------------------------------------------------------------- the edge's own


def page_above(path: str) -> str | None:
    """The nearest address above ``path`` that shows a page (``/review/proposals/5/decision``
    → ``/review/proposals/5``), or None."""
    adapter = current_app.url_map.bind("localhost")
    parts = path.rstrip("/").split("/")
    for end in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:end]) or "/"
        try:
            adapter.match(candidate, method="GET")
        except (HTTPException, RoutingException):  # no page (404, 405), or a redirect
            continue
        return candidate
    return None


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if code == 405 and request.method in ("GET", "HEAD") and not request.path.startswith("/api/"):
        # An address that only takes a form's answer, opened again from the address bar (where
        # a refused form or a confirmation step left it), a bookmark or a restored tab: the
        # page it belongs to, rather than "this address does not take that kind of request".
        above = page_above(request.path)
        if above is not None:
            return redirect(request.script_root + above, 303)
    default = type(exc).description  # Werkzeug's English sentence: ours instead
    text = None if not exc.description or exc.description == default else exc.description
    if request.path.startswith("/api/") or _answers_json():
        name = (exc.name or "error").lower().replace(" ", "_")
        fallback = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500 if code >= 500 else 400])
        return answer(code, name, str(text or fallback))
    return error_page(code, text), code


def _too_large(_exc: RequestEntityTooLarge) -> Any:
    """413: say what the limit is (an upload, or a JSON body, beyond MAX_UPLOAD_MB). A body
    within it is refused by the form parser's own limits (``MAX_FORM_PARTS`` parts of a
    multipart form, ``MAX_FORM_MEMORY_SIZE`` bytes of text in one of its fields): said as
    such, not as a file larger than MAX_UPLOAD_MB, which it is not."""
    limit, length = current_app.config.get("MAX_CONTENT_LENGTH"), request.content_length
    if limit is not None and length and length <= limit:  # a stated length within the limit
        text = _l("The form has too many fields, or a field with too much text; nothing was saved.")
        return answer(413, "form_too_large", str(text))
    text = _l(
        "What you sent is larger than the limit of %(mb)s MiB; send a smaller file (or split "
        "the bundle).",
        mb=current_app.config["MAX_UPLOAD_MB"],
    )
    return answer(413, "too_large", str(text))


def _csrf_error(_exc: CSRFError) -> Any:
    # not "reload": reloading sends the same refused form again
    text = _l(
        "The form's security check (CSRF) failed: it was sent from another site, or your "
        "session ended meanwhile. Nothing was saved; open the form again and send it again."
    )
    return answer(400, "csrf_failed", str(text))


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(ApiError, lambda exc: answer(exc.status, exc.code, exc.said()))
