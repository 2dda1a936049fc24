"""What the service lets exist once at a time, begun twice at the same moment, on SQLite and
PostgreSQL: one begins, the other is refused with the rule's own error (a 409 on the pages and
the API), never both.

A rule checked in Python ("is one running already?") and then written lets two requests at the
same moment both pass the check: each reads "none", each inserts. The database's unique keys
cover a user's e-mail, a record's id, a pair's veto and the day's reminders
(``tests/test_concurrent_creation.py``); :data:`ONCE` lists the rules that no unique key holds.
Each is raced with :func:`tests.test_race_hold.race`: the first beginner is held at its first
write (its check done, on the code as it was) until the second has begun and committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from sscmatch.db import VersionedSession
from sscmatch.models import Calibration
from sscmatch.web.calibrations import queue_calibration
from sscmatch.workflow import calibrations
from tests.test_race_hold import first_write, race


def _calibration(s: Session) -> None:
    """Begin a calibration and queue its job, as the *Calibrate now* page and the API do."""
    row = calibrations.begin(s, today=date(2026, 12, 6), user_id=None)
    queue_calibration(s, row, None)


def _running_calibrations(s: Session) -> int:
    query = select(func.count()).where(col(Calibration.status) == "running")
    return int(s.exec(query).one())


@dataclass(frozen=True)
class Once:
    """A thing of which one at a time may be: ``begin`` begins it (the caller commits),
    ``refused`` is the error of a second, ``count`` how many there are now."""

    begin: Callable[[Session], None]
    refused: type[Exception]
    count: Callable[[Session], int]


ONCE = {
    "a running calibration": Once(
        _calibration, calibrations.CalibrationBusy, _running_calibrations
    ),
}


@pytest.mark.parametrize("what", list(ONCE))
def test_begun_twice_at_the_same_moment_one_begins(app: Flask, what: str) -> None:
    once = ONCE[what]
    engine: Engine = app.extensions["sscmatch.engine"]

    def begin() -> str:
        with VersionedSession(engine, expire_on_commit=False) as s:
            try:
                once.begin(s)
            except once.refused:
                s.rollback()
                return "refused"
            s.commit()
            return "begun"

    raced = race(engine, first_write, begin, begin)
    assert raced.held
    with Session(engine) as s:
        assert (raced.result, once.count(s)) == ("refused", 1), what
