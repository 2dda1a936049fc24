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

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, flash, g, jsonify, make_response, redirect, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from sscmatch.db import DuplicateRecord, StaleVersion
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
    # the account's forms: sent again, each met its own first sending's change
    "auth.change_password": "a new password (sent again, the old one was 'wrong': a failed "
    "sign-in counted toward a lock-out)",
    "auth.account": "an API token (sent again: 'tick the box to replace it', or a second token "
    "in place of the one the first answer showed)",
    "auth.change_language": "the account's language",
    "admin.reset_password": "a password set by an admin (the account's sessions ended twice)",
    "admin.unlock_user": "an unlock (sent again: 'this account is not locked')",
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

NOT_SENT_ONCE: Mapping[str, str] = {
    "auth.login": "signing in again is harmless and needed: a browser that gave up the first "
    "answer (a double click) keeps only the second's cookie; a right password counts no failure",
    "auth.logout": "ending the sessions again ends nothing more; signed out already, it says so",
    "admin.edit_user": "an edit: it carries the version it was made on (stale_edit)",
    "admin.reactivate_user": "a step: it carries the version it was taken on",
}
"""The account's other forms (sign-in and out, ``/account``, ``/admin/users``), and why a second
sending is no harm: the class test asks that every one is here or in :data:`SENT_ONCE`."""

WAIT_STEPS = 40
WAIT_STEP_S = 0.05
"""How long a sending that met the first one's key waits for the first to say where it led (it
writes that just after its commit): 2 s at most, then it says it was done without a link."""


def field() -> Markup:
    """The hidden field of a fresh one-time key (templates: ``{{ sent_once_field() }}``)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, sent_forms.new_key())


class _Claim:
    """Adds the key to the first flush (or commit) of the request's session that writes
    something, but those made :func:`aside` (bookkeeping, not the form's change)."""

    def __init__(self, key: str, alone: str | None = None) -> None:
        self.key = key
        self.alone = alone
        self.wrote = False
        self.claimed = False
        self.committed = False
        self.aside = 0

    def before_flush(self, session: Session, _context: Any, _objects: Any) -> None:
        # The key is written first, before any row of the change: a second sending at the same
        # moment then waits on the key alone, and meets it taken, instead of holding a row the
        # first still has to write (PostgreSQL: a deadlock, the one answer a 503).
        self._claim(session)

    def do_orm_execute(self, state: ORMExecuteState) -> None:
        # A write sent through session.execute (a counter moved, a lock taken, a bulk UPDATE)
        # is the change too, and may be its first statement: the key goes before it as well
        # (a calibration's lock first took the second sending's place: "already running").
        if state.is_insert or state.is_update or state.is_delete:
            self._claim(cast(Session, state.session))  # the request's (a sqlmodel Session)

    def after_flush(self, session: Session, _context: Any) -> None:
        self.wrote = True

    def before_commit(self, session: Session) -> None:
        if self.wrote or session.new or session.dirty or session.deleted:
            self._claim(session)

    def _claim(self, session: Session) -> None:
        if self.aside or self.claimed:
            return
        self.claimed = True
        sent_forms.claim(session, self.key)
        if self.alone is not None:
            sent_forms.claim(session, self.alone)

    def after_commit(self, _session: Session) -> None:
        if self.claimed:
            self.committed = True
        elif self.aside:
            self.wrote = False

    def after_rollback(self, _session: Session) -> None:
        if not self.committed:
            self.claimed = self.wrote = False

    def listen(self, session: Session, on: bool) -> None:
        for name in (
            "before_flush",
            "do_orm_execute",
            "after_flush",
            "before_commit",
            "after_commit",
            "after_rollback",
        ):
            (event.listen if on else event.remove)(session, name, getattr(self, name))


_CLAIM = "sent_once_claim"
_ASIDE = "sent_once_aside"


@contextmanager
def aside() -> Iterator[None]:
    """The commits made inside are bookkeeping, not the change the form asks: the sign-in
    throttle's counters, written before the password is checked and after
    (:func:`sscmatch.web.auth.verify_sign_in`). The key is claimed with the change itself, so a
    form refused after them (a wrong current password) is no sending made, and a second
    sending at the same moment has its own counters settled before it meets the first's key.
    Nor are they checked against a session ended meanwhile (:func:`is_aside`): a failed
    password counts, whoever signed out."""
    claim = g.get(_CLAIM)
    depth = g.get(_ASIDE, 0)
    setattr(g, _ASIDE, depth + 1)
    if claim is not None:
        claim.aside += 1
    try:
        yield
    finally:
        setattr(g, _ASIDE, depth)
        if claim is not None:
            claim.aside -= 1


def is_aside() -> bool:
    """Whether the commits made now are bookkeeping (inside :func:`aside`)."""
    return bool(g.get(_ASIDE, 0))


class SentMeanwhile(Exception):
    """Raised by a view that found its form's own first sending done while it ran (a password
    change sent twice: the second's current password is the old one): answered as a sending
    already made."""


def sent_meanwhile(db: Session) -> bool:
    """Whether this request's form was sent, and its change committed, since the request began
    (a fresh look; False outside a view sent once)."""
    claim = g.get(_CLAIM)
    return claim is not None and sent_forms.taken(db, claim.key) is not None


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


def _refused_key() -> Any:
    return answer(
        400,
        "invalid_idempotency_key",
        _(
            "The Idempotency-Key header must be 8 to 255 printable ASCII characters, without "
            "spaces (a UUID, for example). Nothing was done."
        ),
    )


def _reused(db: Session) -> Any:
    db.rollback()
    return answer(
        422,
        "idempotency_key_reused",
        _(
            "This Idempotency-Key was already used for another request (another address or "
            "another body). Nothing was done: send a new key with each new request, and the "
            "same key only with the very same request."
        ),
    )


def _api() -> bool:
    return request.path.startswith("/api/")


def _sent_key() -> str | None:
    """The one-time key sent: the form's field, or the API's ``Idempotency-Key`` header."""
    return request.headers.get(HEADER) if _api() else request.form.get(FIELD)


def _body() -> bytes:
    """The API's body as sent, or its JSON written one way (keys sorted, no spaces): a client
    that writes its retry's JSON anew, in another order, sends the same request."""
    data = request.get_data()
    try:
        read = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, or too deep: the view refuses it
        return data
    return json.dumps(read, sort_keys=True, separators=(",", ":")).encode()


def _content() -> list[tuple[str, bytes]]:
    """What the request sent, but the key and the CSRF token (which a page drawn again renews):
    where to, the form's fields and files, or the API's body."""
    fields = [("", request.path.encode())]
    if _api():
        return [*fields, ("body", _body())]
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
        user = getattr(current_user, "id", None)
        sent = _sent_key()
        key = sent_forms.scoped(sent, user, _content())
        alone = None  # the API's key by itself: used once, for one request
        if _api() and sent is not None:
            alone = sent_forms.key_alone(sent, user)
            if key is None or alone is None:
                return _refused_key()
        if key is None:
            return view(*args, **kwargs)
        db = get_session()
        earlier = _earlier(db, key, wait=True)
        if earlier is not None:
            return _already(db, earlier)
        if alone is not None and sent_forms.taken(db, alone) is not None:
            return _reused(db)
        claim = _Claim(key, alone)
        claim.listen(db, True)
        g.setdefault(_CLAIM, claim)
        try:
            response = make_response(view(*args, **kwargs))
        except SentMeanwhile:
            db.rollback()
            return _already(db, _earlier(db, key, wait=True) or SentForm(key=key))
        except (DuplicateRecord, StaleVersion):
            # this key, sent meanwhile, or what the form makes (a user's e-mail) made by that
            # sending, or the row it changes changed by it: said as the sending already made;
            # the API's key taken by another request at the same moment is refused; else
            # another person's record or change
            db.rollback()
            earlier = _earlier(db, key, wait=True)
            if earlier is not None:
                return _already(db, earlier)
            if alone is not None and sent_forms.taken(db, alone) is not None:
                return _reused(db)
            raise
        finally:
            claim.listen(db, False)
            g.pop(_CLAIM, None)
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
