"""A form that makes a change is sent once: the same form sent again does nothing more.

A page draws a one-time key into each form that creates something (:func:`new_key`); the
change the form makes is committed together with a :class:`~sscmatch.models.SentForm` row of
that key (its primary key), and the page's answer (where it led) is written on the row after.
The same form sent again, with the same key (a double click, the browser's back and send again,
a request retried after a timeout), finds the key taken (:func:`taken`) and is answered with
where the first sending led; two sendings at the same moment both do their work, and the
second one's commit meets the first one's row: a unique key refused
(:class:`sscmatch.db.DuplicateRecord`), its whole transaction rolled back, nothing of it
written. The key is scoped to its user (``<user id>:<random>``), so no one can take
another's, and to the values sent with it: the same page's form sent again with other values
(back, change a field, send) is a sending of its own.

The web side (which views, the key in the templates, the answer) is
:mod:`sscmatch.web.sent_once`. Functions never commit, except :func:`record_location`'s
caller.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable

from sqlmodel import Session

from sscmatch.models import SentForm

KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,43}")
"""What :func:`new_key` draws (``secrets.token_urlsafe``); anything else is no key."""
TABLE = SentForm.__tablename__


def new_key() -> str:
    """A fresh one-time key for a form."""
    return secrets.token_urlsafe(24)


def scoped(
    key: str | None, user_id: int | None, content: Iterable[tuple[str, bytes]]
) -> str | None:
    """The stored key of a form's ``key`` sent by ``user_id`` with ``content`` (its fields, the
    key and the CSRF token left out): the same form sent again with the same values meets it;
    the same page's form sent again with other values (back, change a field, send) is another
    sending. None when the form sent no key of the right shape (an old page, a script): it is
    then carried out as before, unguarded."""
    if not key or KEY_SHAPE.fullmatch(key) is None:
        return None
    digest = hashlib.sha256()
    for name, value in sorted(content):
        for part in (name.encode(), value):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return f"{user_id or 0}:{key}:{digest.hexdigest()[:16]}"


def taken(session: Session, key: str) -> SentForm | None:
    """The earlier sending of ``key`` (committed), or None."""
    return session.get(SentForm, key, populate_existing=True)


def claim(session: Session, key: str) -> None:
    """Add ``key`` to the transaction about to commit the form's change (the commit then fails
    with :class:`sscmatch.db.DuplicateRecord` on table :data:`TABLE` if the form was sent
    meanwhile)."""
    session.add(SentForm(key=key))


def record_location(session: Session, key: str, location: str) -> None:
    """Say where the sending of ``key`` led (a path of this site); the caller commits."""
    row = session.get(SentForm, key)
    if row is not None and location.startswith("/") and not location.startswith("//"):
        row.location = location[:2000]
        session.add(row)
