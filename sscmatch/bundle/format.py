"""The shape of a bundle (tables, columns, list fields) and reading its files with positions.

Every row read keeps the file and line it came from, so that a problem found later can point at it.
Unreadable input (bytes that are not UTF-8, broken CSV quoting, invalid JSON) becomes a
:class:`Problem`, never an exception.
"""

from __future__ import annotations

import csv
import io
import json
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


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


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


def read_bundle(path: Path) -> RawBundle:
    """Read a CSV folder or a ``.json`` file; unreadable parts become problems."""
    bundle = RawBundle()
    if path.is_dir():
        known = {f"{t}.csv" for t in TABLES}
        for extra in sorted(p.name for p in path.glob("*.csv") if p.name not in known):
            bundle.problems.append(
                Problem(
                    extra, 1, "file", f"unknown table (expected one of: {', '.join(sorted(known))})"
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
                "file",
                "not a bundle (expected a folder of CSV files or a .json file)",
            )
        )
    else:
        bundle.problems.append(Problem(str(path), 1, "file", "no such file or folder"))
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
                "file",
                f"byte 0x{data[exc.start]:02x} is not UTF-8 (expected a UTF-8 encoded file; "
                "re-save it as UTF-8)",
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
        bundle.problems.append(Problem(file.name, 1, "file", f"broken CSV ({exc})"))
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
                    name or "(blank)",
                    f"unknown column (expected some of: {', '.join(COLUMNS[table])})",
                )
            )
    for name in REQUIRED[table]:
        if name not in header:
            bundle.problems.append(Problem(file.name, 1, name, "required column is missing"))
    if len(set(header)) != len(header):
        bundle.problems.append(Problem(file.name, 1, "header", "a column appears twice"))
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bundle.problems.append(
                Problem(
                    file.name,
                    line,
                    "row",
                    f"broken CSV quoting ({exc}); quote fields that contain commas, quotes or "
                    "line breaks, doubling inner quotes",
                )
            )
            return
        if not any(c.strip() for c in cells):
            line = reader.line_num + 1
            continue
        if len(cells) != len(header):
            bundle.problems.append(
                Problem(
                    file.name,
                    line,
                    "row",
                    f"has {len(cells)} cells "
                    f"(expected {len(header)}, one per column of the header)",
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
        bundle.problems.append(Problem(file.name, exc.lineno, "file", f"invalid JSON ({exc.msg})"))
        return
    except RecursionError:
        bundle.problems.append(
            Problem(file.name, 1, "file", "invalid JSON (arrays or objects nested too deeply)")
        )
        return
    if not isinstance(document, dict):
        bundle.problems.append(
            Problem(file.name, 1, "file", "expected a JSON object with one array per table")
        )
        return
    for key, items in document.items():
        if key not in TABLES:
            bundle.problems.append(
                Problem(
                    file.name,
                    lines.get((key, -1), 1),
                    key,
                    f"unknown table (expected some of: {', '.join(TABLES)})",
                )
            )
            continue
        if not isinstance(items, list):
            bundle.problems.append(
                Problem(file.name, lines.get((key, -1), 1), key, "expected an array of objects")
            )
            continue
        for index, item in enumerate(items):
            line = lines.get((key, index), 1)
            if not isinstance(item, dict):
                bundle.problems.append(
                    Problem(file.name, line, key, f"element {index} is not an object")
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
                            f"unknown field (expected some of: {', '.join(COLUMNS[key])})",
                        )
                    )
                else:
                    values[name] = value
            if not nul or _refuse_nul(bundle, file.name, line, values):
                bundle.rows[key].append(Row(key, file.name, line, values))


NUL_MESSAGE = "contains a NUL character (\\u0000), which a database cannot store; remove it"


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
