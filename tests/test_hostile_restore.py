"""``sscmatch restore`` of a damaged or forged backup: one message naming what is wrong, nothing
restored, never a traceback.

An outsider's walk: a real backup of this schema (every table), then each table of it damaged
every way a hand-edited or truncated file can be: its rows not a list, a row not an object, a
row missing every column, a row whose every value is of the wrong kind (an object where text,
numbers, dates and flags are stored), a date or time that is no date; and the document itself
holding a number of 5,000 digits (Python's JSON reader refuses it with a ValueError, not a
JSONDecodeError), arrays nested 100,000 deep, or a table this schema does not have (its rows
would be dropped without a word). Each must exit 1 with ``…; nothing was restored.`` and leave
the database empty. Before, most raised TypeError, AttributeError, ValueError or the driver's
IntegrityError / StatementError as tracebacks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Date, DateTime, Integer, func, select
from sqlmodel import SQLModel

from sscmatch.workflow.backup import NOT_BACKED_UP, dump

Damage = Callable[[list[dict[str, Any]], Any], Any]


def _wrong_kinds(rows: list[dict[str, Any]], table: Any) -> Any:
    return [{c.name: {"not": "a value"} for c in table.columns}]


def _no_date(rows: list[dict[str, Any]], table: Any) -> Any:
    dated = [
        c.name
        for c in table.columns
        if isinstance(getattr(c.type, "impl", c.type), DateTime | Date)
    ]
    return [{**(rows[0] if rows else {}), **dict.fromkeys(dated, "2026-02-30")}] if dated else None


def _too_large(rows: list[dict[str, Any]], table: Any) -> Any:
    whole = [c.name for c in table.columns if isinstance(c.type, Integer)]
    return [{c.name: None for c in table.columns} | dict.fromkeys(whole, 2**64)] if whole else None


USER = {
    "id": 1,
    "email": "a@b.org",
    "name": "n",
    "password_hash": "x",
    "role": "admin",
    "country": None,
    "constituency": None,
    "language": "en",
    "active": True,
    "api_token_hash": None,
    "last_login_at": None,
    "created_at": "2026-01-01T00:00:00+00:00",
    "version": 1,
    "demo": False,
    "auth_version": 0,
}
"""A user row as a backup holds it (every column)."""

DAMAGE: dict[str, Damage] = {
    "rows-not-a-list": lambda rows, table: {"rows": rows},
    "row-not-an-object": lambda rows, table: ["a row"],
    "row-without-columns": lambda rows, table: [{}],
    "values-of-the-wrong-kind": _wrong_kinds,
    "a-date-that-is-none": _no_date,
    "numbers-too-large": _too_large,  # SQLite's driver: OverflowError
}


def _rows(app: Flask) -> dict[str, int]:
    with app.extensions["sscmatch.engine"].connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def _document(app: Flask) -> dict[str, Any]:
    """A backup of the test database, with a row in every table that has one to show."""
    with app.extensions["sscmatch.engine"].connect() as connection:
        return dump(connection)


def _damaged(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(what, text) of every damaged backup."""
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables if t.name not in NOT_BACKED_UP}
    for name, table in tables.items():
        for how, damage in DAMAGE.items():
            rows = damage(document["tables"].get(name, []), table)
            if rows is None:
                continue
            forged = copy.deepcopy(document)
            forged["tables"][name] = rows
            yield f"{name}: {how}", json.dumps(forged)
    text = json.dumps(document)
    yield "a number of 5,000 digits", text[:-1] + ', "n": ' + "9" * 5000 + "}"
    yield "nested 100,000 deep", text[:-1] + ', "n": ' + "[" * 100_000 + "]" * 100_000 + "}"
    forged = copy.deepcopy(document)
    forged["tables"]["no_such_table"] = [{"id": 1}]
    yield "a table this schema has not", json.dumps(forged)
    forged = copy.deepcopy(document)
    user = SQLModel.metadata.tables["user"]
    row = {c.name: None for c in user.columns} | USER | {"id": float("nan")}
    forged["tables"]["user"] = [row]  # SQLite stored a user, its id NULL
    yield "NaN where a number is", json.dumps(forged)


def test_the_walk_damages_every_backed_up_table(app: Flask) -> None:
    document = _document(app)
    damaged = {what.partition(":")[0] for what, _ in _damaged(document)}
    assert set(document["tables"]) <= damaged


def test_a_damaged_backup_is_refused_in_one_line_and_restores_nothing(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    document = _document(app)
    before = _rows(app)
    path = tmp_path / "backup.json"
    failures = []
    for what, text in _damaged(document):
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(args=["restore", str(path)])
        said = f"{what} -> {result.exit_code}: {result.output.strip()[-300:]!r}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            failures.append(f"{said} raised {type(result.exception).__name__}")
        elif result.exit_code != 1 or "nothing was restored" not in result.output:
            failures.append(f"{said}: not refused")
        elif "Traceback" in result.output or result.output.count("\n") > 1:
            failures.append(f"{said}: more than one line")
        if _rows(app) != before:
            failures.append(f"{said}: rows changed")
            break
    assert not failures, "\n".join(failures)
