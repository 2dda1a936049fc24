"""A job's write against a person's edit of the same row at the same moment, for every kind of
job, on SQLite and PostgreSQL (two real connections, a worker thread and a user thread).

A job reads the rows it will change, computes, then writes them in its final transaction. A
person who saves the same row in between must lose nothing to it: afterwards the row's
``version`` has moved past the one the person's save made (whoever opens the record from the
person's answer and saves again is refused: 409, never a silent overwrite of the job's change),
what the person decided stands where the job only meant to change undecided rows, and the job
still ends done (a person's edit is no reason to throw away a match run or an import).

The race is not left to luck: the job thread is held at its first write of the table
(:func:`tests.test_race_hold.race`), having read and computed everything, until the user thread
has committed its edit.

Every kind of job is walked: those that write rows people edit each have a scenario below;
the others are declared with what they write (a new kind fails the walk until it is one or the
other).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sscmatch import jobs
from sscmatch.bundle import import_bundle
from sscmatch.db import StaleVersion, VersionedSession, expect_version
from sscmatch.models import Job, MatchRun, Need, Proposal
from sscmatch.vocab import load_vocabulary
from sscmatch.web.matching import queue_run
from sscmatch.workflow import jobs as queue
from sscmatch.workflow import matchruns
from sscmatch.workflow.proposals import accept
from tests.test_race_hold import race

ROOT = Path(__file__).resolve().parents[1]

NO_EDITED_ROWS = {
    "calibration": "writes its own calibration row and an audit event; nobody edits those",
    "reminders": "writes reminder rows (one per digest sent); nobody edits those",
}
"""Kinds of job that write no row people edit, with what they write."""


@dataclass(frozen=True)
class Scenario:
    """A kind of job that changes rows people edit: ``prepare`` queues and claims it (returns the
    job), ``table`` is the table of those rows, ``edit`` is the person's
    change in between (returns what ``check`` needs), ``check`` looks at the outcome."""

    kind: str
    prepare: Callable[[Flask, Session, Path], Job]
    table: str
    edit: Callable[[Session], Any]
    check: Callable[[Session, Any], None]


# ----------------------------------------------------------------------------- imports

RACED_NEED = "n-race-1"


def _bundle(tmp: Path, description: str) -> Path:
    need = {
        "id": RACED_NEED,
        "country": "BRA",
        "title": "Early childhood programmes",
        "description": description,
        "themes": ["education"],
    }
    path = tmp / f"{description.replace(' ', '-')}.json"
    path.write_text(json.dumps({"needs": [need]}))
    return path


def _prepare_import(app: Flask, session: Session, tmp: Path) -> Job:
    import_bundle(session, _bundle(tmp, "as first imported"), load_vocabulary())
    session.commit()
    data = _bundle(tmp, "as imported again").read_bytes()
    job = jobs.submit(session, "import", {}, payload=("again.json", data))
    session.commit()
    return _claim(session, job)


def _edit_need(s: Session) -> int:
    need = s.get(Need, RACED_NEED)
    assert need is not None
    need.priority = "high"
    s.add(need)
    s.commit()
    return need.version


def _check_import(s: Session, saved: int) -> None:
    need = s.get(Need, RACED_NEED)
    assert need is not None and need.description == "as imported again"
    assert need.version == saved + 1, (
        f"the import wrote after the person's save (version {saved}) but left the version at "
        f"{need.version}: a form opened from that save overwrites the import without a 409"
    )
    need.title = "saved from the person's answer"
    with pytest.raises(StaleVersion):
        expect_version(need, saved)


# ----------------------------------------------------------------------------- match runs

RUN_NEED = "s002-n37"


def _queued_run(session: Session) -> Job:
    run = matchruns.begin_run(session, need_ids=[RUN_NEED], top_k=3, user_id=None)
    job = queue_run(session, run, [RUN_NEED], None)
    session.commit()
    return job


def _prepare_run(app: Flask, session: Session, _tmp: Path) -> Job:
    import_bundle(session, ROOT / "data", load_vocabulary())
    session.commit()
    first = _claim(session, _queued_run(session))
    jobs.execute(app, first, "racer:1")
    session.expire_all()
    assert len(_proposals(session)) == 3
    return _claim(session, _queued_run(session))


def _proposals(s: Session) -> list[Proposal]:
    return list(
        s.exec(select(Proposal).where(Proposal.need == RUN_NEED).order_by(col(Proposal.id)))
    )


def _accept_one(s: Session) -> tuple[int, int]:
    """The secretariat accepts one of the need's proposals: it becomes accepted, the others
    superseded, the need matched (with override: its provider has not confirmed it)."""
    chosen = _proposals(s)[0]
    assert chosen.id is not None
    accept(s, chosen.id, user_id=None, version=chosen.version, override=True, reason="agreed")
    s.commit()
    return chosen.id, chosen.version


def _check_run(s: Session, accepted: tuple[int, int]) -> None:
    chosen, version = accepted
    row = s.get(Proposal, chosen)
    assert row is not None and (row.status, row.version) == ("accepted", version)
    need = s.get(Need, RUN_NEED)
    assert need is not None and need.status == "matched"
    runs = s.exec(select(MatchRun).order_by(col(MatchRun.id))).all()
    assert [r.status for r in runs] == ["done", "done"], [r.error for r in runs]
    mine = {p.id: (p.run_id, p.status) for p in _proposals(s)}
    assert [st for (run, st) in mine.values() if run == row.run_id] == [
        "accepted",
        "superseded",
        "superseded",
    ]
    assert [st for (run, st) in mine.values() if run == runs[1].id] == [], (
        "the run stored proposals for a need matched while it computed: only open needs are matched"
    )


SCENARIOS = [
    Scenario("import", _prepare_import, "need", _edit_need, _check_import),
    Scenario("match_run", _prepare_run, "proposal", _accept_one, _check_run),
]


def _claim(session: Session, job: Job) -> Job:
    claimed = queue.claim(session, "racer:1", job_id=job.id)
    session.commit()
    assert claimed is not None
    return claimed


def test_every_kind_of_job_is_walked() -> None:
    kinds = set(jobs.registry())
    walked = {s.kind for s in SCENARIOS}
    assert kinds == walked | set(NO_EDITED_ROWS), (
        "a kind of job that writes rows people edit needs a scenario here; one that writes "
        f"none is declared in NO_EDITED_ROWS with what it writes: {kinds ^ (walked | set(NO_EDITED_ROWS))}"
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.kind)
def test_a_persons_edit_between_a_jobs_read_and_write_is_not_lost(
    app: Flask, session: Session, tmp_path: Path, scenario: Scenario
) -> None:
    engine: Engine = app.extensions["sscmatch.engine"]
    job = scenario.prepare(app, session, tmp_path)
    writes = tuple(f"{verb} {scenario.table} " for verb in ("UPDATE", "INSERT INTO", "DELETE FROM"))
    edited: list[Any] = []

    def work() -> None:
        with app.app_context():
            jobs.execute(app, job, "racer:1")

    def person() -> None:
        with VersionedSession(engine, expire_on_commit=False) as s:
            edited.append(scenario.edit(s))

    raced = race(engine, lambda sql: sql.startswith(writes), work, person)
    assert raced.held, "the job never wrote the rows it changes: the scenario is out of date"
    with VersionedSession(engine, expire_on_commit=False) as s:
        ended = s.get(Job, job.id)
        assert ended is not None and (ended.status, ended.error) == ("done", None)
        scenario.check(s, edited[0])
