"""Readable ids for new records (``N-2026-0004``, ``T-2026-0012``, ``T-2026-0012-k03``), safe when
many are created at the same moment.

An id used to be "the highest number in use + 1", read and then inserted: two requests at the
same moment read the same highest number and the second insert failed (a 500). Now each id stem
has a row in ``id_counter`` moved by one atomic ``UPDATE … SET last = last + 1``: the database
hands out each number once (PostgreSQL queues the second writer on the row lock, SQLite on its
write lock), whatever the number of workers. The counter starts from the highest number already
in use, and a number already taken (a record imported, or created with an id given by hand) is
skipped, so ids stay short and in order. Two requests that give the same id by hand, or an id a
counter hands out at the same moment, are left to the primary key: the flush that loses raises
:class:`sscmatch.db.DuplicateRecord` (409).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, SQLModel, col

from sscmatch.db import upsert
from sscmatch.models import IdCounter

MAX_SKIPS = 1000
"""Taken numbers skipped one by one before the counter jumps past the highest one in use."""


def next_id(session: Session, model: type[SQLModel], stem: str, width: int = 4) -> str:
    """The next free id ``stem`` + a number zero-padded to ``width`` digits, for a new ``model``
    row. The caller inserts it in the same transaction (the counter row stays locked until then:
    creations of one kind queue for a moment, they never collide)."""
    key: Any = getattr(model, "id")  # noqa: B009 - every record with a readable id has ``id``
    for attempt in range(MAX_SKIPS + 1):
        number = _take(session, stem, lambda: _highest(session, key, stem))
        candidate = f"{stem}{number:0{width}d}"
        if session.get(model, candidate) is None:
            return candidate
        if attempt == 0:
            # Taken (an import or an id given by hand): continue after the highest in use.
            _raise_to(session, stem, _highest(session, key, stem))
    raise RuntimeError(f"no free id after {MAX_SKIPS} tries for {stem!r}")  # pragma: no cover


def _take(session: Session, stem: str, highest: Any) -> int:
    """Move the stem's counter by one and return its new value (creating it at the highest
    number in use the first time)."""
    moved = session.execute(
        update(IdCounter)
        .where(col(IdCounter.stem) == stem)
        .values(last=col(IdCounter.last) + 1)
        .returning(col(IdCounter.last))
    ).scalar_one_or_none()
    if moved is not None:
        return int(moved)
    session.execute(
        upsert(session)(IdCounter)
        .values(stem=stem, last=highest())
        .on_conflict_do_nothing(index_elements=["stem"])
    )
    return _take(session, stem, highest)


def _raise_to(session: Session, stem: str, number: int) -> None:
    session.execute(
        update(IdCounter)
        .where(col(IdCounter.stem) == stem, col(IdCounter.last) < number)
        .values(last=number)
    )


def _highest(session: Session, key: Any, stem: str) -> int:
    """The highest number after ``stem`` among the ids in use (0 when there is none)."""
    rows = session.execute(select(key).where(col(key).startswith(stem, autoescape=True))).scalars()
    numbers = [int(tail) for i in rows if (tail := i[len(stem) :]).isascii() and tail.isdigit()]
    return max(numbers, default=0)
