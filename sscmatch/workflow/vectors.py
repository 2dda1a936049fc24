"""The text vector of every need, capacity and exchange, kept in ``text_vector``.

A record's vector is made from its title and description by the current text model
(``sscmatch.text``) and stored with a hash of that text: :func:`refresh` makes the missing ones
and remakes those whose record was edited since (their hash no longer matches), in batches, and
is called before every ranking (a match run, live matches, a calibration), so a record created or
edited gets its vector before it is next matched. :func:`load` gives the engine what is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlmodel import Session, select

from sscmatch.db import upsert
from sscmatch.models import Capacity, Exchange, Need, TextVector, utcnow
from sscmatch.text import DEFAULT_MODEL, TextModel, model, record_text, store, text_hash

BATCH = 256
KINDS: dict[str, type[Capacity] | type[Need] | type[Exchange]] = {
    "capacity": Capacity,
    "need": Need,
    "exchange": Exchange,
}


@dataclass(frozen=True)
class Refreshed:
    made: int
    kept: int


def _texts(session: Session, kind: str) -> Iterator[tuple[str, str]]:
    table = KINDS[kind]
    rows = session.exec(select(table.id, table.title, table.description).order_by(table.id))
    for record_id, title, description in rows:
        yield record_id, record_text(title, description)


def refresh(
    session: Session,
    text_model: TextModel | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Refreshed:
    """Make the vectors that are missing or out of date (the caller commits)."""
    text_model = text_model or model(DEFAULT_MODEL)
    stored = {
        (kind, rid): h
        for kind, rid, h in session.exec(
            select(TextVector.kind, TextVector.record_id, TextVector.text_hash).where(
                TextVector.model == text_model.name
            )
        )
    }
    todo: list[tuple[str, str, str, str]] = []  # kind, id, text, hash
    kept = 0
    for kind in KINDS:
        for record_id, text in _texts(session, kind):
            h = text_hash(text)
            if stored.get((kind, record_id)) == h:
                kept += 1
            elif text:
                todo.append((kind, record_id, text, h))
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        vectors = store(text_model.encode([t for _k, _i, t, _h in batch]))
        # one statement that a second refresh at the same time (two web requests, a worker)
        # turns into an update: a delete and an insert failed its key on PostgreSQL
        insert = upsert(session)(TextVector)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["kind", "record_id", "model"],
                set_={
                    "text_hash": insert.excluded.text_hash,
                    "vector": insert.excluded.vector,
                    "updated_at": insert.excluded.updated_at,
                },
            ),
            [
                {
                    "kind": k,
                    "record_id": i,
                    "model": text_model.name,
                    "text_hash": h,
                    "vector": vectors[j].tobytes(),
                    "updated_at": utcnow(),
                }
                for j, (k, i, _t, h) in enumerate(batch)
            ],
        )
        if progress:
            progress(min(start + BATCH, len(todo)), len(todo))
    return Refreshed(made=len(todo), kept=kept)


def load(session: Session, model_name: str = DEFAULT_MODEL) -> dict[str, npt.NDArray[np.int8]]:
    """Every stored vector of the model, by record id."""
    out: dict[str, npt.NDArray[np.int8]] = {}
    rows = session.exec(
        select(TextVector.record_id, TextVector.vector).where(TextVector.model == model_name)
    )
    for record_id, blob in rows:
        out[record_id] = np.frombuffer(blob, dtype=np.int8)
    return out
