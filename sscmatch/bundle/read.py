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
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sscmatch.bundle.csvfile import restore
from sscmatch.bundle.format import (
    BLANK,
    COLUMNS,
    FILE,
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
from sscmatch.config import DEFAULTS
from sscmatch.dates import shown
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
TOO_LARGE = N_(
    "the archive unpacks to %(size)s bytes, more than the limit of %(limit)s bytes; nothing of "
    "it was read"
)
TOO_MANY = N_(
    "the archive holds %(n)s entries, more than the limit of %(limit)s; nothing of it was read"
)
CSV_FILES = tuple(f"{t}.csv" for t in TABLES)
MIB = 1024 * 1024
MAX_ZIP_ENTRIES = 1000
"""Entries a zip of a bundle may hold (folders and an operating system's files count): six
tables, with room for a Mac's ``__MACOSX/`` copies and whatever else rides along."""


@dataclass(frozen=True)
class ZipLimits:
    """What a zip of a bundle may unpack to, whoever reads it (the command line, a web upload,
    its import job): ``size`` bytes in all, as its entries declare them (``zipfile`` never
    unpacks an entry beyond its declared size: more makes it a damaged entry), and ``entries``
    entries. A zip beyond either is refused whole, before any entry is unpacked."""

    size: int = int(DEFAULTS["MAX_UPLOAD_MB"]) * MIB
    entries: int = MAX_ZIP_ENTRIES


def zip_limits(config: Mapping[str, Any]) -> ZipLimits:
    """The limits of a configuration: as many bytes unpacked as an upload may have
    (``MAX_UPLOAD_MB``), so a zip the web refuses is refused by the command line too."""
    return ZipLimits(size=int(config.get("MAX_UPLOAD_MB") or DEFAULTS["MAX_UPLOAD_MB"]) * MIB)


NOT_A_ZIP = N_("not a readable zip archive")


def open_zip(handle: IO[bytes], name: str, limits: ZipLimits) -> zipfile.ZipFile | Problem:
    """The zip ``name`` read from ``handle``, or why it is refused whole: more entries than
    ``limits`` allow (as its end record says, before ``zipfile`` reads a record per entry into
    memory, then as counted), more bytes unpacked (as its entries declare them), or no zip."""
    declared = _entries_declared(handle)
    if declared is not None and declared > limits.entries:
        return Problem(name, 1, FILE, TOO_MANY, {"n": declared, "limit": limits.entries})
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return Problem(name, 1, FILE, NOT_A_ZIP)
    members = archive.infolist()
    size = sum(m.file_size for m in members)
    refused = None
    if len(members) > limits.entries:
        refused = Problem(name, 1, FILE, TOO_MANY, {"n": len(members), "limit": limits.entries})
    elif size > limits.size:
        refused = Problem(name, 1, FILE, TOO_LARGE, {"size": size, "limit": limits.size})
    if refused is not None:
        archive.close()
        return refused
    return archive


def _entries_declared(handle: IO[bytes]) -> int | None:
    """How many entries a zip's end of central directory record (or its zip64 record) says it
    holds; None where there is none to read (``zipfile`` then says what is wrong)."""
    end = handle.seek(0, io.SEEK_END)
    handle.seek(max(0, end - 22 - 0xFFFF))  # the record, and a comment of 64 KiB at most
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = int(struct.unpack_from("<H", tail, at + 10)[0])
    locator = at - 20  # a zip64 archive's count is in its own record, which this locates
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        handle.seek(int(struct.unpack_from("<Q", tail, locator + 8)[0]))
        record = handle.read(40)
        if record[:4] == b"PK\x06\x06" and len(record) == 40:
            count = int(struct.unpack_from("<Q", record, 32)[0])
    return count


DEBRIS_FOLDERS = frozenset({"__macosx", ".spotlight-v100", ".trashes", ".fseventsd"})
DEBRIS_FILES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
"""What an operating system leaves beside a bundle (names in lower case): a zip made on a Mac
carries ``__MACOSX/`` (a ``._name`` copy of each file's attributes) and ``.DS_Store`` files, a
folder copied from a Mac's disk its ``Icon`` file (its name ends in a carriage return),
``.Spotlight-V100``, ``.Trashes`` and ``.fseventsd``; Windows writes ``Thumbs.db``,
``ehthumbs.db`` and ``desktop.ini`` into folders. None is part of the bundle: each is passed
over without a word (:func:`is_debris`)."""


def is_debris(name: str) -> bool:
    """Whether a file of a folder or an entry of a zip is an operating system's own
    (:data:`DEBRIS_FOLDERS`, :data:`DEBRIS_FILES`, or a Mac's ``._name`` attributes).

    >>> [is_debris(n) for n in ("__MACOSX/._needs.csv", ".DS_Store", "b/Thumbs.db", "needs.csv")]
    [True, True, True, False]
    """
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts:
        return False
    last = parts[-1].lower()
    return (
        last in DEBRIS_FILES
        or last.startswith("._")
        or any(p.lower() in DEBRIS_FOLDERS for p in parts[:-1])
    )


def read_bundle(path: Path, limits: ZipLimits | None = None) -> RawBundle:
    """Read a CSV folder, a ``.zip`` of CSV files or a ``.json`` file; unreadable parts become
    problems. A file of the bundle that cannot be read, or that the format does not know, is a
    problem beside those of the other files, which are all read: every problem at once. An
    operating system's files (:func:`is_debris`) are passed over; a zip beyond ``limits`` (by
    default :class:`ZipLimits`' own) is one problem, and nothing of it is read."""
    bundle = RawBundle()
    if path.is_dir():
        known = {f"{t}.csv" for t in TABLES}
        extras = (p.name for p in path.glob("*.csv") if p.name not in known)
        for extra in sorted(e for e in extras if not is_debris(e)):
            bundle.problems.append(
                Problem(extra, 1, FILE, UNKNOWN_FILE, {"names": ", ".join(sorted(known))})
            )
        for table in TABLES:
            file = path / f"{table}.csv"
            if file.exists() or file.is_symlink():
                data = _file_bytes(file, bundle)
                if data is not None:
                    _read_csv(file.name, data, table, bundle)
    elif path.is_file() and path.suffix.lower() == ".json":
        data = _file_bytes(path, bundle)
        if data is not None:
            _read_json(path.name, data, bundle)
    elif path.is_file() and path.suffix.lower() == ".zip":
        _read_zip(path, bundle, limits or ZipLimits())
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
    if not bundle.tables and not bundle.problems:  # the wrong folder or file, most likely
        names = ", ".join(sorted(CSV_FILES) if path.is_dir() or path.suffix == ".zip" else TABLES)
        bundle.problems.append(Problem(path.name, 1, FILE, NO_TABLE, {"names": names}))
    return bundle


NO_TABLE = N_("it holds no table of a bundle (expected one or more of: %(names)s)")


NOT_A_FILE = N_(
    "this is not a file that can be read (a folder, a link to nothing or a device); put the "
    "table's CSV file here"
)
UNREADABLE = N_("this file cannot be read (no permission, or the disk refused); check it opens")


def _file_bytes(file: Path, bundle: RawBundle) -> bytes | None:
    """The bytes of a file of the bundle, or None and a problem: a folder, a link to nothing
    or a device (a pipe would never end) where a table's file should be, or a file the system
    will not read."""
    if not file.is_file():
        bundle.problems.append(Problem(file.name, 1, FILE, NOT_A_FILE))
        return None
    try:
        return file.read_bytes()
    except OSError:
        bundle.problems.append(Problem(file.name, 1, FILE, UNREADABLE))
        return None


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


def _read_zip(path: Path, bundle: RawBundle, limits: ZipLimits) -> None:
    """Every member of the archive: each known table read as a CSV file of the bundle, each other
    member a problem of its own (a name the format does not know, a folder inside the archive, a
    table twice, a file that cannot be unpacked), none of which stops the others being read; an
    operating system's files passed over. An archive beyond ``limits`` is one problem, and none
    of its members is unpacked."""
    try:
        handle = path.open("rb")
    except OSError:
        bundle.problems.append(Problem(path.name, 1, FILE, NOT_A_ZIP))
        return
    with handle:
        archive = open_zip(handle, path.name, limits)
        if isinstance(archive, Problem):
            bundle.problems.append(archive)
            return
        with archive:
            _read_members(archive, bundle)


def _read_members(archive: zipfile.ZipFile, bundle: RawBundle) -> None:
    """The members of an open archive, each read or a problem (:func:`_read_zip`)."""
    seen: set[str] = set()
    for member in archive.infolist():
        if member.is_dir() or is_debris(member.filename):
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


TWICE_IN_HEADER = N_("this column is named more than once in the header (%(value)s); keep one")


def column_name(written: str) -> str:
    """A CSV header's cell as the column it names: a spreadsheet's ``Title`` or `` title `` is
    ``title`` (case and surrounding white space do not count).

    >>> column_name(" Title "), column_name("OWNER_COUNTRY\xa0"), column_name("colour")
    ('title', 'owner_country', 'colour')
    """
    return written.strip().lower()


def _read_csv(name: str, data: bytes, table: str, bundle: RawBundle) -> None:
    """The rows of CSV file ``name`` (``data``, its bytes), each at the line where it starts
    (a quoted cell may hold line breaks), its cells by the header's column names."""
    bundle.tables.add(table)
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
    written = header
    header = [column_name(h) for h in written]
    allowed = set(COLUMNS[table])
    for column, as_written in zip(header, written, strict=True):
        if column not in allowed:
            bundle.problems.append(
                Problem(
                    name,
                    1,
                    as_written.strip() or BLANK,
                    UNKNOWN_COLUMN,
                    {"names": ", ".join(COLUMNS[table])},
                )
            )
    for column in REQUIRED[table]:
        if column not in header:
            bundle.problems.append(Problem(name, 1, column, N_("required column is missing")))
    for column in sorted({c for c in header if c and header.count(c) > 1}):
        names = ", ".join(shown(w) for c, w in zip(header, written, strict=True) if c == column)
        bundle.problems.append(Problem(name, 1, column, TWICE_IN_HEADER, {"value": names}))
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
        document = json.loads(text, object_pairs_hook=_Object.of)
        places = _places(text)
    except json.JSONDecodeError as exc:
        message = JSON_ERRORS.get(exc.msg, INVALID_JSON)
        bundle.problems.append(Problem(name, exc.lineno, FILE, message))
        return
    except ValueError:  # Python reads no integer of more than 4,300 digits
        bundle.problems.append(Problem(name, _long_number_line(text), FILE, LONG_NUMBER))
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
    for key in getattr(document, "twice", ()):
        bundle.problems.append(Problem(name, places.keys.get(key, 1), key, TABLE_TWICE))
    for key, items in document.items():
        key_line = places.keys.get(key, 1)
        if key not in TABLES:
            bundle.problems.append(
                Problem(name, key_line, key, UNKNOWN_TABLE, {"names": ", ".join(TABLES)})
            )
            continue
        bundle.tables.add(key)
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
            for field_name in getattr(item, "twice", ()):
                bundle.problems.append(row.problem(field_name, FIELD_TWICE))
            for field_name in item:
                if field_name not in COLUMNS[key]:
                    bundle.problems.append(
                        row.problem(field_name, UNKNOWN_FIELD, {"names": ", ".join(COLUMNS[key])})
                    )
            if not nul or _refuse_nul(bundle, row):
                bundle.rows[key].append(row)


LONG_NUMBER = N_("invalid JSON (a number of more than 4,300 digits)")
TABLE_TWICE = N_("this table is given twice in the file; keep one array per table")
FIELD_TWICE = N_("this field is given twice in the record; keep one")


class _Object(dict[str, Any]):
    """A JSON object as read, with the names it gave more than once (``twice``): Python's
    reader keeps the last value of a name given twice, and the earlier ones would be lost
    without a word."""

    twice: tuple[str, ...] = ()

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Object:
        found = cls(pairs)
        if len(found) != len(pairs):
            names = [k for k, _ in pairs]
            found.twice = tuple(k for k in found if names.count(k) > 1)
        return found


def _long_number_line(text: str) -> int:
    """The line of the first number of more than 4,300 digits in ``text`` (1 if none shows)."""
    found = re.search(r"[0-9]{4301,}", text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


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
