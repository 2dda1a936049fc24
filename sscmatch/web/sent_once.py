"""A page's form that creates something makes its change once, however often it is sent.

A double click on *Save*, the browser's back and send again, or the same form sent twice at the
same moment (two tabs) made two needs, two commitments, two match runs from one form. Each form
that creates carries a one-time key (``{{ sent_once_field() }}`` in its template, drawn fresh
each time the page is drawn), and its view is wrapped in :func:`sent_once`: the change is
committed together with the key (:mod:`sscmatch.workflow.sent_forms`), and the same key sent
again is answered with where the first sending led, and a line that says it was done once and
nothing more was done, in the reader's language (303), without running the view again. Of two
sendings at the same moment, the second one's commit meets the key the first committed: its
transaction is rolled back whole and it gets the same answer. A form sent without a key (an old
page, a script) is carried out as before.

:data:`SENT_ONCE` declares the views (each one's form and record: the class test
``tests/web/test_repeated_actions.py`` sends every one twice, one after the other and at once).
Edits and steps need no key: they carry the version they were made on, and a second sending is
refused as stale (:mod:`sscmatch.web.stale_edit`, :mod:`sscmatch.web.review`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, flash, jsonify, make_response, redirect, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlmodel import Session

from sscmatch.db import DuplicateRecord
from sscmatch.models import SentForm
from sscmatch.web.db import get_session
from sscmatch.web.errors import answer
from sscmatch.web.translate import gettext as _
from sscmatch.workflow import sent_forms

F = TypeVar("F", bound=Callable[..., Any])

FIELD = "sent_once"
"""The form field that carries the key."""
HEADER = "Idempotency-Key"
"""The API's header that carries it (a client's own key, the same when it sends again)."""
REDIRECTS = (301, 302, 303)

# endpoint → what one sending creates (the class test sends each form twice).
SENT_ONCE: Mapping[str, str] = {
    "registry.need_new": "a need",
    "registry.capacity_new": "a capacity",
    "tours.add_commitment": "a commitment of the tour",
    "review.comment": "a comment on the proposal",
    "matching.start": "a match run and its job",
    "matching.calibrate": "a calibration and its job",
    "admin.import_page": "an import job (records without an id would be made twice)",
    "admin.new_user": "an account",
    # the API, for a client that sends an Idempotency-Key (the same on a retry)
    "api.api_need_create": "a need",
    "api.api_capacity_create": "a capacity",
    "api.api_exchange_create": "an exchange",
    "api.api_create_tour": "a study tour (from a need and a capacity)",
    "api.api_add_commitment": "a commitment of the tour",
    "api.review_add_comment": "a comment on the proposal",
    "api.review_start_run": "a match run and its job",
    "api.calibrations_create": "a calibration and its job",
}

WAIT_STEPS = 40
WAIT_STEP_S = 0.05
"""How long a sending that met the first one's key waits for the first to say where it led (it
writes that just after its commit): 2 s at most, then it says it was done without a link."""


def field() -> Markup:
    """The hidden field of a fresh one-time key (templates: ``{{ sent_once_field() }}``)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, sent_forms.new_key())


class _Claim:
    """Adds the key to the first commit of the request's session that writes something."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.wrote = False
        self.claimed = False
        self.committed = False

    def after_flush(self, session: Session, _context: Any) -> None:
        self.wrote = True

    def before_commit(self, session: Session) -> None:
        if self.claimed or not (self.wrote or session.new or session.dirty or session.deleted):
            return
        self.claimed = True
        sent_forms.claim(session, self.key)

    def after_commit(self, _session: Session) -> None:
        if self.claimed:
            self.committed = True

    def after_rollback(self, _session: Session) -> None:
        if not self.committed:
            self.claimed = self.wrote = False

    def listen(self, session: Session, on: bool) -> None:
        for name in ("after_flush", "before_commit", "after_commit", "after_rollback"):
            (event.listen if on else event.remove)(session, name, getattr(self, name))


def _earlier(db: Session, key: str, *, wait: bool) -> SentForm | None:
    found = sent_forms.taken(db, key)
    steps = WAIT_STEPS if wait else 0
    while found is not None and found.location is None and steps > 0:
        db.rollback()  # a fresh look at what the first sending wrote since
        time.sleep(WAIT_STEP_S)
        found = sent_forms.taken(db, key)
        steps -= 1
    return found


def _already(db: Session, earlier: SentForm) -> Any:
    db.rollback()
    if earlier.location is not None and _api():
        said = _(
            "This request had already been sent with this Idempotency-Key: what it asked was "
            "done once, at the location given. Nothing more was done."
        )
        response = jsonify(message=said, location=earlier.location)
        response.status_code = 303
        response.headers["Location"] = earlier.location
        return response
    if earlier.location is None:
        return answer(
            409,
            "already_sent",
            _(
                "This form was already sent a moment ago: what it asked is done once. Nothing "
                "more was done; reload the page to see it."
            ),
            title=_("Sent twice"),
        )
    flash(
        _(
            "This form had already been sent: what it asked was done once, as shown here. "
            "Nothing more was done."
        ),
        "info",
    )
    return redirect(earlier.location, 303)


def _api() -> bool:
    return request.path.startswith("/api/")


def _sent_key() -> str | None:
    """The one-time key sent: the form's field, or the API's ``Idempotency-Key`` header."""
    return request.headers.get(HEADER) if _api() else request.form.get(FIELD)


def _content() -> list[tuple[str, bytes]]:
    """What the request sent, but the key and the CSRF token (which a page drawn again renews):
    where to, the form's fields and files, or the API's body."""
    fields = [("", request.path.encode())]
    if _api():
        return [*fields, ("body", request.get_data())]
    fields += [
        (name, value.encode())
        for name, value in request.form.items(multi=True)
        if name not in (FIELD, "csrf_token")
    ]
    for name, upload in request.files.items(multi=True):
        data = upload.stream.read()
        upload.stream.seek(0)
        fields.append((f"{name}:{upload.filename or ''}", data))
    return fields


def sent_once(view: F) -> F:
    """Make ``view`` (a POST of a page's form that creates) do its change once per form key."""

    @wraps(view)
    def once(*args: Any, **kwargs: Any) -> Any:
        key = sent_forms.scoped(_sent_key(), getattr(current_user, "id", None), _content())
        if key is None:
            return view(*args, **kwargs)
        db = get_session()
        earlier = _earlier(db, key, wait=True)
        if earlier is not None:
            return _already(db, earlier)
        claim = _Claim(key)
        claim.listen(db, True)
        try:
            response = make_response(view(*args, **kwargs))
        except DuplicateRecord:
            # this key, sent meanwhile, or what the form makes (a user's e-mail) made by that
            # sending: said as the sending already made; else another person's record
            db.rollback()
            earlier = _earlier(db, key, wait=True)
            if earlier is None:
                raise
            return _already(db, earlier)
        finally:
            claim.listen(db, False)
        if claim.committed:
            where = response.headers.get("Location")
            if not ((_api() and response.status_code < 300) or response.status_code in REDIRECTS):
                where = None
            sent_forms.record_location(db, key, where or request.path)
            db.commit()
        return response

    once._sent_once = True  # type: ignore[attr-defined]
    return once  # type: ignore[return-value]


def is_sent_once(view: Callable[..., Any]) -> bool:
    return bool(getattr(view, "_sent_once", False))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["sent_once_field"] = field
