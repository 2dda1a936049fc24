"""The answer to a stale edit (and to a record created twice at the same moment), the same for
every record: 409 with a message in the user's language.

Use cases raise :class:`sscmatch.db.StaleVersion` (a subclass of SQLAlchemy's ``StaleDataError``)
when an edit started from an older version than the record's, or when its write found the row
changed meanwhile (see :mod:`sscmatch.db`). Views that can keep what the user typed catch it and
show :func:`conflict_message` beside the form; anything else reaches :func:`_stale_answer`,
registered for the whole app: ``{"error": "conflict", "message": …}`` under ``/api/``, the error
page elsewhere (:func:`sscmatch.web.errors.answer`). :class:`sscmatch.db.DuplicateRecord` (a
unique key taken by another request at the same moment) is answered the same way.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel

from sscmatch.db import BadVersion, DuplicateRecord, StaleVersion
from sscmatch.web.db import get_session
from sscmatch.web.errors import answer, rollback
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow.audit import changed_by_them_alone

RECORD_LABELS = {
    "need": _l("need"),
    "capacity": _l("capacity"),
    "exchange": _l("exchange"),
    "institution": _l("institution"),
    "proposal": _l("proposal"),
    "study_tour": _l("study tour"),
    "commitment": _l("commitment"),
    "user": _l("user"),
}


def stale_by_you(exc: StaleDataError) -> bool:
    """Whether the record a stale request met was changed since the version it was made on by
    its sender alone (a second click, the same form sent again, another tab of theirs): the
    answer then says so, not that someone else changed it."""
    if not isinstance(exc, StaleVersion) or exc.expected is None or exc.record_id is None:
        return False
    return changed_by_them_alone(
        get_session(),
        exc.entity or "",
        exc.record_id,
        exc.expected,
        getattr(current_user, "id", None),
    )


def _current_version(exc: StaleVersion) -> int | None:
    """The record's version now (a write that found it changed does not know it)."""
    if exc.current is not None:
        return int(exc.current)
    table = SQLModel.metadata.tables.get(exc.entity or "")
    if table is None or "version" not in table.c or exc.record_id is None:
        return None
    key = next(iter(table.primary_key.columns))
    found = get_session().execute(select(table.c.version).where(key == exc.record_id))
    return found.scalar_one_or_none()


def conflict_message(exc: StaleDataError) -> str:
    """What went wrong and what to do, in the interface language (call it after the rollback
    of the refused change: it may read the record's current version)."""
    current = _current_version(exc) if isinstance(exc, StaleVersion) else None
    if isinstance(exc, StaleVersion) and exc.expected is not None and current is not None:
        label = RECORD_LABELS.get(exc.entity or "", exc.entity or "")
        record = f"{label} {exc.record_id}" if exc.record_id is not None else str(label)
        if stale_by_you(exc):
            return _(
                "Nothing more was done: you changed %(record)s yourself meanwhile (a second "
                "click, the same form sent again, or another tab of yours); it is now version "
                "%(current)s. Reload it to see it as it is.",
                record=record,
                current=current,
            )
        return _(
            "Not saved: %(record)s was changed by someone else meanwhile (you edited version "
            "%(expected)s; it is now version %(current)s). Reload it to see the current values, "
            "then apply your change again.",
            record=record,
            expected=exc.expected,
            current=current,
        )
    return _(
        "Not saved: this record was changed by someone else meanwhile. Reload it to see the "
        "current values, then apply your change again."
    )


def _stale_answer(exc: StaleDataError) -> Any:
    rollback()
    return answer(409, "conflict", conflict_message(exc), title=_("Changed meanwhile"))


def duplicate_message() -> str:
    return _(
        "Not saved: a record with the same id (or e-mail) was created at the same moment by "
        "someone else. Send yours again; when you gave no id, a new one is chosen."
    )


def _duplicate_answer(_exc: DuplicateRecord) -> Any:
    rollback()
    return answer(409, "conflict", duplicate_message(), title=_("Changed meanwhile"))


def _bad_version_answer(_exc: BadVersion) -> Any:
    rollback()
    message = _("The version you edited is missing or not a whole number; reload and try again.")
    return answer(400, "bad_version", message, title=_("Bad request"))


def init_app(app: Flask) -> None:
    app.register_error_handler(StaleDataError, _stale_answer)
    app.register_error_handler(BadVersion, _bad_version_answer)
    app.register_error_handler(DuplicateRecord, _duplicate_answer)
