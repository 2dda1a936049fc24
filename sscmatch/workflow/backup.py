"""Backup and restore of every table (users, runs, reviews, tours, audit… not only the bundle).

A backup is one JSON document: the schema revision it was taken at and every row of every table in
foreign-key order. Restore writes into an empty database of the same revision, in one
transaction, so a failure leaves the database as it was. Integer ids are kept, and PostgreSQL's
id sequences are moved past them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy import Date, DateTime, Integer, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

import sscmatch.models  # noqa: F401  (registers every table)
from sscmatch.bundle.csvfile import replace_file
from sscmatch.workflow.base import DomainError

FORMAT = "sscmatch-backup"


class BackupError(DomainError):
    """A backup that cannot be restored here; the message says why."""


# Bookkeeping the database keeps for itself (triggers maintain it; sign-in counters are
# short-lived; the job queue belongs to the running service: a restored database must not
# start its old jobs again; the keys of forms sent guard against a form sent twice, for
# minutes) and derived data (text vectors are remade from the records' texts
# when missing), not data to carry over.
NOT_BACKED_UP = {
    "data_change",
    "sign_in_throttle",
    "id_counter",
    "text_vector",
    "job",
    "job_payload",
    "job_worker",
    "sent_form",
}


def _tables() -> list[Any]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in NOT_BACKED_UP]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def dump(connection: Connection) -> dict[str, Any]:
    revision = MigrationContext.configure(connection).get_current_revision()
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _tables():
        order = list(table.primary_key.columns)
        rows = connection.execute(select(table).order_by(*order)).mappings()
        tables[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return {"format": FORMAT, "revision": revision, "tables": tables}


def write_backup(connection: Connection, path: Path) -> dict[str, int]:
    document = dump(connection)
    text = json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True) + "\n"
    replace_file(path, text.encode("utf-8"))  # a failed write leaves the last backup
    return {name: len(rows) for name, rows in document["tables"].items()}


def _typed(table: Any, number: int, row: Any) -> dict[str, Any]:
    """Row ``number`` (from 1) of ``table`` as the database takes it, or why it cannot be: a
    backup's row holds every column of its table (the revision is the same), each date and
    time as ISO text."""
    where = f"table {table.name}, row {number}"
    if not isinstance(row, dict):
        raise BackupError(f"{where}: expected an object of column values")
    unknown = sorted(k for k in row if k not in table.c)
    if unknown:
        raise BackupError(f"{where}: the table has no column {unknown[0]!r}")
    missing = [c.name for c in table.columns if c.name not in row]
    if missing:
        raise BackupError(f"{where}: missing column(s) {', '.join(missing)}")
    out = {}
    for key, value in row.items():
        kind = table.c[key].type
        try:
            if value is not None and _is_datetime(kind):
                value = datetime.fromisoformat(value)
            elif value is not None and isinstance(kind, Date):
                value = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise BackupError(f"{where}: {key} {value!r} is not an ISO date or time") from None
        out[key] = value
    return out


def _is_datetime(column_type: Any) -> bool:
    # SQLModel's UTCDateTime is a TypeDecorator over DateTime: look through it.
    return isinstance(getattr(column_type, "impl", column_type), DateTime)


def _no_constant(name: str) -> Any:
    """Python's JSON reader takes ``NaN`` and ``Infinity``, which JSON has not and a backup
    never holds (SQLite stored a NaN id as NULL: a row under a new id)."""
    raise ValueError(f"{name} is not a JSON number")


def restore_backup(connection: Connection, path: Path) -> dict[str, int]:
    """Restore ``path`` into the (empty) database behind ``connection``; the caller commits."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (OSError, ValueError) as exc:  # undecodable, not JSON, a number of 4,300+ digits
        raise BackupError(f"{path}: not a readable backup ({exc})") from None
    except RecursionError:
        raise BackupError(f"{path}: not a readable backup (nested too deeply)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f"{path}: not an sscmatch backup (expected format {FORMAT!r})")
    current = MigrationContext.configure(connection).get_current_revision()
    if document.get("revision") != current:
        raise BackupError(
            f"{path} was taken at schema revision {document.get('revision')}, this database is at "
            f"{current}: restore into a database of the same revision, then run sscmatch init-db"
        )
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise BackupError(f"{path}: the backup has no tables")
    known = {t.name for t in _tables()}
    for name, rows in tables.items():
        if name not in known:
            raise BackupError(f"{path}: {name!r} is not a table of this schema")
        if not isinstance(rows, list):
            raise BackupError(f"{path}: table {name}: expected a list of rows")
    for table in _tables():
        if (
            table.name != "country"
            and connection.execute(select(func.count()).select_from(table)).scalar()
        ):
            raise BackupError(
                f"the database is not empty (table {table.name} has rows); "
                "restore needs an empty database"
            )
    counts: dict[str, int] = {}
    for table in _tables():
        rows = tables.get(table.name, [])
        if table.name == "country":
            connection.execute(table.delete())  # the backup's countries replace the vocabulary's
        if rows:
            typed = [_typed(table, number, r) for number, r in enumerate(rows, 1)]
            try:
                connection.execute(insert(table), typed)
            except (SQLAlchemyError, TypeError, ValueError, OverflowError) as exc:
                cause = getattr(exc, "orig", None) or exc  # the driver's words
                reason = str(cause).strip().splitlines()[0] if str(cause).strip() else repr(cause)
                raise BackupError(f"table {table.name}: rows cannot be stored ({reason})") from None
        counts[table.name] = len(rows)
    if connection.dialect.name == "postgresql":
        for table in _tables():
            key = list(table.primary_key.columns)
            if len(key) == 1 and isinstance(key[0].type, Integer) and counts.get(table.name):
                name, column = table.name, key[0].name
                sequence = f"pg_get_serial_sequence('\"{name}\"', '{column}')"
                connection.execute(
                    text(f'SELECT setval({sequence}, (SELECT MAX({column}) FROM "{name}"))')
                )
    return counts
