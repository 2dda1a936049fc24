"""The shape of a bundle (tables, columns, list fields) and reading its files with positions.

Every row read keeps the file and line it came from, so that a problem found later can point at it.
Unreadable input (bytes that are not UTF-8, broken CSV quoting, invalid JSON) becomes a
:class:`Problem`, never an exception.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sscmatch.bundle.csvfile import restore
from sscmatch.workflow.base import N_, DomainError

TABLES: tuple[str, ...] = (
    "themes",
    "institutions",
    "capacities",
    "needs",
    "exchanges",
    "commitments",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "themes": (
        "id",
        "label_en",
        "label_es",
        "label_pt",
        "label_fr",
        "label_ru",
        "parent",
        "synonyms",
        "sdg_targets",
        "description",
    ),
    "institutions": (
        "id",
        "name",
        "country",
        "constituency",
        "international",
        "members",
        "languages",
        "website",
        "source",
    ),
    "capacities": (
        "id",
        "country",
        "institution",
        "title",
        "description",
        "themes",
        "languages",
        "maturity",
        "modalities",
        "max_per_year",
        "available_from",
        "available_to",
        "status",
        "created",
        "source",
    ),
    "needs": (
        "id",
        "country",
        "institution",
        "title",
        "description",
        "themes",
        "languages",
        "priority",
        "modalities",
        "desired_from",
        "desired_to",
        "status",
        "created",
        "source",
    ),
    "exchanges": (
        "id",
        "title",
        "description",
        "start",
        "end",
        "providers",
        "recipients",
        "participants",
        "partners",
        "themes",
        "modality",
        "languages",
        "direction",
        "outcomes",
        "source",
    ),
    "commitments": (
        "id",
        "exchange",
        "study_tour",
        "owner_country",
        "owner_institution",
        "description",
        "due",
        "status",
        "evidence",
        "source",
    ),
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "themes": ("id", "label_en"),
    "institutions": ("id", "name", "country"),
    "capacities": ("id", "country", "title", "themes"),
    "needs": ("id", "country", "title", "themes"),
    "exchanges": ("id", "start", "themes"),
    "commitments": ("id", "owner_country", "description"),
}

# Required columns whose cell may be empty: the country of a record held by an international or
# regional body (an institution with ``international`` true), whose seat must not stand in for it.
BODY_HELD: dict[str, tuple[str, str]] = {
    "capacities": ("country", "institution"),
    "needs": ("country", "institution"),
    "commitments": ("owner_country", "owner_institution"),
}

LIST_FIELDS = frozenset(
    {
        "members",
        "synonyms",
        "sdg_targets",
        "languages",
        "themes",
        "modalities",
        "providers",
        "recipients",
        "participants",
        "partners",
    }
)


FILE = N_("file")
ROW = N_("row")
HEADER = N_("header")
RECORD = N_("record")
BLANK = N_("(blank)")
PLACES = (FILE, ROW, HEADER, RECORD, BLANK)
"""Fields of a problem that name no column but a place of the bundle: words, which the edge says
in the reader's language (a column's name is the file format's, shown as written)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle: where (``file``, ``line``, ``field``) and what, as an
    English message of the catalogue (``msgid``, marked with ``N_``) and its values (``params``:
    data as the bundle gave them, the user's text quoted, ids, column and file names, counts).

    The edge says it in the reader's language (:mod:`sscmatch.web.imports`; an import's job
    stores ``[file, line, field, msgid, params]`` for its page); ``message`` and ``str()`` are
    the English, which the command line prints. A value that is itself a word is never a
    parameter: each case is a message of its own."""

    file: str
    line: int
    field: str
    msgid: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        """The English sentence."""
        return self.msgid % dict(self.params) if self.params else self.msgid

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


def plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as JSON stores them: numbers and text as they are, anything else as its text.

    >>> plain({"n": 3, "value": "'x'", "when": Path("a")})
    {'n': 3, 'value': "'x'", 'when': 'a'}
    """
    return {
        str(k): v if isinstance(v, str | int | float) and not isinstance(v, bool) else str(v)
        for k, v in params.items()
    }


class BundleError(DomainError):
    """A bundle that cannot be imported (422); ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(N_("%(n)s problem(s) in the bundle"), n=len(problems))


@dataclass
class Row:
    table: str
    file: str
    line: int
    values: dict[str, Any]


@dataclass
class RawBundle:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})
    problems: list[Problem] = field(default_factory=list)


UNKNOWN_COLUMN = N_("unknown column (expected some of: %(names)s)")
UNKNOWN_FIELD = N_("unknown field (expected some of: %(names)s)")
UNKNOWN_TABLE = N_("unknown table (expected some of: %(names)s)")
NAMED_AS_WRITTEN = (UNKNOWN_COLUMN, UNKNOWN_FIELD, UNKNOWN_TABLE)
"""Messages whose field is a name as the bundle wrote it (a column, a field or a table nobody
knows): never one of :data:`PLACES`' words, even when it reads like one."""

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


def read_bundle(path: Path) -> RawBundle:
    """Read a CSV folder or a ``.json`` file; unreadable parts become problems."""
    bundle = RawBundle()
    if path.is_dir():
        known = {f"{t}.csv" for t in TABLES}
        for extra in sorted(p.name for p in path.glob("*.csv") if p.name not in known):
            bundle.problems.append(
                Problem(
                    extra,
                    1,
                    FILE,
                    N_("unknown table (expected one of: %(names)s)"),
                    {"names": ", ".join(sorted(known))},
                )
            )
        for table in TABLES:
            file = path / f"{table}.csv"
            if file.exists():
                _read_csv(file, table, bundle)
    elif path.is_file() and path.suffix.lower() == ".json":
        _read_json(path, bundle)
    elif path.exists():
        bundle.problems.append(
            Problem(
                path.name,
                1,
                FILE,
                N_("not a bundle (expected a folder of CSV files or a .json file)"),
            )
        )
    else:
        bundle.problems.append(Problem(str(path), 1, FILE, N_("no such file or folder")))
    return bundle


def _decode(file: Path, bundle: RawBundle) -> str | None:
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bundle.problems.append(
            Problem(
                file.name,
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


def _read_csv(file: Path, table: str, bundle: RawBundle) -> None:
    text = _decode(file, bundle)
    if text is None:
        return
    # A file without a NUL anywhere has none in any cell: its rows skip the per-cell look.
    nul = "\x00" in text
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        message, params = _csv_error(exc, BROKEN_HEADER)
        bundle.problems.append(Problem(file.name, 1, FILE, message, params))
        return
    if header is None:
        return
    header = [h.strip() for h in header]
    allowed = set(COLUMNS[table])
    for name in header:
        if name not in allowed:
            bundle.problems.append(
                Problem(
                    file.name,
                    1,
                    name or BLANK,
                    UNKNOWN_COLUMN,
                    {"names": ", ".join(COLUMNS[table])},
                )
            )
    for name in REQUIRED[table]:
        if name not in header:
            bundle.problems.append(Problem(file.name, 1, name, N_("required column is missing")))
    if len(set(header)) != len(header):
        bundle.problems.append(Problem(file.name, 1, HEADER, N_("a column appears twice")))
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            message, params = _csv_error(exc, BROKEN_ROW)
            bundle.problems.append(Problem(file.name, line, ROW, message, params))
            return
        if not any(c.strip() for c in cells):
            line = reader.line_num + 1
            continue
        if len(cells) != len(header):
            bundle.problems.append(
                Problem(
                    file.name,
                    line,
                    ROW,
                    N_("has %(n)s cells (expected %(expected)s, one per column of the header)"),
                    {"n": len(cells), "expected": len(header)},
                )
            )
        else:
            values: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=True):
                if name in allowed:
                    values[name] = restore(cell)  # an exported "'=…" is "=…" again
            if not nul or _refuse_nul(bundle, file.name, line, values):
                bundle.rows[table].append(Row(table, file.name, line, values))
        line = reader.line_num + 1


def _read_json(file: Path, bundle: RawBundle) -> None:
    text = _decode(file, bundle)
    if text is None:
        return
    # JSON text can hold a NUL only as the escape \u0000 (a raw one is not valid JSON).
    nul = "\\u0000" in text or "\x00" in text
    try:
        document = json.loads(text)
        lines = _element_lines(text)
    except json.JSONDecodeError as exc:
        message = JSON_ERRORS.get(exc.msg, INVALID_JSON)
        bundle.problems.append(Problem(file.name, exc.lineno, FILE, message))
        return
    except RecursionError:
        bundle.problems.append(
            Problem(file.name, 1, FILE, N_("invalid JSON (arrays or objects nested too deeply)"))
        )
        return
    if not isinstance(document, dict):
        bundle.problems.append(
            Problem(file.name, 1, FILE, N_("expected a JSON object with one array per table"))
        )
        return
    for key, items in document.items():
        if key not in TABLES:
            bundle.problems.append(
                Problem(
                    file.name,
                    lines.get((key, -1), 1),
                    key,
                    UNKNOWN_TABLE,
                    {"names": ", ".join(TABLES)},
                )
            )
            continue
        if not isinstance(items, list):
            bundle.problems.append(
                Problem(file.name, lines.get((key, -1), 1), key, N_("expected an array of objects"))
            )
            continue
        for index, item in enumerate(items):
            line = lines.get((key, index), 1)
            if not isinstance(item, dict):
                bundle.problems.append(
                    Problem(
                        file.name, line, key, N_("element %(n)s is not an object"), {"n": index}
                    )
                )
                continue
            values: dict[str, Any] = {}
            for name, value in item.items():
                if name not in COLUMNS[key]:
                    bundle.problems.append(
                        Problem(
                            file.name,
                            line,
                            name,
                            UNKNOWN_FIELD,
                            {"names": ", ".join(COLUMNS[key])},
                        )
                    )
                else:
                    values[name] = value
            if not nul or _refuse_nul(bundle, file.name, line, values):
                bundle.rows[key].append(Row(key, file.name, line, values))


NUL_MESSAGE = N_("contains a NUL character (\\u0000), which a database cannot store; remove it")


def _refuse_nul(bundle: RawBundle, file: str, line: int, values: dict[str, Any]) -> bool:
    """False (and a problem per field) when a value holds a NUL: PostgreSQL refuses to store
    one, so the import would fail half-way or a backup could not be restored."""
    clean = True
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            bundle.problems.append(Problem(file, line, name, NUL_MESSAGE))
            clean = False
    return clean


def _element_lines(text: str) -> dict[tuple[str, int], int]:
    """Line numbers of each element of each top-level array (``(table, -1)`` for the key).

    The standard library's parser does not report positions, so walk the top level ourselves and
    let ``raw_decode`` parse each element from its start offset.
    """
    decoder = json.JSONDecoder()
    positions: dict[tuple[str, int], int] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n,:":
            i += 1
        return i

    def line_at(i: int) -> int:
        return text.count("\n", 0, i) + 1

    i = skip(0)
    if i >= len(text) or text[i] != "{":
        return positions
    i = skip(i + 1)
    while i < len(text) and text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        positions[(str(key), -1)] = line_at(i)
        i = skip(i)
        if i < len(text) and text[i] == "[":
            i = skip(i + 1)
            index = 0
            while i < len(text) and text[i] != "]":
                positions[(str(key), index)] = line_at(i)
                _, i = decoder.raw_decode(text, i)
                i = skip(i)
                index += 1
            i += 1
        else:
            _, i = decoder.raw_decode(text, i)
        i = skip(i)
    return positions
