"""Jobs at the edge: the kinds of long work, handing them over, and carrying them out.

The queue itself (claiming, progress, workers' signs, recovery rules) is
:mod:`sscmatch.workflow.jobs`; this package commits each of its steps and runs the work:

- :func:`submit` queues a job in the caller's transaction (with the record it works on); after
  the caller commits, :func:`start` hands it over: to a worker process (``sscmatch worker``,
  :mod:`sscmatch.jobs.worker`), or, when ``JOBS_SYNC`` is on (default: when testing), by
  carrying it out at once inside the request, through the same :func:`execute` a worker uses,
  so tests stay deterministic and exercise the real path.
- :func:`execute` runs a claimed job's :class:`Kind` with a :class:`Context` (engine, params,
  progress, payload), then records it done with its result, or failed with its error (and asks
  the kind to mark its record failed too). An exception the kind raises ends the job at once
  (a bug or bad data does not get better by trying again), except a database error that passes
  (:func:`sscmatch.db.is_transient`: SQLite busy, a deadlock, the connection lost): then the
  job is queued again, later each time, until its last attempt (``max_attempts``), and only
  that one's error fails it. An interrupted worker's job is tried again too (:func:`recover`).
  Either way the attempt's work was rolled back: a kind commits its result in one transaction
  with the job's end.
- :func:`recover` queues again, or fails after the last attempt, the jobs of workers that
  stopped: any worker and any web page that shows a job calls it, so a killed worker's job
  moves on even before a worker comes back.

The kinds are declared in :mod:`sscmatch.jobs.kinds` (match runs, bundle imports,
calibrations, reminders).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from sscmatch.db import VersionedSession, is_transient, make_engine
from sscmatch.models import Job, utcnow
from sscmatch.workflow import jobs as queue
from sscmatch.workflow.workers import this_worker

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.3
"""Seconds between two progress writes of a job (the first and the last are always written)."""


class Refused(Exception):
    """The job's input is wrong (a bundle with problems): the job fails at once with
    ``message`` and keeps ``result`` (the problems) for the page that shows it."""

    def __init__(self, message: str, result: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.result = dict(result)


class Lost(Exception):
    """The job was taken as interrupted and handed to another attempt: this one stores
    nothing."""


@dataclass
class Context:
    """What a kind's work gets: the engine (it opens its own sessions and commits its result
    in one transaction), the job's parameters, its progress reporter and its payload."""

    engine: Engine
    job_id: int
    params: dict[str, Any]
    user_id: int | None
    worker: str
    config: Mapping[str, Any]
    instance_path: str
    completed: bool = False
    _last: float = field(default=0.0, repr=False)
    _step: str = field(default="", repr=False)

    def progress(self, step: str, done: int, total: int) -> None:
        """Report ``done`` of ``total`` in ``step`` (written at most every
        :data:`PROGRESS_EVERY` seconds, and always at a step's start and end). A write that
        finds the database busy is skipped: the next one catches up. Raises :class:`Lost` when
        the job was taken as interrupted and given to another attempt (this one stops early)."""
        now = time.monotonic()
        edge = step != self._step or done >= total or done == 0
        if not edge and now - self._last < PROGRESS_EVERY:
            return
        self._step, self._last = step, now
        try:
            with Session(quick_engine(self.engine)) as session:
                mine = queue.record_progress(session, self.job_id, self.worker, step, done, total)
                session.commit()
        except DBAPIError as exc:  # SQLite: another writer holds the lock; try next time
            if not is_transient(exc):
                raise
            log.info("progress of job %s not written (database busy)", self.job_id)
            return
        if not mine:  # taken as interrupted and given to another attempt: stop working
            raise Lost(f"job {self.job_id} is no longer held by {self.worker}")

    def complete(self, session: Session, result: Mapping[str, Any] | None) -> None:
        """Mark the job done inside ``session``, the transaction that stores its result (call
        it after the result's writes, then commit): the result and the job's end are committed
        together, or neither. Raises :class:`Lost` when the job was meanwhile taken as
        interrupted and given to another attempt, so that only one attempt ever stores."""
        row = queue.hold(session, self.job_id, self.worker)
        if row is None:
            raise Lost(f"job {self.job_id} is no longer held by {self.worker}")
        queue.finish(session, row, result)
        self.completed = True

    def payload(self) -> tuple[str, bytes]:
        """The file queued with the job (name, bytes)."""
        with Session(self.engine) as session:
            found = queue.payload_of(session, self.job_id)
            if found is None:
                raise RuntimeError(f"job {self.job_id} has no payload")
            return found.name, bytes(found.data)


_QUICK: dict[str, Engine] = {}
QUICK_BUSY_MS = 200


def quick_engine(engine: Engine) -> Engine:
    """An engine for progress writes that gives up quickly when the database is busy. On SQLite
    the job itself may hold the one write lock (an import writing its records): waiting for it
    from the same thread would only stall the job, so that progress write is skipped. On
    PostgreSQL rows are locked one by one and the job's engine is used as it is."""
    if engine.dialect.name != "sqlite":
        return engine
    key = str(engine.url)
    found = _QUICK.get(key)
    if found is None:
        found = make_engine(key)

        @event.listens_for(found, "connect")
        def _impatient(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={QUICK_BUSY_MS}")
            cursor.close()

        _QUICK[key] = found
    return found


@dataclass(frozen=True)
class Kind:
    """A kind of job: ``run`` does the work and returns what to keep as the result; ``failed``
    marks the record the job works on failed, in the transaction that fails the job."""

    name: str
    run: Callable[[Context], Mapping[str, Any] | None]
    failed: Callable[[Session, Job, str], None] | None = None
    max_attempts: int = queue.MAX_ATTEMPTS


KINDS: dict[str, Kind] = {}


def kind(
    name: str,
    *,
    failed: Callable[[Session, Job, str], None] | None = None,
    max_attempts: int = queue.MAX_ATTEMPTS,
) -> Callable[[Callable[[Context], Mapping[str, Any] | None]], Kind]:
    """Declare a kind of job: ``@kind("import") def bundle_import(ctx): …``."""

    def register(run: Callable[[Context], Mapping[str, Any] | None]) -> Kind:
        declared = Kind(name, run, failed, max_attempts)
        KINDS[name] = declared
        return declared

    return register


def registry() -> dict[str, Kind]:
    """Every kind of job (:mod:`sscmatch.jobs.kinds` declares them when first imported)."""
    from sscmatch.jobs import kinds  # noqa: F401  (kinds imports this module: declared on first use)

    return KINDS


# ----------------------------------------------------------------------------- handing over


def submit(
    session: Session,
    name: str,
    params: Mapping[str, Any],
    *,
    subject: str | None = None,
    user_id: int | None = None,
    payload: tuple[str, bytes] | None = None,
    unique_key: str | None = None,
) -> Job:
    """Queue a job of kind ``name`` in the caller's transaction; call :func:`start` after the
    commit."""
    declared = registry()[name]
    return queue.enqueue(
        session,
        name,
        params,
        subject=subject,
        user_id=user_id,
        payload=payload,
        unique_key=unique_key,
        max_attempts=declared.max_attempts,
    )


def sync_mode(app: Flask) -> bool:
    """Whether jobs are carried out inside the request that starts them (``JOBS_SYNC``; unset:
    only when testing)."""
    value = app.config.get("JOBS_SYNC")
    return bool(app.testing if value is None else value)


def start(job: Job) -> None:
    """Hand a committed job over: a worker takes it, or it is carried out now (``JOBS_SYNC``)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not sync_mode(app):
        return
    assert job.id is not None
    engine: Engine = app.extensions["sscmatch.engine"]
    worker = this_worker()
    with Session(engine, expire_on_commit=False) as session:
        claimed = queue.claim(session, worker, job_id=job.id)
        session.commit()
    while claimed is not None:
        execute(app, claimed, worker)
        claimed = _again(engine, job.id, worker)


def _again(engine: Engine, job_id: int, worker: str) -> Job | None:
    """In ``JOBS_SYNC``, where no worker takes a job queued again after a database error that
    passes: wait as a worker would, then claim it for its next attempt."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Job, job_id)
        when = queue.retry_at(row) if row is not None else None
    if when is None:
        return None
    time.sleep(max(0.0, (when - utcnow()).total_seconds()))
    with Session(engine, expire_on_commit=False) as session:
        claimed = queue.claim(session, worker, job_id=job_id)
        session.commit()
    return claimed


# ----------------------------------------------------------------------------- carrying out


def execute(app: Flask, job: Job, worker: str) -> None:
    """Carry out a claimed job and record its outcome (commits). ``KeyboardInterrupt`` and
    :class:`SystemExit` (a worker asked to stop) give the job back to the queue and go on."""
    assert job.id is not None
    engine: Engine = app.extensions["sscmatch.engine"]
    declared = registry().get(job.kind)
    ctx = Context(
        engine=engine,
        job_id=job.id,
        params=dict(job.params),
        user_id=job.created_by,
        worker=worker,
        config=app.config,
        instance_path=app.instance_path,
    )
    try:
        if declared is None:
            raise Refused(f"unknown kind of job {job.kind!r}", {})
        result = declared.run(ctx)
    except (KeyboardInterrupt, SystemExit):
        _end(engine, job.id, worker, lambda s, row: queue.release(s, row))
        raise
    except Lost:
        log.warning("job %s was given to another attempt; this one stored nothing", job.id)
        return
    except Refused as exc:
        _fail(engine, job.id, worker, str(exc), exc.result)
        return
    except Exception as exc:  # a job must end, failed with its reason, rather than run forever
        if is_transient(exc) and job.attempts < job.max_attempts:
            reason = _reason(exc)
            log.warning("job %s (%s) attempt %s: %s", job.id, job.kind, job.attempts, reason)
            _end(engine, job.id, worker, lambda s, row: queue.retry_later(s, row, reason))
            return
        log.exception("job %s (%s) failed", job.id, job.kind)
        _fail(engine, job.id, worker, _reason(exc), None)
        return
    if not ctx.completed:
        _end(engine, job.id, worker, lambda s, row: queue.finish(s, row, result))


def _reason(exc: BaseException) -> str:
    """An error as a job keeps it: its class and first line (a database error's message goes
    on with the statement and its parameters, which are not the user's business)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"


OUTCOME_TRIES = 5
"""Tries of the short transaction that records a job's outcome when the database is busy."""


def _end(
    engine: Engine, job_id: int, worker: str, record: Callable[[Session, Job], object]
) -> None:
    """Record a job's outcome, if the job is still this worker's (one taken as interrupted
    meanwhile belongs to its next attempt). A database error that passes is met by trying
    again, a little later each time: a worker that cannot record an outcome would otherwise
    stop, and its job wait to be taken as interrupted."""
    for attempt in range(1, OUTCOME_TRIES + 1):
        try:
            with VersionedSession(engine, expire_on_commit=False) as session:
                row = queue.hold(session, job_id, worker)
                if row is None:
                    log.warning(
                        "job %s is no longer held by %s: outcome not recorded", job_id, worker
                    )
                    return
                record(session, row)
                session.commit()
                return
        except Exception as exc:
            if attempt == OUTCOME_TRIES or not is_transient(exc):
                raise
            log.info("outcome of job %s not recorded yet (%s); trying again", job_id, exc)
            time.sleep(0.2 * attempt)


def _fail(
    engine: Engine, job_id: int, worker: str, error: str, result: Mapping[str, Any] | None
) -> None:
    def record(session: Session, row: Job) -> None:
        queue.fail(session, row, error, result)
        _subject_failed(session, row, error)

    _end(engine, job_id, worker, record)


def _subject_failed(session: Session, job: Job, error: str) -> None:
    declared = registry().get(job.kind)
    if declared is not None and declared.failed is not None:
        declared.failed(session, job, error)


def recover(engine: Engine, fresh_worker: str | None = None) -> list[int]:
    """Queue again the jobs of workers that stopped, or fail them after their last attempt
    (with their record); returns their ids. Safe to call from any process at any time."""
    with VersionedSession(engine, expire_on_commit=False) as session:
        found = []
        for candidate, what in queue.interrupted(session, fresh_worker=fresh_worker):
            assert candidate.id is not None
            job = queue.hold(session, candidate.id, candidate.worker)
            if job is None:  # it ended meanwhile, or another process recovered it first
                continue
            found.append((job, what))
            if job.attempts < job.max_attempts:
                queue.requeue(session, job, f"attempt {job.attempts} interrupted ({what})")
            else:
                error = (
                    f"{queue.INTERRUPTED} ({what}; attempt {job.attempts} of {job.max_attempts})"
                )
                queue.fail(session, job, error)
                _subject_failed(session, job, error)
        session.commit()
    if found:
        log.warning("jobs of stopped workers recovered: %s", [j.id for j, _ in found])
    return [job.id or 0 for job, _ in found]


def while_running(record: Any, state: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """The state of the job beside ``record`` (a run or a calibration) while the record runs:
    None once it has ended, also when reading the job found it ended meanwhile (``state`` may
    read the record again: ``workflow.jobs.job_beside``). A finished record's page asks nothing."""
    if record.status != "running":
        return None
    found = state()
    return found if record.status == "running" else None


def status(session: Session, job: Job) -> dict[str, Any]:
    """A job's state for pages and the API, with whether a worker is there to take it."""
    return queue.summary(job, bool(queue.live_workers(session)))
