"""Reading a bundle's files with positions: a CSV folder, a zip of CSV files, a JSON file.

Every row read keeps the file and line it came from (and in a JSON file its array and place, and
where its text starts), so that a problem found later can point at it. Unreadable input (bytes
that are not UTF-8, broken CSV quoting, invalid JSON, a zip member that cannot be unpacked)
becomes a :class:`~sscmatch.bundle.format.Problem`, never an exception; a file of the bundle
that cannot be read, or that the format does not know, is a problem beside those of the other
files, which are all read.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sscmatch.bundle.csvfile import restore
from sscmatch.bundle.format import (
    BLANK,
    COLUMNS,
    FILE,
    HEADER,
    REQUIRED,
    ROW,
    TABLES,
    UNKNOWN_COLUMN,
    UNKNOWN_FIELD,
    UNKNOWN_TABLE,
    Problem,
    RawBundle,
    Row,
    skip_blanks,
)
from sscmatch.workflow.base import N_

INVALID_JSON = N_("invalid JSON")
JSON_ERRORS: dict[str, str] = {
    "Expecting value": N_("invalid JSON (Expecting value)"),
    "Expecting ',' delimiter": N_("invalid JSON (Expecting ',' delimiter)"),
    "Expecting ':' delimiter": N_("invalid JSON (Expecting ':' delimiter)"),
    "Expecting property name enclosed in double quotes": N_(
        "invalid JSON (Expecting property name enclosed in double quotes)"
    ),
    "Unterminated string starting at": N_("invalid JSON (Unterminated string starting at)"),
    "Invalid control character at": N_("invalid JSON (Invalid control character at)"),
    "Invalid \\escape": N_("invalid JSON (Invalid \\escape)"),
    "Invalid \\uXXXX escape": N_("invalid JSON (Invalid \\uXXXX escape)"),
    "Extra data": N_("invalid JSON (Extra data)"),
}
"""The JSON parser's reasons (``JSONDecodeError.msg``, Python's English), each a message of the
catalogue with the English the command line has always printed; another is :data:`INVALID_JSON`."""

BROKEN_HEADER: dict[str, str] = {
    "expected after": N_("broken CSV (',' expected after '\"')"),
    "end of data": N_("broken CSV (unexpected end of data)"),
    "field limit": N_("broken CSV (field larger than field limit (%(limit)s))"),
    "": N_("broken CSV"),
}
BROKEN_ROW: dict[str, str] = {
    "expected after": N_(
        "broken CSV quoting (',' expected after '\"'); quote fields that contain commas, "
        "quotes or line breaks, doubling inner quotes"
    ),
    "end of data": N_(
        "broken CSV quoting (unexpected end of data); quote fields that contain commas, "
        "quotes or line breaks, doubling inner quotes"
    ),
    "field limit": N_(
        "broken CSV quoting (field larger than field limit (%(limit)s)); quote fields that "
        "contain commas, quotes or line breaks, doubling inner quotes"
    ),
    "": N_(
        "broken CSV quoting; quote fields that contain commas, quotes or line breaks, "
        "doubling inner quotes"
    ),
}
"""The CSV reader's reasons (``csv.Error``, Python's English) in the header and in a row, by a
phrase of each: a message of the catalogue apiece, the English as before; another is ``""``'s."""


def _csv_error(exc: csv.Error, messages: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The message of ``messages`` for the CSV reader's ``exc``, with its values.

    >>> _csv_error(csv.Error("field larger than field limit (131072)"), BROKEN_HEADER)
    ('broken CSV (field larger than field limit (%(limit)s))', {'limit': 131072})
    >>> _csv_error(csv.Error("something new"), BROKEN_HEADER)
    ('broken CSV', {})
    """
    text = str(exc)
    if "field limit" in text:
        return messages["field limit"], {"limit": csv.field_size_limit()}
    for phrase in ("expected after", "end of data"):
        if phrase in text:
            return messages[phrase], {}
    return messages[""], {}


UNKNOWN_FILE = N_("unknown table (expected one of: %(names)s)")
TWICE = N_("the archive holds this table twice; keep one file per table")
NESTED = N_("a path inside the archive is refused (put the CSV files at its top)")
ENCRYPTED = N_("this file of the archive is encrypted: zip the bundle again without a password")
UNSUPPORTED = N_(
    "this file of the archive is compressed in a way that cannot be read: zip the bundle again "
    "with the usual compression (deflate)"
)
DAMAGED = N_("this file of the archive is damaged and cannot be read: zip the bundle again")
CSV_FILES = tuple(f"{t}.csv" for t in TABLES)


def read_bundle(path: Path) -> RawBundle:
    """Read a CSV folder, a ``.zip`` of CSV files or a ``.json`` file; unreadable parts become
    problems. A file of the bundle that cannot be read, or that the format does not know, is a
    problem beside those of the other files, which are all read: every problem at once."""
    bundle = RawBundle()
    if path.is_dir():
        known = {f"{t}.csv" for t in TABLES}
        for extra in sorted(p.name for p in path.glob("*.csv") if p.name not in known):
            bundle.problems.append(
                Problem(extra, 1, FILE, UNKNOWN_FILE, {"names": ", ".join(sorted(known))})
            )
        for table in TABLES:
            file = path / f"{table}.csv"
            if file.exists():
                _read_csv(file.name, file.read_bytes(), table, bundle)
    elif path.is_file() and path.suffix.lower() == ".json":
        _read_json(path.name, path.read_bytes(), bundle)
    elif path.is_file() and path.suffix.lower() == ".zip":
        _read_zip(path, bundle)
    elif path.exists():
        bundle.problems.append(
            Problem(
                path.name,
                1,
                FILE,
                N_("not a bundle (expected a folder of CSV files, a .zip of them or a .json file)"),
            )
        )
    else:
        bundle.problems.append(Problem(str(path), 1, FILE, N_("no such file or folder")))
    return bundle


def _unreadable(exc: BaseException) -> str:
    """Why a member of a zip cannot be read, as a message of the catalogue (``zipfile``'s own
    reasons are Python's English: "Bad CRC-32 for file 'needs.csv'")."""
    if isinstance(exc, NotImplementedError):  # a compression method zipfile cannot undo
        return UNSUPPORTED
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return ENCRYPTED
    return DAMAGED


def zip_member_table(name: str) -> str | None:
    """The table a zip member's name holds (its file name, in any folder of the archive), or
    None for a name the format does not know."""
    flat = PurePosixPath(name.replace("\\", "/")).name
    return flat[: -len(".csv")] if flat in CSV_FILES else None


def _read_zip(path: Path, bundle: RawBundle) -> None:
    """Every member of the archive: each known table read as a CSV file of the bundle, each other
    member a problem of its own (a name the format does not know, a folder inside the archive, a
    table twice, a file that cannot be unpacked), none of which stops the others being read."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        bundle.problems.append(Problem(path.name, 1, FILE, N_("not a readable zip archive")))
        return
    with archive:
        seen: set[str] = set()
        for member in archive.infolist():
            if member.is_dir():
                continue
            name = member.filename
            parts = PurePosixPath(name.replace("\\", "/"))
            table = zip_member_table(name)
            if parts.name.lower() in seen:
                # A zip may hold two entries of one name: unpacked, the last would silently win.
                bundle.problems.append(Problem(name, 1, FILE, TWICE))
                continue
            seen.add(parts.name.lower())
            if parts.is_absolute() or ".." in parts.parts or len(parts.parts) != 1:
                bundle.problems.append(Problem(name, 1, FILE, NESTED))
            elif table is None:
                bundle.problems.append(
                    Problem(name, 1, FILE, UNKNOWN_FILE, {"names": ", ".join(sorted(CSV_FILES))})
                )
            try:
                data = archive.read(member)
            except (
                zipfile.BadZipFile,
                OSError,
                RuntimeError,
                ValueError,
                EOFError,
                NotImplementedError,
                zlib.error,
            ) as exc:
                bundle.problems.append(Problem(name, 1, FILE, _unreadable(exc)))
                continue
            if table is not None:
                # a table in a folder of the archive is read too (its problems come with the
                # folder's), so that moving it to the top is the one thing left to do
                _read_csv(name, data, table, bundle)


def _decode(name: str, data: bytes, bundle: RawBundle) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bundle.problems.append(
            Problem(
                name,
                line,
                FILE,
                N_(
                    "byte %(byte)s is not UTF-8 (expected a UTF-8 encoded file; re-save it as "
                    "UTF-8)"
                ),
                {"byte": f"0x{data[exc.start]:02x}"},
            )
        )
        return None


def _read_csv(name: str, data: bytes, table: str, bundle: RawBundle) -> None:
    """The rows of CSV file ``name`` (``data``, its bytes), each at the line where it starts
    (a quoted cell may hold line breaks), its cells by the header's column names."""
    text = _decode(name, data, bundle)
    del data
    if text is None:
        return
    # A file without a NUL anywhere has none in any cell: its rows skip the per-cell look.
    nul = "\x00" in text
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        message, params = _csv_error(exc, BROKEN_HEADER)
        bundle.problems.append(Problem(name, 1, FILE, message, params))
        return
    if header is None:
        return
    header = [h.strip() for h in header]
    allowed = set(COLUMNS[table])
    for column in header:
        if column not in allowed:
            bundle.problems.append(
                Problem(
                    name,
                    1,
                    column or BLANK,
                    UNKNOWN_COLUMN,
                    {"names": ", ".join(COLUMNS[table])},
                )
            )
    for column in REQUIRED[table]:
        if column not in header:
            bundle.problems.append(Problem(name, 1, column, N_("required column is missing")))
    if len(set(header)) != len(header):
        bundle.problems.append(Problem(name, 1, HEADER, N_("a column appears twice")))
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            message, params = _csv_error(exc, BROKEN_ROW)
            bundle.problems.append(Problem(name, line, ROW, message, params))
            return
        if not any(c.strip() for c in cells):
            line = reader.line_num + 1
            continue
        if len(cells) != len(header):
            bundle.problems.append(
                Problem(
                    name,
                    line,
                    ROW,
                    N_("has %(n)s cells (expected %(expected)s, one per column of the header)"),
                    {"n": len(cells), "expected": len(header)},
                )
            )
        else:
            values: dict[str, Any] = {}
            for column, cell in zip(header, cells, strict=True):
                if column in allowed:
                    values[column] = restore(cell)  # an exported "'=…" is "=…" again
            row = Row(table, name, line, values)
            if not nul or _refuse_nul(bundle, row):
                bundle.rows[table].append(row)
        line = reader.line_num + 1


def _read_json(name: str, data: bytes, bundle: RawBundle) -> None:
    """The records of JSON file ``name``: each at its array and place in it, and at the lines
    of the file where it and each of its fields start."""
    text = _decode(name, data, bundle)
    del data
    if text is None:
        return
    # JSON text can hold a NUL only as the escape \u0000 (a raw one is not valid JSON).
    nul = "\\u0000" in text or "\x00" in text
    try:
        document = json.loads(text)
        places = _places(text)
    except json.JSONDecodeError as exc:
        message = JSON_ERRORS.get(exc.msg, INVALID_JSON)
        bundle.problems.append(Problem(name, exc.lineno, FILE, message))
        return
    except RecursionError:
        bundle.problems.append(
            Problem(name, 1, FILE, N_("invalid JSON (arrays or objects nested too deeply)"))
        )
        return
    if not isinstance(document, dict):
        bundle.problems.append(
            Problem(name, 1, FILE, N_("expected a JSON object with one array per table"))
        )
        return
    for key, items in document.items():
        key_line = places.keys.get(key, 1)
        if key not in TABLES:
            bundle.problems.append(
                Problem(name, key_line, key, UNKNOWN_TABLE, {"names": ", ".join(TABLES)})
            )
            continue
        if not isinstance(items, list):
            bundle.problems.append(Problem(name, key_line, key, N_("expected an array of objects")))
            continue
        for index, item in enumerate(items):
            line, offset = places.elements.get((key, index), (key_line, -1))
            row = Row(key, name, line, {}, index, text, offset)
            if not isinstance(item, dict):
                bundle.problems.append(
                    row.problem(key, N_("element %(n)s is not an object"), {"n": index})
                )
                continue
            row.values = {n: v for n, v in item.items() if n in COLUMNS[key]}
            for field_name in item:
                if field_name not in COLUMNS[key]:
                    bundle.problems.append(
                        row.problem(field_name, UNKNOWN_FIELD, {"names": ", ".join(COLUMNS[key])})
                    )
            if not nul or _refuse_nul(bundle, row):
                bundle.rows[key].append(row)


NUL_MESSAGE = N_("contains a NUL character (\\u0000), which a database cannot store; remove it")


def _refuse_nul(bundle: RawBundle, row: Row) -> bool:
    """False (and a problem per field) when a value holds a NUL: PostgreSQL refuses to store
    one, so the import would fail half-way or a backup could not be restored."""
    clean = True
    for name, value in row.values.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            bundle.problems.append(row.problem(name, NUL_MESSAGE))
            clean = False
    return clean


@dataclass
class _Places:
    """Where a JSON bundle's parts start: each top-level key's line, and each element of each
    array's line and offset."""

    keys: dict[str, int] = field(default_factory=dict)
    elements: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)


def _places(text: str) -> _Places:
    """The lines and offsets of a (valid) JSON bundle's keys and elements.

    The standard library's parser reports no positions, so walk the top level ourselves, letting
    ``raw_decode`` parse each element from its start offset. Lines are counted forward from the
    last position (the offsets only grow), so the walk stays linear in the file.

    >>> p = _places('{"needs": [{"id": "a"},\\n {"id": "b",\\n  "title": "t"}]}')
    >>> p.keys, p.elements
    ({'needs': 1}, {('needs', 0): (1, 11), ('needs', 1): (2, 25)})
    """
    decoder = json.JSONDecoder()
    places = _Places()
    counted, line = 0, 1  # the offset up to which newlines are counted, and the line there

    def line_at(i: int) -> int:
        nonlocal counted, line
        line += text.count("\n", counted, i)
        counted = i
        return line

    i = skip_blanks(text, 0)
    if i >= len(text) or text[i] != "{":
        return places
    i = skip_blanks(text, i + 1)
    while i < len(text) and text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        places.keys[str(key)] = line_at(i)
        i = skip_blanks(text, i, ":")
        if i < len(text) and text[i] == "[":
            i = skip_blanks(text, i + 1)
            index = 0
            while i < len(text) and text[i] != "]":
                places.elements[(str(key), index)] = (line_at(i), i)
                _, i = decoder.raw_decode(text, i)
                i = skip_blanks(text, i, ",")
                index += 1
            i += 1
        else:
            _, i = decoder.raw_decode(text, i)
        i = skip_blanks(text, i, ",")
    return places
