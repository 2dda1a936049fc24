"""Keep the ``country`` table in step with the vocabulary (records reference it by key)."""

from __future__ import annotations

from sqlmodel import Session, select

from sscmatch.models import Country
from sscmatch.vocab import Vocabulary


def sync_countries(session: Session, vocab: Vocabulary) -> int:
    """Insert or update a row per vocabulary country; return how many rows changed."""
    existing = {c.code: c for c in session.exec(select(Country))}
    changed = 0
    for code, info in vocab.countries.items():
        values = {
            "name": info.name("en"),
            "region": info.region,
            "subregion": info.subregion,
            "intermediate_region": info.intermediate_region,
        }
        row = existing.get(code)
        if row is None:
            session.add(Country(code=code, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed += 1
    session.flush()
    return changed
