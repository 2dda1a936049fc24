"""The race of the ``test_race_*`` walks, not left to luck: one thread is held at a chosen SQL
statement (its first write of a table, its first write after a read…) until another thread has
done its part and committed on its own connection, then goes on.

Hold a thread *before* its transaction's first write: on SQLite that write takes the database's
one write lock, and the other thread could not commit until the held one did.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITES = ("INSERT ", "UPDATE ", "DELETE ")
PATIENCE = 30.0


READS_USER = re.compile(r'\bFROM "?user"?(\s|$)')


def first_write(text: str) -> bool:
    return text.upper().startswith(WRITES)


class WriteAfterReads:
    """Picks a thread's first write after its ``reads``-th read of an account."""

    def __init__(self, reads: int) -> None:
        self.reads, self.seen = reads, 0

    def __call__(self, sql: str) -> bool:
        if sql.startswith("SELECT") and READS_USER.search(sql):
            self.seen += 1
        return self.seen >= self.reads and first_write(sql)


@dataclass
class Raced:
    """What :func:`race` saw: the held action's result, and whether it was held at all (an
    action that never reached the statement raced nothing)."""

    result: Any
    held: bool


def race(
    engine: Engine, at: Callable[[str], bool], act: Callable[[], Any], meanwhile: Callable[[], Any]
) -> Raced:
    """Run ``act`` in a thread of its own, held at the first of its statements on ``engine`` for
    which ``at`` (given every statement's SQL on one line, in order) says yes, while
    ``meanwhile`` runs (and commits) in another thread; errors of either are raised."""
    reached, done = threading.Event(), threading.Event()
    results: list[Any] = []
    errors: list[BaseException] = []
    held: list[bool] = []

    def hold(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if threading.current_thread() is not actor or reached.is_set():
            return
        if at(" ".join(statement.split())):
            held.append(True)
            reached.set()
            assert done.wait(PATIENCE), "the other thread did not finish"

    def acting() -> None:
        try:
            results.append(act())
        except BaseException as exc:
            errors.append(exc)
        finally:
            reached.set()  # an action that never got there lets the other go on

    def other() -> None:
        try:
            assert reached.wait(PATIENCE), "the held thread never came to its statement"
            meanwhile()
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    actor = threading.Thread(target=acting)
    second = threading.Thread(target=other)
    event.listen(engine, "before_cursor_execute", hold)
    try:
        actor.start()
        second.start()
        actor.join(2 * PATIENCE)
        second.join(2 * PATIENCE)
    finally:
        event.remove(engine, "before_cursor_execute", hold)
    assert not actor.is_alive() and not second.is_alive(), "a racer hung"
    if errors:
        raise errors[0]
    return Raced(results[0] if results else None, bool(held))


def test_the_held_thread_waits_for_the_other() -> None:
    """The hold itself: the held statement runs after the other thread's part, not before."""
    from sqlmodel import create_engine

    engine = create_engine("sqlite://")
    order: list[str] = []

    def act() -> str:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            order.append("written")
        return "acted"

    raced = race(engine, first_write, act, lambda: order.append("meanwhile"))
    assert raced == Raced("acted", True) and order == ["meanwhile", "written"]
