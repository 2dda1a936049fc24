"""Export: every record as a bundle, deterministic so that a round trip gives identical files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from sscmatch.bundle.csvfile import replace_csv, replace_file
from sscmatch.bundle.format import COLUMNS, LIST_FIELDS, TABLES
from sscmatch.bundle.load import MODELS
from sscmatch.dates import PartialDate


def _rows(session: Session, table: str) -> list[dict[str, Any]]:
    model = MODELS[table]
    rows = session.exec(select(model).order_by(model.id))  # type: ignore[attr-defined]
    return [{name: _plain(getattr(row, name)) for name in COLUMNS[table]} for row in rows]


def _plain(value: Any) -> Any:
    """A partial date as its text (``2014-03``), as the bundle gives it; the rest as it is."""
    return str(value) if isinstance(value, PartialDate) else value


def export_bundle(session: Session, path: Path, fmt: str = "csv") -> dict[str, int]:
    """Write every record to ``path`` (a folder for CSV, a file for JSON); return counts."""
    data = {table: _rows(session, table) for table in TABLES}
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        replace_file(path, text.encode("utf-8"))
    elif fmt == "csv":
        path.mkdir(parents=True, exist_ok=True)
        for table, rows in data.items():
            replace_csv(
                path / f"{table}.csv",
                COLUMNS[table],
                ([_cell(name, row[name]) for name in COLUMNS[table]] for row in rows),
            )
    else:
        raise ValueError(f"unknown format {fmt!r} (expected csv or json)")
    return {table: len(rows) for table, rows in data.items()}


def _cell(name: str, value: Any) -> str:
    if name in LIST_FIELDS:
        return ";".join(str(v) for v in value or [])
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
