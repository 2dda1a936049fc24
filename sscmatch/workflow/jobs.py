"""The job queue: long work is done by worker processes (``sscmatch worker``), not web requests.

A :class:`~sscmatch.models.Job` row is at once the queue entry, the progress that every web
server reads and the outcome. It moves ``queued`` → ``running`` → ``done`` or ``failed``:

- **Queued** in the same transaction as the record it works on (a match run, a calibration) or
  with the file it reads (an uploaded bundle, in ``job_payload``): a job is never lost between a
  commit and a hand-over, and never exists without its record.
- **Claimed** by one worker: a ``SELECT … FOR UPDATE SKIP LOCKED`` finds the oldest queued job
  (on PostgreSQL, workers skip each other's rows; SQLAlchemy leaves the clause out on SQLite,
  whose database lock serialises writers), then ``UPDATE … WHERE status = 'queued'`` takes it:
  that condition makes a claim exclusive on both databases, however many workers ask at once.
- **Progress** (a step, done of total) is written by the worker in short transactions of its
  own while the work goes on in another.
- **Workers sign** every :data:`BEAT` in ``job_worker``. A running job whose worker stopped
  signing for :data:`STALE_AFTER`, or whose process is gone (checked at once on the same host),
  was interrupted (a killed or crashed worker, a lost host): :func:`interrupted` finds it, and
  it is queued again until it has had ``max_attempts`` attempts, then failed with the reason.
  The work of an interrupted attempt was never committed (each job commits its result at the
  end, in one transaction), so trying again is safe.

Nothing here commits: the edge (:mod:`sscmatch.jobs`) does, after each step.

Why our own table rather than a job library: procrastinate keeps its queue in PostgreSQL only
(PL/pgSQL functions, LISTEN/NOTIFY), so the SQLite default of ``scripts/run`` would need a second
engine; RQ, Dramatiq and Celery need Redis or RabbitMQ, a second service to run; huey runs on
SQLite and (through peewee) PostgreSQL, but deletes a task when a consumer takes it, so a killed
worker's task is lost, and it keeps its queue in tables outside our migrations, written by a
second database driver, which could not join the transaction of the record the job works on.
Each would still need this table for progress, outcome and recovery; with it, the queue itself
is the one claim statement above.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from sscmatch.models import Job, JobPayload, JobWorker, utcnow
from sscmatch.schemas import moment_text
from sscmatch.workflow.base import N_, DomainError
from sscmatch.workflow.workers import process_gone

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = (DONE, FAILED)
BEAT = timedelta(seconds=5)
"""How often a worker signs (``job_worker.seen_at``)."""
STALE_AFTER = timedelta(seconds=90)
"""A worker of another host silent this long is taken as gone. Long enough for a signature that
waits behind another writer on SQLite."""
STALE_HERE_AFTER = timedelta(minutes=30)
"""A worker of this host is gone as soon as its process is; one whose process id still exists
but that has not signed for this long is taken as gone too (the id was given to another
process after the worker died)."""
INTERRUPTED = (
    "interrupted: the worker computing it stopped (killed, crashed or its host lost) before it "
    "finished; nothing of it was stored"
)
"""The error of a job whose last attempt was interrupted (pages translate it)."""
MAX_ATTEMPTS = 3
"""Attempts of a job unless its kind says otherwise. An attempt interrupted (its worker
stopped) or ended by a database error that passes (busy, a deadlock, the connection lost:
:func:`sscmatch.db.is_transient`) is followed by another, until this many were made."""
BUSY = "the database was busy or out of reach"
"""Why an attempt met a database error that passes (in the job's error)."""
FIRST_RETRY_AFTER = timedelta(seconds=5)
LAST_RETRY_AFTER = timedelta(minutes=10)


class JobError(DomainError):
    """A job that cannot be queued as asked (nothing was written)."""


def enqueue(
    session: Session,
    kind: str,
    params: Mapping[str, Any],
    *,
    subject: str | None = None,
    user_id: int | None = None,
    payload: tuple[str, bytes] | None = None,
    unique_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> Job:
    """Queue a job (the caller commits, with the record it works on). ``payload`` is a file
    (name, bytes) the job reads; ``unique_key`` allows one job per key ever (a second insert
    of the key raises the database's IntegrityError)."""
    if max_attempts < 1:
        raise JobError(N_("max_attempts must be 1 or more"))
    job = Job(
        kind=kind,
        params=dict(params),
        subject=subject,
        created_by=user_id,
        unique_key=unique_key,
        run_after=run_after or utcnow(),
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    if payload is not None:
        assert job.id is not None
        session.add(JobPayload(job_id=job.id, name=payload[0], data=payload[1]))
        session.flush()
    return job


def claim(
    session: Session, worker: str, job_id: int | None = None, now: datetime | None = None
) -> Job | None:
    """Take the oldest queued job that is due (or the queued job ``job_id``) for ``worker``:
    running, one more attempt, progress cleared. None when there is none, or another worker took
    it first (the caller commits, then asks again)."""
    now = now or utcnow()
    query = select(Job.id).where(Job.status == QUEUED)
    if job_id is not None:
        query = query.where(Job.id == job_id)
    else:
        query = query.where(col(Job.run_after) <= now).order_by(col(Job.id)).limit(1)
    found = session.exec(query.with_for_update(skip_locked=True)).first()
    if found is None:
        return None
    taken = session.execute(
        update(Job)
        .where(col(Job.id) == found, col(Job.status) == QUEUED)
        .values(
            status=RUNNING,
            worker=worker,
            started_at=now,
            attempts=col(Job.attempts) + 1,
            step=None,
            done=0,
            total=0,
            progress_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # another worker was first
        return None
    job = session.get(Job, found, populate_existing=True)
    return job


def record_progress(
    session: Session, job_id: int, worker: str, step: str, done: int, total: int
) -> bool:
    """Write how far ``worker`` has come with ``job_id``; False when the job is no longer its
    own (it was taken as interrupted and given to another worker)."""
    moved = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.worker) == worker, col(Job.status) == RUNNING)
        .values(step=step[:40], done=max(0, done), total=max(0, total), progress_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def hold(session: Session, job_id: int, worker: str | None) -> Job | None:
    """``job_id`` if ``worker`` still holds it (running, under its name), locked in the
    caller's transaction until it commits; None otherwise. Every change of a running job's
    outcome goes through it: the conditional UPDATE takes the row's lock on PostgreSQL (the
    database's write lock on SQLite) and checks the holder in the same statement, so of an
    attempt finishing and a recovery taking it as interrupted, exactly one wins."""
    holder = col(Job.worker).is_(None) if worker is None else col(Job.worker) == worker
    taken = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, holder, col(Job.status) == RUNNING)
        .values(progress_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Job, job_id, populate_existing=True)


def owns(session: Session, job_id: int, worker: str) -> bool:
    """Whether ``worker`` still holds ``job_id`` (running, under its name)."""
    found = session.exec(select(Job.worker, Job.status).where(Job.id == job_id)).first()
    return found is not None and found[0] == worker and found[1] == RUNNING


def finish(session: Session, job: Job, result: Mapping[str, Any] | None = None) -> None:
    """Mark ``job`` done with its result; its payload is no longer needed. ``error`` keeps the
    note of an earlier attempt that was interrupted, if any."""
    job.status, job.finished_at = DONE, utcnow()
    job.result = dict(result) if result is not None else None
    if job.total:
        job.done = job.total
    session.add(job)
    _drop_payload(session, job)


def fail(session: Session, job: Job, error: str, result: Mapping[str, Any] | None = None) -> None:
    """Mark ``job`` failed with its reason (and what the caller wants kept, such as the
    problems of a refused bundle); no further attempt is made."""
    job.status, job.finished_at = FAILED, utcnow()
    job.error = (error or "the job failed")[:2000]
    if result is not None:
        job.result = dict(result)
    session.add(job)
    _drop_payload(session, job)


def release(session: Session, job: Job) -> None:
    """Give ``job`` back to the queue, the attempt not counted: its worker is stopping on
    request (a restart), not failing."""
    job.status, job.worker, job.started_at = QUEUED, None, None
    job.attempts = max(0, job.attempts - 1)
    job.step, job.done, job.total = None, 0, 0
    session.add(job)


def requeue(session: Session, job: Job, reason: str) -> None:
    """Queue an interrupted ``job`` again for another attempt, noting why."""
    job.status, job.worker, job.started_at = QUEUED, None, None
    job.step, job.done, job.total = None, 0, 0
    job.error = reason[:2000]
    session.add(job)


def retry_delay(attempt: int) -> timedelta:
    """How long a job waits after its attempt number ``attempt`` met a database error that
    passes: longer each time (5 s, 30 s, 3 min, then 10 min), so that a database busy for a
    while is not asked again at once by every worker."""
    growth: int = 6 ** max(0, attempt - 1)
    return min(FIRST_RETRY_AFTER * growth, LAST_RETRY_AFTER)


def retry_later(session: Session, job: Job, reason: str, now: datetime | None = None) -> datetime:
    """Queue ``job`` again after its attempt met a database error that passes: taken again
    once :func:`retry_delay` has passed (``run_after``), noting why; returns when. The work
    of the attempt was rolled back with its transaction: the next one starts clean."""
    now = now or utcnow()
    when = now + retry_delay(job.attempts)
    if when.microsecond:  # a whole second, as the note says it, and never sooner
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    job.status, job.worker, job.started_at = QUEUED, None, None
    job.step, job.done, job.total = None, 0, 0
    job.run_after, job.progress_at = when, now
    job.error = (
        f"attempt {job.attempts} of {job.max_attempts} failed: {BUSY} ({reason}); "
        f"tried again after {moment_text(when)}"
    )[:2000]
    session.add(job)
    return when


def retry_at(job: Job) -> datetime | None:
    """When a job queued again after a database error that passes is tried next; None for
    any other job. Such a job's ``run_after`` lies after the attempt's last sign
    (``progress_at``); that of a job queued again after an interruption lies before it."""
    if job.status != QUEUED or not job.attempts or job.progress_at is None:
        return None
    return job.run_after if job.run_after > job.progress_at else None


def _drop_payload(session: Session, job: Job) -> None:
    if job.id is not None:
        session.execute(delete(JobPayload).where(col(JobPayload.job_id) == job.id))


def payload_of(session: Session, job_id: int) -> JobPayload | None:
    return session.get(JobPayload, job_id)


# ----------------------------------------------------------------------------- workers


def sign(session: Session, worker: str, job_id: int | None, now: datetime | None = None) -> None:
    """Record that ``worker`` is alive (and which job it is on)."""
    now = now or utcnow()
    moved = session.execute(
        update(JobWorker)
        .where(col(JobWorker.name) == worker)
        .values(seen_at=now, job_id=job_id)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        session.add(JobWorker(name=worker, started_at=now, seen_at=now, job_id=job_id))
        session.flush()


def retire(session: Session, worker: str) -> None:
    """Forget ``worker`` (it stopped cleanly, having released or finished its job)."""
    session.execute(delete(JobWorker).where(col(JobWorker.name) == worker))


def alive(row: JobWorker, now: datetime) -> bool:
    """Whether a worker is taken as alive: on this host, while its process exists (and it
    signed within :data:`STALE_HERE_AFTER`); elsewhere, while it signs (:data:`STALE_AFTER`)."""
    silent = now - row.seen_at
    if _this_host(row.name):
        return not process_gone(row.name) and silent <= STALE_HERE_AFTER
    return silent <= STALE_AFTER


def live_workers(session: Session, now: datetime | None = None) -> list[JobWorker]:
    now = now or utcnow()
    return [
        w for w in session.exec(select(JobWorker).order_by(col(JobWorker.name))) if alive(w, now)
    ]


def interrupted(
    session: Session, now: datetime | None = None, fresh_worker: str | None = None
) -> list[tuple[Job, str]]:
    """Running jobs whose worker is gone, each with what happened; the gone workers' rows are
    forgotten. ``fresh_worker`` names a worker process starting now: a job still held under its
    name was held by an earlier process that had the same id (a restarted container reuses
    process ids). The caller queues each job again or fails it, then commits.

    A running job whose worker has no row is computed inside a web request (``JOBS_SYNC``):
    gone when that process is."""
    now = now or utcnow()
    running = session.exec(select(Job).where(Job.status == RUNNING).order_by(col(Job.id))).all()
    workers = {w.name: w for w in session.exec(select(JobWorker))}
    gone = {name for name, w in workers.items() if not alive(w, now)}
    found = []
    for job in running:
        name = job.worker or ""
        row = workers.get(name)
        if name == fresh_worker:
            dead = True
        elif row is not None:
            dead = name in gone
        else:
            dead = not name or process_gone(name) or not _this_host(name)
        if dead:
            found.append((job, f"worker {name or '?'} stopped"))
    for name in gone:
        session.execute(delete(JobWorker).where(col(JobWorker.name) == name))
    return found


def _this_host(worker: str) -> bool:
    return worker.rpartition(":")[0] == socket.gethostname()


# ----------------------------------------------------------------------------- reading


def job_of(session: Session, subject: str) -> Job | None:
    """The latest job working on ``subject`` (``match_run:12``)."""
    query = select(Job).where(Job.subject == subject).order_by(col(Job.id).desc()).limit(1)
    return session.exec(query).first()


def job_beside(session: Session, subject: str, record: Any) -> Job | None:
    """The latest job working on ``subject``, read so that it agrees with ``record`` (a match
    run or a calibration: ``status`` "running" until it ends). The worker ends a record and its
    job in one transaction, but two reads may fall either side of that commit, and a decision
    taken on a mixed pair is wrong: a finished run shown beside its job "running", or a run
    whose job has just ended taken as orphaned and failed over its stored result. A record never
    goes back to running, and its job never ends before it in a commit, so whichever of the
    two looks further on is right and the other is read again."""
    job = job_of(session, subject)
    if job is None:
        return None
    if record.status == "running" and job.status in FINISHED:
        session.refresh(record)
    elif record.status != "running" and job.status not in FINISHED:
        session.refresh(job)
    return job


def summary(job: Job, workers_alive: bool) -> dict[str, Any]:
    """What pages and the API show of a job: its state, progress, attempts, and whether it
    waits for a worker that nobody started."""
    percent = round(100 * job.done / job.total) if job.total else 0
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.status,
        "finished": job.status in FINISHED,
        "step": job.step,
        "done": job.done,
        "total": job.total,
        "percent": min(100, percent),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "retried": job.attempts > 1 or (job.status == QUEUED and job.attempts > 0),
        "retry_at": moment_text(when) if (when := retry_at(job)) else None,
        "worker": job.worker,
        "waiting_for_worker": job.status == QUEUED and not workers_alive,
        "error": job.error,
        "created_at": moment_text(job.created_at),
        "started_at": moment_text(job.started_at) if job.started_at else None,
        "finished_at": moment_text(job.finished_at) if job.finished_at else None,
    }
