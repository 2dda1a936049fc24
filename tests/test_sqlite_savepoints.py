"""A savepoint that opens a transaction on SQLite (the previews of a decision and of a bulk
decision, the API's dry runs, a bulk decision's one-by-one steps) reads then writes. SQLite
began such a transaction deferred: its reads fixed a snapshot, and when another connection
committed before its first write, that write failed at once with "database is locked"
(SQLITE_BUSY_SNAPSHOT, which no waiting cures). CI met it in the review-day journey: the
preview of an acceptance answered 503 while the job worker wrote. ``db.make_engine`` now takes
the write lock when such a savepoint opens the transaction, so the other writer waits its turn.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from sscmatch.db import make_engine


def _engine(path: Path) -> object:
    engine = make_engine(f"sqlite:///{path / 'locks.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1, 0), (2, 0)"))
    return engine


def test_a_savepoint_that_reads_then_writes_is_not_broken_by_another_writer(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    other_done = threading.Event()
    failures: list[BaseException] = []

    def other_writer() -> None:
        try:
            with engine.begin() as conn:  # type: ignore[attr-defined]
                conn.execute(text("UPDATE t SET v = v + 1 WHERE id = 2"))
        except BaseException as exc:
            failures.append(exc)
        other_done.set()

    with Session(engine) as session:  # type: ignore[call-overload]
        savepoint = session.begin_nested()  # a preview: read, then write, then roll back
        assert session.execute(text("SELECT v FROM t WHERE id = 1")).scalar() == 0
        writer = threading.Thread(target=other_writer)
        writer.start()
        other_done.wait(0.5)  # without the lock it commits now; with it, it waits for us
        session.execute(text("UPDATE t SET v = 5 WHERE id = 1"))  # failed: database is locked
        savepoint.rollback()
        session.commit()
    writer.join(10)
    assert failures == [] and other_done.is_set()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == [0, 1]


def test_a_savepoint_inside_a_transaction_is_left_as_it_is(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with Session(engine) as session:  # type: ignore[call-overload]
        session.execute(text("UPDATE t SET v = 1 WHERE id = 1"))  # the driver's own BEGIN
        with session.begin_nested():
            session.execute(text("UPDATE t SET v = 2 WHERE id = 2"))
        session.commit()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == [1, 2]
