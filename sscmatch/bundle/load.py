"""Import: read, validate everything, then write — all or nothing, idempotent by id."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, select

from sscmatch.bundle.format import TABLES, BundleError, Problem, read_bundle
from sscmatch.bundle.validate import Resolved, StoredIds, validate
from sscmatch.models import (
    AuditEvent,
    Capacity,
    Commitment,
    Exchange,
    Institution,
    Need,
    StudyTour,
    Theme,
    utcnow,
)
from sscmatch.vocab import Vocabulary

MODELS: dict[str, type[SQLModel]] = {
    "themes": Theme,
    "institutions": Institution,
    "capacities": Capacity,
    "needs": Need,
    "exchanges": Exchange,
    "commitments": Commitment,
}


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    resolved: list[Resolved] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        for table in TABLES:
            c, u, n = self.created[table], self.updated[table], self.unchanged[table]
            if c or u or n:
                parts.append(f"{table}: {c} created, {u} updated, {n} unchanged")
        return "; ".join(parts) if parts else "nothing to import"

    @property
    def fuzzy(self) -> list[Resolved]:
        return [r for r in self.resolved if r.status == "fuzzy"]


def _reading_order(problem: Problem) -> tuple[int, int]:
    """Problems in the order a person reads the bundle: table by table, line by line."""
    stem = Path(problem.file).stem
    return (TABLES.index(stem) if stem in TABLES else -1, problem.line)


def _ids(session: Session, model: type[SQLModel]) -> frozenset[str]:
    return frozenset(session.exec(select(model.id)))  # type: ignore[attr-defined]


def import_bundle(
    session: Session, path: Path, vocab: Vocabulary, user_id: int | None = None
) -> ImportReport:
    """Validate the bundle at ``path`` and write it into ``session`` (the caller commits).

    Raises :class:`BundleError` with every problem found, having written nothing.
    """
    raw = read_bundle(path)
    stored = StoredIds(
        themes=_ids(session, Theme),
        institutions=_ids(session, Institution),
        bodies=frozenset(
            session.exec(select(Institution.id).where(col(Institution.international)))
        ),
        exchanges=_ids(session, Exchange),
        study_tours=_ids(session, StudyTour),
    )
    valid, problems = validate(raw, vocab, stored)
    if problems:
        raise BundleError(sorted(problems, key=_reading_order))

    report = ImportReport(resolved=valid.resolved)
    now = utcnow()
    for table in TABLES:
        _write(session, MODELS[table], valid.records[table], table, report, now, user_id)
        session.flush()
    session.add(
        AuditEvent(
            user_id=user_id,
            action="import",
            entity="bundle",
            entity_id=path.name,
            after={"created": dict(report.created), "updated": dict(report.updated)},
        )
    )
    return report


def _write(
    session: Session,
    model: type[SQLModel],
    records: list[BaseModel],
    table: str,
    report: ImportReport,
    now: Any,
    user_id: int | None,
) -> None:
    existing: dict[str, Any] = {}
    ids = [r.id for r in records]  # type: ignore[attr-defined]
    key: Any = model.id  # type: ignore[attr-defined]
    for start in range(0, len(ids), 500):
        found: Any = session.exec(select(model).where(col(key).in_(ids[start : start + 500])))
        for stored in found:
            existing[stored.id] = stored
    tracked = "version" in model.model_fields
    for record in records:
        values = record.model_dump()
        row: Any = existing.get(values["id"])
        if row is None:
            extra = {"created_by": user_id, "updated_by": user_id} if tracked else {}
            session.add(model(**values, **extra))
            report.created[table] += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            if tracked:
                row.version += 1
                row.updated_at = now
                row.updated_by = user_id
            report.updated[table] += 1
        else:
            report.unchanged[table] += 1
