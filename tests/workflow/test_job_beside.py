"""A record computed by a job (a match run, a calibration) and its job are ended by the worker
in one transaction, but every reader reads them in two statements, which can fall either side
of that commit. Walked for every such kind, in both directions a reader takes:

- showing progress (the job read before the record): a finished record never comes with its
  job "running" (seen in CI on PostgreSQL at the end of a run);
- sweeping runs that no job will finish (the record read before its job): a record whose job
  has just ended with it is not taken as orphaned and failed over its stored result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from sscmatch.models import Calibration, MatchRun
from sscmatch.workflow import calibrations, matchruns
from sscmatch.workflow import jobs as queue


@dataclass(frozen=True)
class Kind:
    model: type[Any]
    begin: Callable[[Session], Any]
    end: Callable[[Session, Any], None]  # what the worker stores at the end, but the job
    module: Any  # its workflow module: sweep_interrupted, and the job_beside it calls


def _end_calibration(session: Session, row: Calibration) -> None:
    row.status = "done"  # what the worker's finish sets, with the weights it found
    session.add(row)


KINDS = {
    "match_run": Kind(
        MatchRun,
        lambda s: matchruns.begin_run(s, top_k=3),
        lambda s, run: matchruns.finish_run(s, run, [], None),
        matchruns,
    ),
    "calibration": Kind(
        Calibration,
        lambda s: calibrations.begin(s, today=date(2026, 1, 1)),
        _end_calibration,
        calibrations,
    ),
}


def _begun(kind: str, session: Session) -> tuple[int, str]:
    record = KINDS[kind].begin(session)
    subject = f"{kind}:{record.id}"
    queue.enqueue(session, kind, {}, subject=subject)
    session.commit()
    return record.id, subject


def _worker_ends(kind: str, engine: Any, record_id: int, subject: str) -> None:
    """What the worker does at the end: record and job, one commit."""
    with Session(engine) as worker:
        record = worker.get(KINDS[kind].model, record_id)
        job = queue.job_of(worker, subject)
        assert record is not None and job is not None
        KINDS[kind].end(worker, record)
        job.status = queue.DONE
        worker.add(job)
        worker.commit()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_progress_never_shows_a_finished_record_beside_a_running_job(
    kind: str, session: Session
) -> None:
    record_id, subject = _begun(kind, session)
    with Session(session.get_bind()) as reader:
        early = queue.job_of(reader, subject)  # the reader's first statement…
        assert early is not None and early.status == queue.QUEUED
        _worker_ends(kind, session.get_bind(), record_id, subject)  # …then the commit
        record = reader.get(KINDS[kind].model, record_id)
        assert record is not None and record.status == "done"
        job = queue.job_beside(reader, subject, record)
        assert job is not None and job.status == queue.DONE


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_sweep_never_fails_a_record_whose_job_ended_with_it(
    kind: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_id, subject = _begun(kind, session)
    engine = session.get_bind()
    module = KINDS[kind].module
    real = module.job_beside

    def commit_lands_between(s: Session, subj: str, record: Any) -> Any:
        _worker_ends(kind, engine, record_id, subject)  # after the sweep read the record running
        return real(s, subj, record)

    monkeypatch.setattr(module, "job_beside", commit_lands_between)
    with Session(engine) as sweeper:
        assert module.sweep_interrupted(sweeper) == []
        sweeper.commit()
    with Session(engine) as after:
        record = after.get(KINDS[kind].model, record_id)
        assert record is not None and record.status == "done" and not record.error


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_sweep_still_fails_a_record_no_job_will_finish(kind: str, session: Session) -> None:
    record_id, subject = _begun(kind, session)
    with Session(session.get_bind()) as worker:
        job = queue.job_of(worker, subject)
        assert job is not None
        job.status = queue.FAILED  # ended without its record (a job deleted or a bug)
        worker.add(job)
        worker.commit()
    with Session(session.get_bind()) as sweeper:
        assert KINDS[kind].module.sweep_interrupted(sweeper) == [record_id]
        sweeper.commit()
        record = sweeper.get(KINDS[kind].model, record_id)
        assert record is not None and record.status == "failed"
