"""A form that makes a change is sent once: the same form sent again does nothing more.

A page draws a one-time key into each form that creates something (:func:`new_key`); the
change the form makes is committed together with a :class:`~sscmatch.models.SentForm` row of
that key (its primary key), and the page's answer (where it led) is written on the row after.
The same form sent again, with the same key (a double click, the browser's back and send again,
a request retried after a timeout), finds the key taken (:func:`taken`) and is answered with
where the first sending led; two sendings at the same moment both do their work, and the
second one's commit meets the first one's row: a unique key refused
(:class:`sscmatch.db.DuplicateRecord`), its whole transaction rolled back, nothing of it
written. The key is stored scoped to its user and to what was sent with it
(``<user id>:<digest>``): no one can take another's, and the same page's form sent again with
other values (back, change a field, send) is a sending of its own. The API's clients send a key
of their own, the same when they send again (``Idempotency-Key``); a second row marks the key by
itself (:func:`key_alone`), so the same key sent with another request is refused, not taken
for a sending of its own.

The web side (which views, the key in the templates, the answer) is
:mod:`sscmatch.web.sent_once`. Functions never commit, except :func:`record_location`'s
caller.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from sscmatch.db import DuplicateRecord, is_duplicate_key
from sscmatch.models import SentForm, utcnow

KEY_SHAPE = re.compile(r"[\x21-\x7e]{8,255}")
"""A key: what :func:`new_key` draws for a page's form, or an API client's ``Idempotency-Key``
(8 to 255 printable ASCII characters, a UUID as often as not); anything else is no key."""
TABLE = SentForm.__tablename__
TABLE_OF = SentForm.__table__  # type: ignore[attr-defined]
KEPT = timedelta(days=30)
"""How long a sending is remembered: a retry comes within seconds, a form sent again from a
tab left open or a restored browser within days; after a month the page the key came from is
long gone (its CSRF token with it), so the row only takes room. The job workers forget older
ones (:func:`forget_old`, ``sscmatch.jobs.worker``)."""


def new_key() -> str:
    """A fresh one-time key for a form."""
    return secrets.token_urlsafe(24)


def scoped(
    key: str | None, user_id: int | None, content: Iterable[tuple[str, bytes]]
) -> str | None:
    """The stored key of ``key`` sent by ``user_id`` with ``content`` (where to and the values
    sent, the key and the CSRF token left out): the same request sent again meets it; the same
    page's form sent again with other values (back, change a field, send) is a sending of its
    own. None when no key of the right shape was sent (an old page, a script): the request is
    then carried out as before, unguarded."""
    if not key or KEY_SHAPE.fullmatch(key) is None:
        return None
    digest = hashlib.sha256()
    for name, value in [("", key.encode()), *sorted(content)]:
        for part in (name.encode(), value):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return f"{user_id or 0}:{digest.hexdigest()[:48]}"


def key_alone(key: str | None, user_id: int | None) -> str | None:
    """The stored mark of the API's ``Idempotency-Key`` ``key`` sent by ``user_id``, whatever
    was sent with it (claimed beside :func:`scoped`'s): the same key sent with another request
    (another address, another body) meets it and is refused, as the IETF draft *The
    Idempotency-Key HTTP Header Field* and common practice have it. None for a key of another
    shape."""
    if not key or KEY_SHAPE.fullmatch(key) is None:
        return None
    digest = hashlib.sha256(b"idempotency-key\0" + key.encode()).hexdigest()[:48]
    return f"{user_id or 0}:key:{digest}"


def taken(session: Session, key: str) -> SentForm | None:
    """The earlier sending of ``key`` (committed), or None."""
    return session.get(SentForm, key, populate_existing=True)


def claim(session: Session, key: str) -> None:
    """Write ``key`` in the transaction of the form's change, at once (a statement of its own,
    before the change's rows: it may be called while the session flushes). Raises
    :class:`sscmatch.db.DuplicateRecord` on table :data:`TABLE` if the form was sent meanwhile
    (its transaction is then to be rolled back); a sending at the same moment waits here for
    the first's transaction to end, holding no row of the change."""
    try:
        session.connection().execute(insert(TABLE_OF).values(key=key, at=utcnow()))
    except IntegrityError as exc:
        if not is_duplicate_key(exc):
            raise
        raise DuplicateRecord(TABLE) from exc


def record_location(session: Session, key: str, location: str) -> None:
    """Say where the sending of ``key`` led (a path of this site); the caller commits."""
    row = session.get(SentForm, key)
    if row is not None and location.startswith("/") and not location.startswith("//"):
        row.location = location[:2000]
        session.add(row)


def forget_old(session: Session, now: datetime | None = None) -> int:
    """Delete the sendings older than :data:`KEPT`; returns how many. The caller commits."""
    before = (now or utcnow()) - KEPT
    result = session.execute(delete(SentForm).where(col(SentForm.at) < before))
    return int(getattr(result, "rowcount", 0) or 0)
