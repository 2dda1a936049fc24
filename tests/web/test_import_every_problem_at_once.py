"""A refused bundle lists every problem it has at once, each where it is, and writes nothing.

The walk: every table of the bundle format with a problem of its own, together with the next
table's problem and a member the format does not know (``people.csv``, or a ``people`` array),
in every container a bundle comes in: a folder of CSV files, a zip of them, a JSON file on one
line and a JSON file over many lines (as ``sscmatch export`` writes it). Each problem is planted
in the third record of its table, after a record whose text spans two lines (a quoted CSV cell)
and a blank line, so a place counted wrong shows.

- The command line's import (``import_bundle``, and ``sscmatch import`` itself) reports exactly
  the three problems, each at its file, line and, in a JSON file, its record (array, place, id),
  the CSV line being the row's own and the field the column as the header names it.
- The web import page (a zip and a JSON upload) lists the same three, then says each in Spanish,
  Portuguese and French at the same place.
- Nothing is written, whichever the container.

Before, a zip with an unknown member was refused with that one problem (the others came one
upload later), and a JSON file's problems all said ``line 1`` whichever record they were in.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.bundle import TABLES, BundleError, import_bundle
from sscmatch.bundle.format import PLACES
from sscmatch.vocab import load_vocabulary
from tests.web.test_fuzz_api import JOB_TABLES, table_digest
from tests.web.test_import_problems_translated import (
    LANGUAGES,
    Reader,
    _catalogue,
    _problem_lines,
    _said,
)

GOOD: dict[str, dict[str, Any]] = {
    "themes": {"id": "t-x", "label_en": "A theme", "description": "two\nlines"},
    "institutions": {"id": "i-x", "name": "An institution", "country": "BRA", "source": "a\nb"},
    "capacities": {
        "id": "c-x",
        "country": "BRA",
        "title": "A capacity",
        "themes": ["labour-inspection"],
        "description": "two\nlines",
    },
    "needs": {
        "id": "n-x",
        "country": "GTM",
        "title": "A need",
        "themes": ["labour-inspection"],
        "description": "two\nlines",
    },
    "exchanges": {
        "id": "e-x",
        "start": "2019",
        "providers": ["BRA"],
        "recipients": ["GTM"],
        "themes": ["labour-inspection"],
        "description": "two\nlines",
    },
    "commitments": {
        "id": "k-x",
        "owner_country": "BRA",
        "description": "two\nlines",
    },
}
"""A valid record of each table (one of its fields spans two lines)."""

BAD: dict[str, tuple[str, Any]] = {
    "themes": ("parent", "no-such-theme"),
    "institutions": ("constituency", "guild"),
    "capacities": ("max_per_year", "many"),
    "needs": ("country", "Atlantis"),
    "exchanges": ("direction", "sideways"),
    "commitments": ("status", "maybe"),
}
"""The one field each table's planted record gets wrong, and how."""

CONTAINERS = ("folder", "zip", "json-one-line", "json-lines")


def _records(table: str, bad: bool) -> list[dict[str, Any]]:
    """Three records: two good ones (the second spanning two lines), then the planted one."""
    good = GOOD[table]
    first = {**good, "id": f"{good['id']}-1"}
    first.update({k: "one line" for k in ("description", "source") if k in good})
    records = [first, {**good, "id": f"{good['id']}-2"}]
    field, value = BAD[table] if bad else ("id", f"{good['id']}-3")
    records.append({**good, "id": f"{good['id']}-3", field: value})
    return records


def _csv(table: str, records: list[dict[str, Any]]) -> str:
    header = list(dict.fromkeys(k for r in records for k in r))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for i, record in enumerate(records):
        if i == len(records) - 1:
            buffer.write("\n")  # a blank line before the last row
        writer.writerow(
            [";".join(v) if isinstance(v, list) else v for v in (record.get(k, "") for k in header)]
        )
    return buffer.getvalue()


def _bundles() -> Iterator[tuple[str, str, dict[str, list[dict[str, Any]]]]]:
    """Each table with a problem, beside the next table's: (label, the two tables, tables)."""
    for i, table in enumerate(TABLES):
        other = TABLES[(i + 1) % len(TABLES)]
        yield (
            f"{table}+{other}",
            table,
            {t: _records(t, bad=t in (table, other)) for t in TABLES},
        )


def _write(container: str, tables: dict[str, list[dict[str, Any]]], folder: Path) -> Path:
    """The bundle in ``container`` under ``folder``, with an unknown member."""
    if container.startswith("json"):
        document: dict[str, Any] = {**tables, "people": []}
        path = folder / "bundle.json"
        indent = 1 if container == "json-lines" else None
        path.write_text(json.dumps(document, indent=indent), encoding="utf-8")
        return path
    files = {f"{t}.csv": _csv(t, rows) for t, rows in tables.items()}
    files["people.csv"] = "id,name\np1,Someone\n"
    if container == "zip":
        path = folder / "bundle.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return path
    path = folder / "bundle"
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def _json_line(text: str, record_id: str, field: str) -> int:
    """The line of ``field`` in the record of ``record_id`` (or of a top-level key), found in
    the text as a person would: the record's id, then the field after it."""
    start = text.index(f'"id": "{record_id}"') if record_id else 0
    at = text.index(f'"{field}":', start)
    return text.count("\n", 0, at) + 1


def _expected(
    container: str, path: Path, tables: dict[str, list[dict[str, Any]]], name: str
) -> set[tuple[str, int, str, str]]:
    """Every problem of the bundle as (file, line, record, field): the two planted, the unknown
    member. ``name``: what the bundle is called where it is reported (the upload's name)."""
    out = set()
    text = path.read_text(encoding="utf-8") if container.startswith("json") else ""
    for table, rows in tables.items():
        planted = [(i, r) for i, r in enumerate(rows) if BAD[table][0] in r]
        for index, record in planted:
            field = BAD[table][0]
            if record[field] != BAD[table][1]:
                continue
            if container.startswith("json"):
                record_name = f"{table}[{index}] (id '{record['id']}')"
                out.add((name, _json_line(text, record["id"], field), record_name, field))
            else:
                # the header, the first row, the second's two lines, a blank line: line 6
                out.add((f"{table}.csv", 6, "", field))
    if container.startswith("json"):
        out.add((name, _json_line(text, "", "people"), "", "people"))
    else:
        out.add(("people.csv", 1, "", "file"))
    return out


def test_every_problem_of_every_table_in_every_container_at_once(
    app: Flask, tmp_path: Path
) -> None:
    engine = app.extensions["sscmatch.engine"]
    vocab = load_vocabulary()
    before = table_digest(engine)
    wrong: list[str] = []
    for label, _table, tables in _bundles():
        for container in CONTAINERS:
            folder = tmp_path / f"{label}-{container}"
            folder.mkdir()
            path = _write(container, tables, folder)
            with Session(engine) as s, pytest.raises(BundleError) as refused:
                import_bundle(s, path, vocab)
            found = [
                (p.file, p.line, getattr(p, "record", ""), p.field) for p in refused.value.problems
            ]
            expected = _expected(container, path, tables, path.name)
            if sorted(found) != sorted(expected):
                wrong.append(f"{label} in a {container}: {sorted(found)} != {sorted(expected)}")
    assert wrong == [], "\n".join(wrong)
    assert table_digest(engine) == before


def test_the_command_line_lists_them_all_and_reads_a_zip(runner: Any, tmp_path: Path) -> None:
    _label, _table, tables = next(_bundles())
    path = _write("zip", tables, tmp_path)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if re.match(r"^\S+:\d+: ", line)]
    places = {tuple(line.split(": ")[0:2]) for line in lines}
    assert places == {("themes.csv:6", "parent"), ("institutions.csv:6", "constituency"),
                      ("people.csv:1", "file")}, result.output  # fmt: skip
    assert "3 problem(s) found; nothing was imported." in result.output


LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?:(?P<record>\w+\[\d+\](?: \(id '[^']*'\))?): )?"
    r"(?P<field>[^:]+?): (?P<message>.*)$",
    re.S,
)


def test_the_import_page_lists_them_all_in_the_readers_language(
    app: Flask, users: dict[str, int], as_user: Any, tmp_path: Path
) -> None:
    engine = app.extensions["sscmatch.engine"]
    reader = Reader(app, as_user("secretariat"))
    before = table_digest(engine, skip=JOB_TABLES)
    wrong: list[str] = []
    for label, _table, tables in _bundles():
        for container in ("zip", "json-one-line"):
            folder = tmp_path / f"{label}-{container}"
            folder.mkdir()
            path = _write(container, tables, folder)
            upload = f"{label}{path.suffix}"
            reader.speak("en")
            page, job = reader.upload(upload, path.read_bytes())
            assert job is not None, f"{label} {container}: refused at the form"
            english = [LINE.match(line) for line in _problem_lines(page)]
            assert all(english), _problem_lines(page)
            found = {
                (m["file"], int(m["line"]), m["record"] or "", m["field"]) for m in english if m
            }
            expected = _expected(container, path, tables, upload)
            if found != expected or len(english) != len(expected):
                wrong.append(f"{label} {container}: {sorted(found)} != {sorted(expected)}")
            for lang in LANGUAGES:
                reader.speak(lang)
                said = [LINE.match(line) for line in _problem_lines(reader.job_page(job))]
                for en, other in zip(english, said, strict=True):
                    assert en is not None
                    where = f"{label} {container} [{lang}] {en.group(0)[:80]!r}"
                    if other is None:
                        wrong.append(f"{where}: unreadable line")
                        continue
                    if other.group("file", "line", "record") != en.group("file", "line", "record"):
                        wrong.append(f"{where}: at another place {other.group(0)[:80]!r}")
                    field = _catalogue(lang)[en["field"]] if en["field"] in PLACES else en["field"]
                    if other["field"] != field:
                        wrong.append(f"{where}: field said {other['field']!r}, not {field!r}")
                    if other["message"] == en["message"] or not any(
                        p.fullmatch(other["message"]) for p in _said(lang)
                    ):
                        wrong.append(f"{where}: {other['message']!r} is not said in {lang}")
    assert wrong == [], "\n".join(wrong)
    assert table_digest(engine, skip=JOB_TABLES) == before


def test_a_check_of_the_whole_record_about_one_column_names_that_column(
    app: Flask, tmp_path: Path
) -> None:
    """A record with neither a country nor an institution (each table a body may hold): the
    problem names the country column as the header has it, at the row's line, not "record"."""
    from sscmatch.bundle.format import BODY_HELD

    engine = app.extensions["sscmatch.engine"]
    folder = tmp_path / "bundle"
    folder.mkdir()
    for table, (country, institution) in BODY_HELD.items():
        record = {**_records(table, bad=False)[0], country: "", institution: ""}
        (folder / f"{table}.csv").write_text(_csv(table, [record]), encoding="utf-8")
    with Session(engine) as s, pytest.raises(BundleError) as refused:
        import_bundle(s, folder, load_vocabulary())
    found = {(p.file, p.line, p.field) for p in refused.value.problems}
    # the header, a blank line, the row
    assert found == {(f"{t}.csv", 3, country) for t, (country, _i) in BODY_HELD.items()}
