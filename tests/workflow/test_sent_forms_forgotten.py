"""The one-time keys of sent forms (``sent_form``) are kept for ``sent_forms.KEPT``, then
forgotten by the job workers: before, the table grew by a row for every form that made
something, for ever. A key still kept keeps its work: the same form sent again within the
time makes nothing more (tests/web/test_repeated_actions.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlmodel import Session, col, select

from sscmatch.jobs.worker import run_worker
from sscmatch.models import SentForm, utcnow
from sscmatch.workflow import sent_forms


def keys(session: Session) -> list[str]:
    session.expire_all()
    return list(session.exec(select(SentForm.key).order_by(col(SentForm.key))).all())


def sent(session: Session, **ages: timedelta) -> None:
    now = utcnow()
    for key, age in ages.items():
        session.add(SentForm(key=f"1:{key}", at=now - age, location="/needs/N-1"))
    session.commit()


def test_a_key_is_forgotten_once_older_than_it_is_kept(session: Session) -> None:
    just = sent_forms.KEPT - timedelta(minutes=5)
    sent(session, old=sent_forms.KEPT + timedelta(days=1), kept=just, new=timedelta(seconds=1))
    assert sent_forms.forget_old(session) == 1
    session.commit()
    assert keys(session) == ["1:kept", "1:new"]
    assert sent_forms.forget_old(session, now=utcnow() + timedelta(minutes=10)) == 1
    session.commit()
    assert keys(session) == ["1:new"]


def test_the_worker_forgets_them(app: Flask, session: Session) -> None:
    sent(session, old=sent_forms.KEPT * 2, new=timedelta(hours=1))
    run_worker(app, once=True, name="test-worker:1")
    assert keys(session) == ["1:new"]
