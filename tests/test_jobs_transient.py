"""A database error that passes (SQLite busy, a PostgreSQL deadlock or serialization failure, the
connection lost) does not fail a job for good: the job is queued again, later each time, until
its last attempt, and its page says so; any other error still fails it at once. The attempt's
work is rolled back either way.

One rule says which errors pass (``sscmatch.db.is_transient``): its cases are checked on the
errors the drivers raise. The class: every kind of job in the registry, with a passing error
injected into the database at the last moment of its first attempt (the statement that ends
the job in its result's transaction, after every write of the result), stores nothing, is
queued again and succeeds at its second attempt; with another database error there, it fails
at once with its record."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, col, select

from sscmatch import jobs
from sscmatch.bundle import import_bundle
from sscmatch.db import is_transient
from sscmatch.models import Calibration, Institution, Job, MatchRun, Proposal, Reminder, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import calibrations, matchruns
from sscmatch.workflow import jobs as queue
from sscmatch.workflow.accounts import issue_api_token
from tests.workflow.test_reminders import world  # noqa: F401  (the fixture: commitments due)

ROOT = Path(__file__).resolve().parents[1]
TEST_KINDS = {"probe"}  # kinds declared by tests, not by the service


# ----------------------------------------------------------------------------- the one rule


def _wrapped(orig: BaseException, wrapper: type[DBAPIError] = OperationalError) -> DBAPIError:
    return wrapper("UPDATE job SET progress_at=?", {}, orig)  # type: ignore[arg-type]


def test_sqlite_busy_is_transient_as_the_driver_raises_it(tmp_path: Path) -> None:
    """A real lock: another connection holds the write lock, this one does not wait."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            other.execute("INSERT INTO t VALUES (2)")
        assert "database is locked" in str(raised.value)
        assert is_transient(_wrapped(raised.value))
        with pytest.raises(sqlite3.OperationalError) as missing:
            other.execute("INSERT INTO nowhere VALUES (2)")
        assert not is_transient(_wrapped(missing.value))  # the same class, no passing cause
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize(
    ("orig", "transient"),
    [
        (psycopg.errors.SerializationFailure("could not serialize access"), True),  # 40001
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),  # 40P01
        (psycopg.errors.AdminShutdown("terminating connection"), True),  # 57P01
        (psycopg.errors.CannotConnectNow("the database system is starting up"), True),  # 57P03
        (psycopg.errors.lookup("08006")("connection failure"), True),  # class 08
        (psycopg.errors.lookup("08003")("connection does not exist"), True),
        (psycopg.OperationalError("connection failed: Connection refused"), True),  # no code
        (psycopg.errors.UndefinedTable('relation "nowhere" does not exist'), False),
        (psycopg.errors.DivisionByZero("division by zero"), False),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
        (sqlite3.OperationalError("database table is locked"), True),
        (sqlite3.OperationalError("no such column: x"), False),
    ],
    ids=lambda v: v if isinstance(v, bool) else type(v).__name__ + ":" + str(v)[:20],
)
def test_which_driver_errors_are_transient(orig: BaseException, transient: bool) -> None:
    assert is_transient(_wrapped(orig)) is transient


def test_what_else_is_or_is_not_transient() -> None:
    lost = _wrapped(psycopg.errors.UndefinedTable("x"), DBAPIError)
    lost.connection_invalidated = True  # SQLAlchemy's own judgement: the connection dropped
    assert is_transient(lost)
    unique = _wrapped(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError)
    assert not is_transient(unique)
    assert not is_transient(_wrapped(psycopg.errors.SyntaxError("syntax"), ProgrammingError))
    assert not is_transient(RuntimeError("database is locked"))  # not a database error
    assert not is_transient(sqlite3.OperationalError("database is locked"))  # unwrapped: not ours
    try:  # raised from a passing one: still passing (a kind that words the error its own way)
        try:
            raise _wrapped(psycopg.errors.DeadlockDetected("deadlock"))
        except OperationalError as exc:
            raise ValueError("could not store the run") from exc
    except ValueError as outer:
        assert is_transient(outer)


def test_the_delay_grows() -> None:
    delays = [queue.retry_delay(n) for n in range(1, 6)]
    assert delays == sorted(delays) and delays[0] < delays[1] < delays[2]
    assert delays[0] >= timedelta(seconds=1) and delays[-1] <= timedelta(minutes=10)


# ----------------------------------------------------------------------------- the class


@dataclass
class Case:
    """A kind's job queued on a world that lets it work; ``stored`` says how much of its
    result is in the database (0: nothing), ``record`` the status of the record it works on
    (None for a kind without one)."""

    job_id: int
    stored: Callable[[Session], int]
    record: Callable[[Session], str | None]


def _match_run(app: Flask, session: Session, request: Any) -> Case:
    from sscmatch.web.matching import queue_run

    import_bundle(session, ROOT / "data", load_vocabulary())
    run = matchruns.begin_run(session, need_ids=["s002-n37"], top_k=3, user_id=None)
    job = queue_run(session, run, ["s002-n37"], None)
    session.commit()
    return Case(
        job.id or 0,
        lambda s: len(s.exec(select(Proposal).where(Proposal.run_id == run.id)).all()),
        lambda s: s.get(MatchRun, run.id).status,  # type: ignore[union-attr]
    )


def _calibration(app: Flask, session: Session, request: Any) -> Case:
    from sscmatch.web.calibrations import queue_calibration

    app.config["TODAY"] = "2026-12-02"
    import_bundle(session, ROOT / "data", load_vocabulary())
    row = calibrations.begin(session, today=date(2026, 12, 2))
    job = queue_calibration(session, row, None)
    session.commit()

    def stored(s: Session) -> int:
        found = s.get(Calibration, row.id)
        return int(found is not None and found.status == "done")

    return Case(job.id or 0, stored, lambda s: s.get(Calibration, row.id).status)  # type: ignore[union-attr]


BUNDLE = {
    "institutions": [
        {
            "id": f"t-retry-{n}",
            "name": f"Retried {n}",
            "country": "GTM",
            "constituency": "government",
        }
        for n in range(3)
    ]
}


def _import(app: Flask, session: Session, request: Any) -> Case:
    data = json.dumps(BUNDLE).encode()
    job = jobs.submit(session, "import", {"name": "b.json"}, payload=("b.json", data))
    session.commit()
    ids = [i["id"] for i in BUNDLE["institutions"]]
    return Case(
        job.id or 0,
        lambda s: len(s.exec(select(Institution).where(col(Institution.id).in_(ids))).all()),
        lambda s: None,
    )


def _reminders(app: Flask, session: Session, request: Any) -> Case:
    request.getfixturevalue("world")  # commitments due on 2026-07-15
    app.config["TODAY"] = "2026-07-15"
    job = jobs.submit(session, "reminders", {"today": "2026-07-15", "days": 14})
    session.commit()
    return Case(job.id or 0, lambda s: len(s.exec(select(Reminder)).all()), lambda s: None)


SETUPS: dict[str, Callable[[Flask, Session, Any], Case]] = {
    "match_run": _match_run,
    "calibration": _calibration,
    "import": _import,
    "reminders": _reminders,
}
WHERE = {"reminders": re.compile(r"^\s*INSERT INTO reminder\b", re.IGNORECASE)}
"""Where the error is injected, for a kind that does not end its job with its result (each
digest is committed with its Reminder row): its first write of the result."""
ENDING = re.compile(r"^\s*UPDATE job SET progress_at", re.IGNORECASE)  # queue.hold
WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.IGNORECASE)
JOB_TABLES = {"job", "job_worker", "job_payload"}


def test_every_kind_has_a_case() -> None:
    assert set(jobs.registry()) - TEST_KINDS == set(SETUPS)


def _error(dialect: str, passing: bool) -> Exception:
    """What the driver raises: a passing error (SQLite busy, a PostgreSQL serialization
    failure), or a lasting one of the same class (a table that is not there)."""
    if dialect == "sqlite":
        return sqlite3.OperationalError("database is locked" if passing else "no such table: x")
    if passing:
        return psycopg.errors.SerializationFailure("could not serialize access")
    return psycopg.errors.UndefinedTable('relation "x" does not exist')


class Injector:
    """Raises the driver's ``error`` at one statement of a job's first attempt: the one that
    ends the job in the transaction of its result, after the result's writes (or the
    statement ``where`` matches). SQLAlchemy wraps it as it wraps what the driver raises."""

    def __init__(self, engine: Engine, where: re.Pattern[str] | None, error: Exception) -> None:
        self.engine, self.where, self.error = engine, where, error
        self.fired = 0

    def before(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if self.fired:
            return
        if self.where is not None:
            hit = bool(self.where.match(statement))
        else:
            written = WRITE.match(statement)
            if written and written.group(2).lower() not in JOB_TABLES:
                conn.info["wrote"] = True
            hit = bool(ENDING.match(statement)) and bool(conn.info.get("wrote"))
        if hit:
            self.fired += 1
            raise self.error

    def forget(self, conn: Any) -> None:
        conn.info.pop("wrote", None)


@contextmanager
def injected(engine: Engine, kind: str, passing: bool) -> Iterator[Injector]:
    injector = Injector(engine, WHERE.get(kind), _error(engine.dialect.name, passing))
    hooks = [("before_cursor_execute", injector.before)]
    hooks += [("commit", injector.forget), ("rollback", injector.forget)]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield injector
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


def _claim(engine: Engine, job_id: int, worker: str, now: Any = None) -> Job:
    """The job taken as a worker takes it: the oldest due (at ``now``), which must be it."""
    with Session(engine, expire_on_commit=False) as s:
        job = queue.claim(s, worker, now=now)
        s.commit()
    assert job is not None and job.id == job_id
    return job


def _first_attempt(
    kind: str, app: Flask, session: Session, request: Any, passing: bool
) -> tuple[Engine, Case, Job]:
    """The kind's job set up, and its first attempt carried out with the error injected;
    the job as it is after."""
    engine: Engine = app.extensions["sscmatch.engine"]
    case = SETUPS[kind](app, session, request)
    first = _claim(engine, case.job_id, "worker-a:1")
    with injected(engine, kind, passing=passing) as injector:
        jobs.execute(app, first, "worker-a:1")
    assert injector.fired == 1
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(Job, case.job_id)
    assert job is not None
    return engine, case, job


@pytest.mark.parametrize("kind", sorted(SETUPS))
def test_a_passing_database_error_is_tried_again_and_stores_nothing_meanwhile(
    kind: str, app: Flask, session: Session, request: Any
) -> None:
    engine, case, job = _first_attempt(kind, app, session, request, passing=True)
    with Session(engine, expire_on_commit=False) as s:
        assert (job.status, job.attempts, job.max_attempts, job.worker) == ("queued", 1, 3, None)
        assert case.stored(s) == 0  # the attempt's writes were rolled back with it
        assert case.record(s) in (None, "running")  # its record waits for the next attempt
        when = queue.retry_at(job)
        assert when is not None and job.progress_at is not None
        assert when - job.progress_at >= queue.retry_delay(1)
        assert (job.error or "").startswith(
            "attempt 1 of 3 failed: the database was busy or out of reach (OperationalError:"
        )
        state = jobs.status(s, job)
        assert state["state"] == "queued" and state["retry_at"] is not None
        assert queue.claim(s, "worker-b:2") is None  # not before its time
        s.rollback()
    second = _claim(engine, case.job_id, "worker-b:2", now=when)
    jobs.execute(app, second, "worker-b:2")
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(Job, case.job_id)
        assert job is not None and (job.status, job.attempts) == ("done", 2), job.error
        assert case.stored(s) > 0
        assert case.record(s) in (None, "done")
        assert jobs.status(s, job)["retry_at"] is None


@pytest.mark.parametrize("kind", sorted(SETUPS))
def test_another_database_error_fails_the_job_at_once(
    kind: str, app: Flask, session: Session, request: Any
) -> None:
    engine, case, job = _first_attempt(kind, app, session, request, passing=False)
    assert (job.status, job.attempts) == ("failed", 1)
    with Session(engine, expire_on_commit=False) as s:
        assert (job.error or "").startswith(
            "ProgrammingError: " if "postgres" in engine.dialect.name else "OperationalError: "
        )
        assert case.stored(s) == 0
        assert case.record(s) in (None, "failed")
        assert jobs.status(s, job)["retry_at"] is None


# ----------------------------------------------------------------------------- the last attempt


@pytest.fixture
def always_busy() -> Iterator[list[int]]:
    """A kind of job whose every attempt meets a busy database."""
    tries: list[int] = []

    def run(ctx: jobs.Context) -> None:
        tries.append(ctx.job_id)
        raise _wrapped(sqlite3.OperationalError("database is locked"))

    declared = jobs.kind("probe")(run)
    yield tries
    jobs.KINDS.pop(declared.name, None)


def test_the_last_attempt_fails_with_the_error_after_growing_delays(
    app: Flask, always_busy: list[int]
) -> None:
    engine: Engine = app.extensions["sscmatch.engine"]
    with Session(engine, expire_on_commit=False) as s:
        job_id = jobs.submit(s, "probe", {}).id or 0
        s.commit()
    when, waits = None, []
    for attempt in (1, 2, 3):
        jobs.execute(app, _claim(engine, job_id, "worker:1", now=when), "worker:1")
        with Session(engine, expire_on_commit=False) as s:
            row = s.get(Job, job_id)
            assert row is not None and row.attempts == attempt
            if attempt < 3:
                assert row.status == "queued" and row.progress_at is not None
                when = queue.retry_at(row)
                assert when is not None
                waits.append(when - row.progress_at)
                assert f"attempt {attempt} of 3 failed" in (row.error or "")
    assert len(always_busy) == 3 and waits[0] < waits[1]
    assert row.status == "failed"
    assert row.error == "OperationalError: (sqlite3.OperationalError) database is locked"
    with Session(engine) as s:
        assert jobs.status(s, row)["retry_at"] is None


def test_carried_out_in_the_request_the_job_is_tried_again_there(
    app: Flask, session: Session, request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``JOBS_SYNC`` (tests, a single process): no worker would take the job queued again, so
    the request waits as a worker would, and the run ends done."""
    monkeypatch.setattr(queue, "FIRST_RETRY_AFTER", timedelta(0))
    engine: Engine = app.extensions["sscmatch.engine"]
    case = _match_run(app, session, request)
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(Job, case.job_id)
    assert job is not None
    with app.test_request_context(), injected(engine, "match_run", passing=True) as injector:
        jobs.start(job)
    assert injector.fired == 1
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Job, case.job_id)
        assert row is not None and (row.status, row.attempts) == ("done", 2)
        assert case.record(s) == "done" and case.stored(s) > 0


def test_the_page_and_the_api_say_when_it_is_tried_again(
    app: Flask, session: Session, request: Any, as_user: Any
) -> None:
    engine: Engine = app.extensions["sscmatch.engine"]
    case = _match_run(app, session, request)
    with injected(engine, "match_run", passing=True):
        jobs.execute(app, _claim(engine, case.job_id, "worker-a:1"), "worker-a:1")
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(Job, case.job_id)
        assert job is not None
        when = queue.retry_at(job)
        run_id = job.params["run_id"]
    assert when is not None
    clock = when.strftime("%H:%M:%S")
    with Session(engine) as s:
        queue.sign(s, "far-away:3", None)  # a worker is running (none is, it would say)
        s.commit()
    client = as_user("analyst")
    page = client.get(f"/matching/runs/{run_id}").data.decode()
    assert (
        f"The database was busy for a moment; it is tried again at {clock} UTC "
        "(attempt 2 of 3)." in page
    )
    assert 'data-msg-retry="' in page  # the script's wording of the same line
    client.post("/language", data={"lang": "fr", "next": "/"})
    page = client.get(f"/matching/runs/{run_id}").data.decode()
    assert (
        "La base de données était occupée un instant\u00a0; nouvel essai à "
        f"{clock} UTC (tentative 2 sur 3)." in page
    )
    status = client.get(f"/matching/runs/{run_id}/status").get_json()
    assert status["finished"] is False and status["job"]["retry_at"] == when.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    with Session(engine) as s:
        analyst = s.exec(select(User).where(User.email == "analyst@test.org")).one()
        token = issue_api_token(s, analyst)
        s.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    api = app.test_client().get(f"/api/v1/match-runs/{run_id}", headers=bearer).get_json()
    assert api["job"]["state"] == "queued" and api["job"]["attempts"] == 1
    assert api["job"]["retry_at"] == status["job"]["retry_at"]


@pytest.mark.on_database("postgresql")  # SQLite's real lock is checked below
def test_postgresqls_own_passing_and_lasting_errors(app: Flask) -> None:
    """A real deadlock (two transactions locking two rows in opposite orders) and a real
    connection ended by the server (an administrator, a restart) pass; a missing table does
    not."""
    engine: Engine = app.extensions["sscmatch.engine"]
    assert engine.dialect.name == "postgresql"
    with engine.begin() as c:
        c.execute(text("CREATE TABLE lock_pair (id int PRIMARY KEY, v int NOT NULL)"))
        c.execute(text("INSERT INTO lock_pair VALUES (1, 0), (2, 0)"))
    both_hold_one = threading.Barrier(2)
    lost: list[DBAPIError] = []

    def cross(first: int, second: int) -> None:
        try:
            with engine.begin() as c:
                c.execute(text("UPDATE lock_pair SET v = v + 1 WHERE id = :i"), {"i": first})
                both_hold_one.wait(timeout=10)
                c.execute(text("UPDATE lock_pair SET v = v + 1 WHERE id = :i"), {"i": second})
        except DBAPIError as exc:
            lost.append(exc)

    try:
        threads = [threading.Thread(target=cross, args=pair) for pair in ((1, 2), (2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(lost) == 1  # PostgreSQL chose one victim, the other went on
        assert getattr(lost[0].orig, "sqlstate", None) == "40P01" and is_transient(lost[0])
        with engine.connect() as victim:
            pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.begin() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as ended:
                victim.execute(text("SELECT 1"))
        assert is_transient(ended.value), ended.value
        with engine.connect() as c, pytest.raises(DBAPIError) as missing:
            c.execute(text("SELECT * FROM nowhere"))
        assert not is_transient(missing.value)
    finally:
        with engine.begin() as c:
            c.execute(text("DROP TABLE lock_pair"))


# ----------------------------------------------------------------------------- the worker's own


def test_the_worker_decides_what_passes_by_the_one_rule() -> None:
    """Where the worker lets a database error go (a progress write, its signature, a look at
    the queue, the forms' old keys) it asks ``is_transient``, not an exception class of its
    own: an ``except OperationalError`` took a missing table for a busy database, and let a
    dropped connection reported otherwise stop the worker."""
    own = []
    for path in sorted((ROOT / "sscmatch" / "jobs").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
                if names & {"OperationalError", "InterfaceError"}:
                    own.append(f"{path.name}:{node.lineno}")
    assert not own, own


def test_a_dropped_connection_does_not_stop_the_worker(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look at the queue meets a connection SQLAlchemy found dropped (an InterfaceError,
    not an OperationalError): the worker waits and looks again, then stops when asked."""
    from sqlalchemy.exc import InterfaceError

    from sscmatch.jobs.worker import run_worker

    claim, looks = queue.claim, []

    def flaky(*args: Any, **kwargs: Any) -> Job | None:
        looks.append(1)
        if len(looks) == 1:
            raise InterfaceError(
                "SELECT job.id", {}, psycopg.InterfaceError("the connection is closed"),
                connection_invalidated=True,
            )  # fmt: skip
        return claim(*args, **kwargs)

    monkeypatch.setattr(queue, "claim", flaky)
    app.config["REMIND_AT"] = "off"
    assert run_worker(app, once=True, poll=0.05, name="test-worker:1") == 0
    assert len(looks) == 2  # looked again after the dropped connection


@pytest.mark.on_database("sqlite")  # PostgreSQL's own errors are checked above
def test_an_import_meeting_a_real_sqlite_lock_is_tried_again(
    app: Flask, session: Session, request: Any
) -> None:
    """Not injected: another writer holds SQLite's write lock while an import writes, and the
    database answers "database is locked" (after a short wait, here 0.1 s). The lock is let go
    as soon as the import has met it; the attempt wrote nothing, the next one imports all."""
    engine: Engine = app.extensions["sscmatch.engine"]
    assert engine.dialect.name == "sqlite"

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    event.listen(engine, "connect", impatient)
    engine.dispose()  # new connections, each impatient
    case = _import(app, session, request)
    first = _claim(engine, case.job_id, "worker-a:1")
    holder = sqlite3.connect(str(engine.url.database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer's transaction
    met: list[str] = []

    def let_go(context: Any) -> None:
        if not met and "database is locked" in str(context.original_exception):
            met.append(str(context.original_exception))
            holder.execute("ROLLBACK")

    event.listen(engine, "handle_error", let_go)
    try:
        jobs.execute(app, first, "worker-a:1")
    finally:
        event.remove(engine, "handle_error", let_go)
        event.remove(engine, "connect", impatient)
        if not met:
            holder.execute("ROLLBACK")
        holder.close()
    assert met == ["database is locked"]
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(Job, case.job_id)
        assert job is not None and (job.status, job.attempts) == ("queued", 1), job.error
        assert case.stored(s) == 0
        when = queue.retry_at(job)
    jobs.execute(app, _claim(engine, case.job_id, "worker-b:2", now=when), "worker-b:2")
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(Job, case.job_id)
        assert job is not None and (job.status, job.attempts) == ("done", 2)
        assert case.stored(s) == len(BUNDLE["institutions"])
