"""The audit trail writes every stored moment as the JSON answers do (ISO 8601 in UTC with ``Z``)
and every day in ISO 8601: walked over every table model with such a field, so a new model or
field is covered without a new test."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, get_args

import pytest
from sqlmodel import SQLModel

from sscmatch import models  # noqa: F401  (registers every table)
from sscmatch.schemas import MOMENT_PATTERN
from sscmatch.workflow.audit import snapshot

MOMENT = datetime(2026, 12, 3, 13, 5, 7, 250)
DAY = date(2026, 12, 3)


def _kind(annotation: Any) -> type | None:
    for t in (annotation, *get_args(annotation)):
        if t is datetime or t is date:
            return t  # type: ignore[no-any-return]
    return None


def _timed_models() -> list[tuple[type[SQLModel], dict[str, type]]]:
    out = []
    for mapper in SQLModel._sa_registry.mappers:
        cls = mapper.class_
        fields = {
            name: kind
            for name, info in cls.model_fields.items()
            if (kind := _kind(info.annotation)) is not None
        }
        if fields:
            out.append((cls, fields))
    return sorted(out, key=lambda m: m[0].__name__)


TIMED = _timed_models()


def test_the_walk_finds_the_models_with_moments() -> None:
    assert len(TIMED) >= 5
    assert any(datetime in fields.values() for _, fields in TIMED)


@pytest.mark.parametrize(("model", "fields"), TIMED, ids=[m.__name__ for m, _ in TIMED])
def test_every_moment_and_day_of_an_audited_record_is_written_in_one_format(
    model: type[SQLModel], fields: dict[str, type]
) -> None:
    record = model()
    for name, kind in fields.items():
        setattr(record, name, MOMENT if kind is datetime else DAY)
    values = snapshot(record) or {}
    written = {name: values[name] for name in fields if name in values}
    assert written, f"{model.__name__}: no dated field reached the snapshot"
    for name, text in written.items():
        if fields[name] is datetime:
            assert re.fullmatch(MOMENT_PATTERN, text), (model.__name__, name, text)
        else:
            assert text == "2026-12-03" or re.fullmatch(r"\d{4}(-\d{2}){0,2}", text), (name, text)
