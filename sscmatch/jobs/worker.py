"""The worker process (``sscmatch worker``): takes queued jobs one at a time and carries them out.

Run as many as wanted, on any host that reaches the database; ``scripts/run`` starts one beside
the web server. A worker

- signs every :data:`~sscmatch.workflow.jobs.BEAT` from a thread of its own (``job_worker``),
  so that the others know it is alive;
- before each claim, recovers the jobs of workers that stopped (:func:`sscmatch.jobs.recover`)
  and queues the day's reminders once ``REMIND_AT`` has passed;
- on SIGTERM or Ctrl-C gives its job back to the queue (nothing of it was committed) and stops;
  killed outright, its job is found by the others when its signature goes stale, or at once by
  one on the same host.
"""

from __future__ import annotations

import logging
import signal
import threading
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from sscmatch import config, jobs
from sscmatch.db import is_transient
from sscmatch.models import Job
from sscmatch.workflow import jobs as queue
from sscmatch.workflow import sent_forms
from sscmatch.workflow.workers import this_worker

log = logging.getLogger(__name__)

POLL = 1.0
"""Seconds between two looks at an empty queue."""
FORGET_EVERY = 3600.0
"""Seconds between two clean-ups of the forms' one-time keys (``sent_forms.forget_old``)."""
REMINDER_DAYS = 14


def _today(app: Flask) -> date:
    return config.today(app.config)


def remind_time(app: Flask) -> time | None:
    """``REMIND_AT`` as a time of day (UTC), or None when the workers send no reminders: read by
    the setting's own parser, the one that checked it when the app was made."""
    return config.remind_at(app.config.get("REMIND_AT"))


def schedule_reminders(app: Flask, now: datetime | None = None) -> Job | None:
    """Queue the day's reminders once ``REMIND_AT`` has passed (once per day, whichever worker
    comes first); returns the job queued now, if any."""
    at = remind_time(app)
    if at is None:
        return None
    now = now or datetime.now(UTC)
    if now.time().replace(tzinfo=None) < at:
        return None
    today = _today(app)
    key = f"reminders:{today.isoformat()}"
    engine: Engine = app.extensions["sscmatch.engine"]
    with Session(engine, expire_on_commit=False) as session:
        if session.exec(select(Job.id).where(Job.unique_key == key)).first() is not None:
            return None
        try:
            job = jobs.submit(
                session,
                "reminders",
                {"today": today.isoformat(), "days": REMINDER_DAYS},
                unique_key=key,
            )
            session.commit()
        except IntegrityError:  # another worker queued it at the same moment
            session.rollback()
            return None
    return job


def forget_sent_forms(engine: Engine) -> int:
    """Delete the one-time keys of forms sent longer ago than they are kept; a busy database
    only puts it off to the next time."""
    try:
        with Session(engine) as session:
            forgotten = sent_forms.forget_old(session)
            session.commit()
    except DBAPIError as exc:
        if not is_transient(exc):
            raise
        log.info("could not forget old sent forms (database busy): %s", exc)
        return 0
    return forgotten


class _Signer(threading.Thread):
    """Signs for the worker every BEAT, naming the job it is on."""

    def __init__(self, engine: Engine, name: str) -> None:
        super().__init__(name=f"job-worker-signer-{name}", daemon=True)
        self.engine, self.worker = engine, name
        self.job_id: int | None = None
        self.stopped = threading.Event()

    def sign(self) -> None:
        try:
            with Session(self.engine) as session:
                queue.sign(session, self.worker, self.job_id)
                session.commit()
        except DBAPIError as exc:  # the next signature comes soon
            if is_transient(exc):  # SQLite busy, the connection lost
                log.info("worker %s could not sign (database busy)", self.worker)
            else:  # the signer goes on; the worker's own next look at the queue stops it
                log.exception("worker %s could not sign", self.worker)

    def run(self) -> None:
        while not self.stopped.wait(queue.BEAT.total_seconds()):
            self.sign()


def _stop_on_sigterm() -> Any:
    """SIGTERM as SystemExit in the main thread, so the job in hand is given back."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, stop)
    return None


def run_worker(
    app: Flask,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    poll: float = POLL,
    name: str | None = None,
) -> int:
    """Take and carry out jobs until stopped (``stop`` set, SIGTERM, Ctrl-C), or, with
    ``once``, until the queue is empty. Returns how many jobs it carried out."""
    engine: Engine = app.extensions["sscmatch.engine"]
    name = name or this_worker()
    stop = stop or threading.Event()
    remind_time(app)  # a bad REMIND_AT stops the worker at start, not at the first reminder
    jobs.registry()
    jobs.recover(engine, fresh_worker=name)
    signer = _Signer(engine, name)
    signer.sign()
    signer.start()
    previous = _stop_on_sigterm()
    carried_out = 0
    forget_at = clock.monotonic()
    try:
        while not stop.is_set():
            if clock.monotonic() >= forget_at:
                forget_sent_forms(engine)
                forget_at = clock.monotonic() + FORGET_EVERY
            try:
                jobs.recover(engine)
                schedule_reminders(app)
                with Session(engine, expire_on_commit=False) as session:
                    job = queue.claim(session, name)
                    session.commit()
            except DBAPIError as exc:  # database busy or briefly unreachable: try again
                if not is_transient(exc):
                    raise
                log.warning("worker %s could not look at the queue: %s", name, exc)
                stop.wait(poll)
                continue
            if job is None:
                if once:
                    break
                stop.wait(poll)
                continue
            signer.job_id = job.id
            signer.sign()
            log.info("job %s (%s) taken by %s", job.id, job.kind, name)
            try:
                with app.app_context():
                    jobs.execute(app, job, name)
            finally:
                signer.job_id = None
            carried_out += 1
    finally:
        signer.stopped.set()
        signer.join()  # a signature in flight ends before the worker retires and returns
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        with Session(engine) as session:
            queue.retire(session, name)
            session.commit()
    return carried_out


def pending(engine: Engine, within: timedelta = timedelta(0)) -> int:
    """How many jobs are queued and due (for the command line's summary)."""
    now = datetime.now(UTC) + within
    with Session(engine) as session:
        rows = session.exec(select(Job.id).where(Job.status == queue.QUEUED, Job.run_after <= now))
        return len(rows.all())
