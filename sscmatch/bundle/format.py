"""The shape of a bundle (tables, columns, list fields), its problems and its rows as read.

Every row read keeps the file and line it came from (:mod:`sscmatch.bundle.read` reads them), so
that a problem found later can point at it, at its field's own line in a JSON file
(:meth:`Row.at`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sscmatch.dates import shown
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
        "date_note",
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
    """One thing wrong with a bundle: where (``file``, ``line``, ``field``, and in a JSON file
    ``record``: which element of which array, with its id, as :func:`record_name` says it) and
    what, as an English message of the catalogue (``msgid``, marked with ``N_``) and its values
    (``params``: data as the bundle gave them, the user's text quoted, ids, column and file
    names, counts).

    ``line`` is the line of the file where the field (else the record, else the table) starts: a
    CSV row's first line, a JSON member's own line. A JSON file written on one line has every
    record on line 1, true but no help: ``record`` is what tells them apart. A CSV row needs no
    ``record``: its line names it (the ``field`` is the column as its header writes it).

    The edge says it in the reader's language (:mod:`sscmatch.web.imports`; an import's job
    stores ``[file, line, field, msgid, params, record]`` for its page); ``message`` and
    ``str()`` are the English, which the command line prints. A value that is itself a word is
    never a parameter: each case is a message of its own."""

    file: str
    line: int
    field: str
    msgid: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    record: str = ""

    @property
    def message(self) -> str:
        """The English sentence."""
        return self.msgid % dict(self.params) if self.params else self.msgid

    @property
    def where(self) -> str:
        """``file:line:``, then the record when there is one (:func:`place`)."""
        return place(self.file, self.line, self.record)

    def __str__(self) -> str:
        return printable(f"{self.where} {self.field}: {self.message}")


OBEYED = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What a terminal obeys instead of showing: control characters (an escape sequence, a line
break, a carriage return, a bell) and the marks that turn the direction of the text after
them."""


def printable(text: str) -> str:
    """``text`` as a terminal shows it and does not obey it: a bundle's own text (a column, a
    file of an archive, a field nobody knows) said in a problem line cannot clear the screen,
    retitle the window, start a line of its own or read backwards; each such character is
    written as its escape.

    >>> print(printable("a\\x1b[2J b\\nc \\u202ed"))
    a\\x1b[2J b\\nc \\u202ed
    """
    return OBEYED.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def place(file: str, line: int, record: str = "") -> str:
    """Where a problem (or a resolved name) is, as the command line and the import page say it:
    ``file:line:``, then the record of a JSON file when there is one.

    >>> place("needs.csv", 4), place("b.json", 1, "needs[3] (id 'N-1')")
    ('needs.csv:4:', "b.json:1: needs[3] (id 'N-1'):")
    """
    return f"{file}:{line}: {record}:" if record else f"{file}:{line}:"


def record_name(table: str, index: int, record_id: Any = None) -> str:
    """A JSON bundle's record as a problem names it: its array and place in it (counted from 0,
    as JSON tools count), and its id when it has one (quoted, cut short).

    >>> record_name("needs", 3, "N-2019-004"), record_name("needs", 0), record_name("needs", 1, 7)
    ("needs[3] (id 'N-2019-004')", 'needs[0]', 'needs[1] (id 7)')
    """
    name = f"{table}[{index}]"
    if isinstance(record_id, str) and record_id.strip():
        return f"{name} (id {shown(record_id.strip())})"
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        return f"{name} (id {record_id})"
    return name


def plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as JSON stores them: numbers and text as they are, anything else as its text.

    >>> from pathlib import Path
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
    """One record as read: its table, file, line and values; in a JSON file also its place in
    its array (``index``), and the file's text with the offset where the record starts, from
    which the line of each of its fields is worked out when a problem asks (:meth:`at`)."""

    table: str
    file: str
    line: int
    values: dict[str, Any]
    index: int = -1
    text: str | None = dataclasses.field(default=None, repr=False)
    offset: int = -1
    lines: dict[str, int] | None = None

    @property
    def record(self) -> str:
        """The record as a problem names it in a JSON file (:func:`record_name`); ``""`` for a
        CSV row, which its line names."""
        if self.index < 0:
            return ""
        return record_name(self.table, self.index, self.values.get("id"))

    def at(self, name: str) -> int:
        """The line of field ``name`` (the record's for a field it does not have)."""
        if self.lines is None and self.text is not None and self.offset >= 0:
            self.lines = _member_lines(self.text, self.offset, self.line)
        return self.line if self.lines is None else self.lines.get(name, self.line)

    def problem(self, name: str, msgid: str, params: Mapping[str, Any] | None = None) -> Problem:
        """A problem of this record's field ``name`` (or a place of :data:`PLACES`)."""
        return Problem(self.file, self.at(name), name, msgid, params or {}, self.record)


@dataclass
class RawBundle:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})
    problems: list[Problem] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)
    """The tables the bundle gave (a file or an array each, rows or none)."""


UNKNOWN_COLUMN = N_("unknown column (expected some of: %(names)s)")
UNKNOWN_FIELD = N_("unknown field (expected some of: %(names)s)")
UNKNOWN_TABLE = N_("unknown table (expected some of: %(names)s)")
NAMED_AS_WRITTEN = (UNKNOWN_COLUMN, UNKNOWN_FIELD, UNKNOWN_TABLE)
"""Messages whose field is a name as the bundle wrote it (a column, a field or a table nobody
knows): never one of :data:`PLACES`' words, even when it reads like one."""

_BLANK = " \t\r\n"


def skip_blanks(text: str, i: int, punctuation: str = "") -> int:
    """The offset after blanks (and ``punctuation``) from ``i``."""
    chars = _BLANK + punctuation
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _member_lines(text: str, start: int, line: int) -> dict[str, int] | None:
    """The line of each key of the JSON object at offset ``start`` (on line ``line``) of a valid
    ``text``; None when it is no object.

    >>> _member_lines('[{"id": "b",\\n  "title": "t"}]', 1, 1)
    {'id': 1, 'title': 2}
    """
    if text[start : start + 1] != "{":
        return None
    decoder = json.JSONDecoder()
    lines: dict[str, int] = {}
    i = skip_blanks(text, start + 1)
    while i < len(text) and text[i] != "}":
        key_at = i
        key, i = decoder.raw_decode(text, i)
        line += text.count("\n", start, key_at)
        start = key_at
        lines[str(key)] = line
        _, i = decoder.raw_decode(text, skip_blanks(text, i, ":"))
        i = skip_blanks(text, i, ",")
    return lines
