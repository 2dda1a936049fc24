"""The job queue and its worker (sscmatch.workflow.jobs, sscmatch.jobs), on SQLite and PostgreSQL:
exclusive claims under concurrent workers, progress, the outcome stored with the job's end,
recovery of a stopped worker's job (again, then failed with the reason and its record), release
on a requested stop, the daily reminders, and the worker loop."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sscmatch import jobs
from sscmatch.bundle import import_bundle
from sscmatch.db import VersionedSession
from sscmatch.jobs.worker import remind_time, run_worker, schedule_reminders
from sscmatch.models import Job, JobPayload, JobWorker, MatchRun, Proposal, utcnow
from sscmatch.vocab import load_vocabulary
from sscmatch.web.matching import queue_run
from sscmatch.workflow import jobs as queue
from sscmatch.workflow import matchruns

ROOT = Path(__file__).resolve().parents[1]


def _engine(app: Flask) -> Engine:
    engine: Engine = app.extensions["sscmatch.engine"]
    return engine


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _claimed(engine: Engine, params: dict[str, Any], worker: str) -> Job:
    """A probe job queued, then claimed by ``worker``."""
    with Session(engine, expire_on_commit=False) as s:
        jobs.submit(s, "probe", params)
        s.commit()
        claimed = queue.claim(s, worker)
        s.commit()
    assert claimed is not None
    return claimed


@pytest.fixture
def probe() -> Any:
    """A kind of job for these tests: does what its params say, records what it saw."""
    seen: list[dict[str, Any]] = []

    def run(ctx: jobs.Context) -> Mapping[str, Any] | None:
        seen.append(dict(ctx.params))
        action = ctx.params.get("do")
        if action == "progress":
            for done in range(0, 11):
                ctx.progress("counting", done, 10)
        if action == "boom":
            raise RuntimeError("the disk is on fire")
        if action == "refuse":
            raise jobs.Refused("3 problems", {"problems": ["a", "b", "c"]})
        if action == "stop":
            raise KeyboardInterrupt
        if action == "payload":
            name, data = ctx.payload()
            return {"name": name, "size": len(data)}
        return {"echo": ctx.params.get("value")}

    declared = jobs.kind("probe")(run)
    yield seen
    jobs.KINDS.pop(declared.name, None)


def test_a_job_is_claimed_once_whoever_asks(app: Flask, probe: list[Any]) -> None:
    """Four workers claim at once, on real concurrent connections: every job is taken by
    exactly one of them, in the order queued."""
    engine = _engine(app)
    with Session(engine, expire_on_commit=False) as s:
        ids = [jobs.submit(s, "probe", {"value": n}).id for n in range(12)]
        s.commit()
    taken: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        mine = taken.setdefault(name, [])
        start.wait()
        misses = 0
        while misses < 3:
            with Session(engine, expire_on_commit=False) as s:
                job = queue.claim(s, name)
                s.commit()
            if job is None:
                misses += 1
                continue
            mine.append(job.id or 0)

    threads = [threading.Thread(target=claimer, args=(f"w{n}:1",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    claimed = sorted(i for got in taken.values() for i in got)
    assert claimed == sorted(ids)  # none lost, none twice
    with Session(engine, expire_on_commit=False) as s:
        rows = s.exec(select(Job).order_by(col(Job.id))).all()
    assert {r.status for r in rows} == {"running"} and {r.attempts for r in rows} == {1}
    for name, got in taken.items():
        assert got == sorted(got)  # each worker took the oldest left
        assert all(r.worker == name for r in rows if r.id in got)


def test_outcomes_progress_and_payload(app: Flask, probe: list[Any]) -> None:
    engine = _engine(app)
    with app.test_request_context():
        with Session(engine, expire_on_commit=False) as s:
            fine = jobs.submit(s, "probe", {"value": 7, "do": "progress"}, user_id=None)
            boom = jobs.submit(s, "probe", {"do": "boom"})
            refused = jobs.submit(s, "probe", {"do": "refuse"})
            carried = jobs.submit(s, "probe", {"do": "payload"}, payload=("b.json", b"x" * 5000))
            s.commit()
        for job in (fine, boom, refused, carried):
            jobs.start(job)  # testing: carried out at once, through the worker's own path
    with Session(engine, expire_on_commit=False) as s:
        fine, boom, refused, carried = (s.get(Job, j.id) for j in (fine, boom, refused, carried))
        assert fine and (fine.status, fine.result, fine.attempts) == ("done", {"echo": 7}, 1)
        assert (fine.step, fine.done, fine.total) == ("counting", 10, 10)
        assert boom and boom.status == "failed" and boom.attempts == 1
        assert boom.error == "RuntimeError: the disk is on fire"
        assert refused and refused.status == "failed" and refused.error == "3 problems"
        assert refused.result == {"problems": ["a", "b", "c"]}
        assert carried and carried.result == {"name": "b.json", "size": 5000}
        assert s.exec(select(JobPayload)).all() == []  # dropped when the job ended
        summary = jobs.status(s, fine)
    assert summary["state"] == "done" and summary["finished"] and summary["percent"] == 100
    assert not summary["waiting_for_worker"]


def test_progress_is_written_by_the_holder_only(app: Flask, probe: list[Any]) -> None:
    engine = _engine(app)
    with Session(engine, expire_on_commit=False) as s:
        job = jobs.submit(s, "probe", {})
        s.commit()
        claimed = queue.claim(s, "me:1")
        s.commit()
        assert claimed is not None and claimed.id == job.id
        assert queue.record_progress(s, claimed.id, "me:1", "step", 3, 9)
        assert not queue.record_progress(s, claimed.id, "someone-else:2", "step", 9, 9)
        s.commit()
        s.refresh(claimed)
        assert (claimed.step, claimed.done, claimed.total) == ("step", 3, 9)


def test_a_stopped_workers_job_is_tried_again_then_failed_with_its_run(
    app: Flask, session: Session
) -> None:
    """The job of a worker whose process is gone is queued again (its attempt counted); after
    its last attempt it is failed with the reason, and so is the match run it computes."""
    engine = _engine(app)
    import_bundle(session, ROOT / "data", load_vocabulary())
    run = matchruns.begin_run(session, need_ids=["s002-n37"], top_k=3, user_id=None)
    job = queue_run(session, run, ["s002-n37"], None)
    session.commit()
    here = socket.gethostname()
    for attempt in (1, 2, 3):  # queue.MAX_ATTEMPTS
        dead = f"{here}:{_dead_pid()}"
        with Session(engine, expire_on_commit=False) as s:
            queue.sign(s, dead, job.id)
            assert queue.claim(s, dead) is not None
            s.commit()
        assert jobs.recover(engine) == [job.id]
        session.expire_all()
        row = session.get(Job, job.id)
        assert row is not None and row.attempts == attempt
        assert session.get(JobWorker, dead) is None  # the gone worker is forgotten
        if attempt < 3:
            assert row.status == "queued" and row.worker is None
            assert row.error == f"attempt {attempt} interrupted (worker {dead} stopped)"
            assert session.get(MatchRun, run.id).status == "running"  # type: ignore[union-attr]
    assert row.status == "failed" and row.error.startswith(queue.INTERRUPTED)  # type: ignore[union-attr]
    assert "attempt 3 of 3" in (row.error or "")
    failed = session.get(MatchRun, run.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error == row.error
    assert jobs.recover(engine) == []  # nothing more to do


def test_workers_of_other_hosts_are_judged_by_their_signature(app: Flask, probe: list[Any]) -> None:
    engine = _engine(app)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s:
        quiet, busy = (jobs.submit(s, "probe", {}) for _ in range(2))
        s.commit()
        for name, job, seen in (
            ("far-away:1", quiet, now - queue.STALE_AFTER - timedelta(seconds=1)),
            ("far-away:2", busy, now),
        ):
            queue.sign(s, name, job.id, now=seen)
            assert queue.claim(s, name, job_id=job.id) is not None
        s.commit()
    assert jobs.recover(engine) == [quiet.id]
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Job, quiet.id).status == "queued"  # type: ignore[union-attr]
        assert s.get(Job, busy.id).status == "running"  # type: ignore[union-attr]
        assert [w.name for w in queue.live_workers(s)] == ["far-away:2"]


def test_a_process_id_given_again_does_not_keep_an_old_job(app: Flask, probe: list[Any]) -> None:
    """A worker starting under the name (host:pid) of one that died (a restarted container)
    frees the jobs still held under that name."""
    engine = _engine(app)
    with Session(engine, expire_on_commit=False) as s:
        job = jobs.submit(s, "probe", {"value": 1})
        s.commit()
        me = f"{socket.gethostname()}:{__import__('os').getpid()}"
        queue.sign(s, me, job.id)
        assert queue.claim(s, me) is not None
        s.commit()
    assert jobs.recover(engine) == []  # this process exists: taken as alive
    assert jobs.recover(engine, fresh_worker=me) == [job.id]


def test_an_attempt_taken_as_interrupted_stores_nothing(app: Flask, session: Session) -> None:
    """A worker that was taken for dead while it still worked (its host cut off) finds at the
    end that its job belongs to the next attempt: the proposals are stored once, by that one."""
    engine = _engine(app)
    import_bundle(session, ROOT / "data", load_vocabulary())
    run = matchruns.begin_run(session, need_ids=["s002-n37"], top_k=3, user_id=None)
    job = queue_run(session, run, ["s002-n37"], None)
    session.commit()
    with Session(engine, expire_on_commit=False) as s:
        first = queue.claim(s, "slow-host:1")
        s.commit()
    assert first is not None
    with Session(
        engine, expire_on_commit=False
    ) as s:  # taken as interrupted, and claimed again by another worker
        row = s.get(Job, job.id)
        assert row is not None
        queue.requeue(s, row, "taken as interrupted")
        s.commit()
        second = queue.claim(s, "other-host:2")
        s.commit()
    assert second is not None
    jobs.execute(app, first, "slow-host:1")  # the first attempt ends after all
    session.expire_all()
    assert session.exec(select(Proposal)).all() == []  # it stored nothing
    assert session.get(Job, job.id).worker == "other-host:2"  # type: ignore[union-attr]
    jobs.execute(app, second, "other-host:2")
    session.expire_all()
    stored = session.exec(select(Proposal)).all()
    done = session.get(MatchRun, run.id)
    assert done is not None and done.status == "done" and len(stored) == done.proposal_count == 3
    assert session.get(Job, job.id).status == "done"  # type: ignore[union-attr]


def test_a_stop_request_gives_the_job_back(app: Flask, probe: list[Any]) -> None:
    engine = _engine(app)
    job = claimed = _claimed(engine, {"do": "stop"}, "me:1")
    with pytest.raises(KeyboardInterrupt):
        jobs.execute(app, claimed, "me:1")
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Job, job.id)
        assert row is not None and (row.status, row.attempts, row.worker) == ("queued", 0, None)


def test_the_days_reminders_are_queued_once(app: Flask) -> None:
    engine = _engine(app)
    app.config["TODAY"] = "2026-07-15"
    early = datetime(2026, 7, 15, 6, 59, tzinfo=UTC)
    late = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)
    assert remind_time(app) is not None
    assert schedule_reminders(app, early) is None
    first = schedule_reminders(app, late)
    assert first is not None and first.unique_key == "reminders:2026-07-15"
    assert schedule_reminders(app, late) is None
    app.config["REMIND_AT"] = "off"
    assert remind_time(app) is None and schedule_reminders(app, late) is None
    app.config["REMIND_AT"] = "7 o'clock"
    with pytest.raises(ValueError, match="REMIND_AT must be a time"):
        remind_time(app)
    with Session(engine, expire_on_commit=False) as s:
        assert len(s.exec(select(Job)).all()) == 1


def test_the_worker_carries_out_everything_queued(app: Flask, session: Session) -> None:
    """``run_worker(once=True)``: a match run queued by the page's path and the day's
    reminders, each done, the digests written where the command writes them."""
    import_bundle(session, ROOT / "data", load_vocabulary())
    run = matchruns.begin_run(session, need_ids=["s002-n37", "s000-n01"], top_k=2, user_id=None)
    queue_run(session, run, ["s002-n37", "s000-n01"], None)
    session.commit()
    app.config.update(TODAY="2026-07-15", REMIND_AT="00:00")
    assert run_worker(app, once=True, name="test-worker:1") == 2
    session.expire_all()
    rows = session.exec(select(Job).order_by(col(Job.id))).all()
    assert [(r.kind, r.status) for r in rows] == [("match_run", "done"), ("reminders", "done")]
    assert rows[0].result == {"run_id": run.id, "proposals": 4}
    assert rows[1].result is not None and rows[1].result["today"] == "2026-07-15"
    assert session.get(MatchRun, run.id).status == "done"  # type: ignore[union-attr]
    assert session.exec(select(JobWorker)).all() == []  # it retired when it stopped


def test_queued_jobs_wait_for_a_worker_and_say_so(app: Flask, probe: list[Any]) -> None:
    engine = _engine(app)
    with Session(engine, expire_on_commit=False) as s:
        job = jobs.submit(s, "probe", {})
        s.commit()
        assert jobs.status(s, job)["waiting_for_worker"]
        queue.sign(s, "far-away:3", None)
        s.commit()
        assert not jobs.status(s, job)["waiting_for_worker"]


def test_the_cli_worker_and_list(app: Flask, runner: Any, probe: list[Any]) -> None:
    engine = _engine(app)
    with VersionedSession(engine, expire_on_commit=False) as s:
        jobs.submit(s, "probe", {"value": 3})
        jobs.submit(s, "probe", {"do": "boom"})
        s.commit()
    app.config["REMIND_AT"] = "off"
    done = runner.invoke(args=["worker", "--once"])
    assert done.exit_code == 0, done.output
    assert "2 job(s) carried out; the queue is empty." in done.output
    listed = runner.invoke(args=["jobs"])
    assert listed.exit_code == 0
    assert "probe       done     attempt 1/3" in listed.output
    assert "RuntimeError: the disk is on fire" in listed.output
    app.config["REMIND_AT"] = "25:00"
    bad = runner.invoke(args=["worker", "--once"])
    assert bad.exit_code != 0 and "REMIND_AT must be a time" in bad.output


def test_a_recovery_that_comes_too_late_changes_nothing(
    app: Flask, probe: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recovery that judged a job interrupted while its attempt was finishing finds, when it
    takes the row, that the job ended: the outcome stands, and the attempt that finished
    stored its result (the holder is checked in the statement that takes the row)."""
    engine = _engine(app)
    here = socket.gethostname()
    dead = f"{here}:{_dead_pid()}"
    job = claimed = _claimed(engine, {"value": 5}, dead)
    with Session(engine, expire_on_commit=False) as s:
        judged = queue.interrupted(s)  # read before the attempt ends
    assert [j.id for j, _ in judged] == [job.id]
    jobs.execute(app, claimed, dead)  # the attempt ends after all, and stores its result
    monkeypatch.setattr(queue, "interrupted", lambda *_a, **_k: judged)
    assert jobs.recover(engine) == []
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Job, job.id)
        assert row is not None and row.status == "done" and row.attempts == 1
        assert row.result == {"echo": 5}
        assert queue.hold(s, job.id or 0, dead) is None


def test_an_attempt_taken_as_interrupted_stops_at_its_next_progress(
    app: Flask, probe: list[Any]
) -> None:
    engine = _engine(app)
    job = first = _claimed(engine, {"do": "progress"}, "slow-host:1")
    with Session(engine, expire_on_commit=False) as s:
        queue.requeue(s, s.merge(first), "taken as interrupted")
        s.commit()
    jobs.execute(app, first, "slow-host:1")
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Job, job.id)
        assert row is not None and (row.status, row.step, row.done) == ("queued", None, 0)
